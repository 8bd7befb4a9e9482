#include "runners/study/results.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

namespace rimlab::study {

namespace {

using nlohmann::json;

json ScoreJson(const SplitScore& s) {
  return {{"episodes", s.episodes},
          {"success_rate", s.success},
          {"success_ci95", {s.success_low, s.success_high}},
          {"return_mean", s.return_mean},
          {"return_ci95", s.return_ci95},
          {"length_mean", s.length_mean}};
}

SplitScore ScoreFrom(const json& j, const std::string& split, const std::string& path) {
  SplitScore s;
  s.split = split;
  try {
    s.episodes = j.at("episodes").get<int>();
    s.success = j.at("success_rate").get<double>();
    s.success_low = j.at("success_ci95").at(0).get<double>();
    s.success_high = j.at("success_ci95").at(1).get<double>();
    s.return_mean = j.at("return_mean").get<double>();
    s.return_ci95 = j.at("return_ci95").get<double>();
    s.length_mean = j.at("length_mean").get<double>();
  } catch (const json::exception& e) {
    throw std::invalid_argument(path + ": split '" + split + "': " + e.what());
  }
  return s;
}

std::string Num(double v) {
  if (!std::isfinite(v)) return "";
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}

}  // namespace

const SplitScore* CellResult::Find(const std::string& split) const {
  for (const auto& s : splits) {
    if (s.split == split) return &s;
  }
  return nullptr;
}

std::string CellResultJson(const CellResult& cell) {
  json doc;
  doc["cell"] = cell.id;
  doc["variant"] = cell.variant;
  doc["seed"] = cell.seed;
  doc["frames"] = cell.frames;
  doc["checkpoint"] = cell.checkpoint;
  json order = json::array();
  for (const auto& s : cell.splits) {
    doc["splits"][s.split] = ScoreJson(s);
    order.push_back(s.split);
  }
  doc["split_order"] = order;
  return doc.dump(2) + "\n";
}

CellResult ParseCellResult(const std::string& text, const std::string& path) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) {
    throw std::invalid_argument(path + ": not a cell result (" + std::string(e.what()) + ")");
  }
  CellResult c;
  try {
    c.id = doc.at("cell").get<std::string>();
    c.variant = doc.at("variant").get<std::string>();
    c.seed = doc.at("seed").get<int64_t>();
    c.frames = doc.at("frames").get<int64_t>();
    c.checkpoint = doc.at("checkpoint").get<std::string>();
    for (const auto& name : doc.at("split_order")) {
      const std::string split = name.get<std::string>();
      c.splits.push_back(ScoreFrom(doc.at("splits").at(split), split, path));
    }
  } catch (const json::exception& e) {
    throw std::invalid_argument(path + ": " + e.what());
  }
  return c;
}

std::string ResultsCsv(const StudyResults& results) {
  std::ostringstream out;
  out << "study,cell,variant,seed,split,frames,episodes,success,success_low,success_high,"
         "return_mean,return_ci95,length_mean\n";
  for (const auto& c : results.cells) {
    for (const auto& split : results.splits) {
      const SplitScore* s = c.Find(split);
      if (s == nullptr) continue;
      out << results.name << ',' << c.id << ',' << c.variant << ',' << c.seed << ',' << split << ','
          << c.frames << ',' << s->episodes << ',' << Num(s->success) << ',' << Num(s->success_low)
          << ',' << Num(s->success_high) << ',' << Num(s->return_mean) << ',' << Num(s->return_ci95)
          << ',' << Num(s->length_mean) << '\n';
    }
  }
  return out.str();
}

std::string RandomScoresJson(const std::map<std::string, SplitScore>& random) {
  json doc = json::object();
  for (const auto& kv : random) doc[kv.first] = ScoreJson(kv.second);
  return doc.dump(2) + "\n";
}

std::map<std::string, SplitScore> ParseRandomScores(const std::string& text,
                                                    const std::string& path) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) {
    throw std::invalid_argument(path + ": not a random policy's scores (" + e.what() + ")");
  }
  std::map<std::string, SplitScore> out;
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    out[it.key()] = ScoreFrom(it.value(), it.key(), path);
  }
  return out;
}

std::vector<std::pair<int64_t, double>> ReadSuccessCurve(const std::string& metrics_csv) {
  std::vector<std::pair<int64_t, double>> curve;
  std::ifstream in(metrics_csv);
  if (!in) return curve;
  std::string line;
  if (!std::getline(in, line)) return curve;
  auto split = [](const std::string& s) {
    std::vector<std::string> fields;
    std::string f;
    std::istringstream is(s);
    while (std::getline(is, f, ',')) fields.push_back(f);
    if (!s.empty() && s.back() == ',') fields.emplace_back();
    return fields;
  };
  const auto header = split(line);
  int column = -1;
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == "success_rate") column = static_cast<int>(i);
  }
  if (column < 0) return curve;
  while (std::getline(in, line)) {
    const auto fields = split(line);
    if (fields.size() != header.size() || fields[static_cast<size_t>(column)].empty()) continue;
    try {
      curve.emplace_back(std::stoll(fields[0]), std::stod(fields[static_cast<size_t>(column)]));
    } catch (const std::exception&) {
      continue;  // a torn last row of a run still writing
    }
  }
  return curve;
}

}  // namespace rimlab::study
