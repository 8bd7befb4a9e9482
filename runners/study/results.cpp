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

json ScoreJson(const SplitScore& s, Metric metric) {
  if (metric == Metric::kRolloutBce) {
    return {{"sequences", s.episodes},
            {"rollout_bce", s.score},
            {"rollout_bce_ci95", {s.low, s.high}},
            {"bce_per_step", s.per_step}};
  }
  return {{"episodes", s.episodes},          {"success_rate", s.score},
          {"success_ci95", {s.low, s.high}}, {"return_mean", s.return_mean},
          {"return_ci95", s.return_ci95},    {"length_mean", s.length_mean}};
}

SplitScore ScoreFrom(const json& j, const std::string& split, const std::string& path,
                     Metric metric) {
  SplitScore s;
  s.split = split;
  try {
    if (metric == Metric::kRolloutBce) {
      s.episodes = j.at("sequences").get<int>();
      s.score = j.at("rollout_bce").get<double>();
      s.low = j.at("rollout_bce_ci95").at(0).get<double>();
      s.high = j.at("rollout_bce_ci95").at(1).get<double>();
      s.per_step = j.at("bce_per_step").get<std::vector<double>>();
      if (s.per_step.empty()) throw std::invalid_argument("bce_per_step is empty");
      return s;
    }
    s.episodes = j.at("episodes").get<int>();
    s.score = j.at("success_rate").get<double>();
    s.low = j.at("success_ci95").at(0).get<double>();
    s.high = j.at("success_ci95").at(1).get<double>();
    s.return_mean = j.at("return_mean").get<double>();
    s.return_ci95 = j.at("return_ci95").get<double>();
    s.length_mean = j.at("length_mean").get<double>();
  } catch (const json::exception& e) {
    throw std::invalid_argument(path + ": split '" + split + "': " + e.what());
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(path + ": split '" + split + "': " + e.what());
  }
  return s;
}

Metric MetricFromId(const std::string& id, const std::string& path) {
  if (id == "success") return Metric::kSuccess;
  if (id == "rollout_bce") return Metric::kRolloutBce;
  throw std::invalid_argument(path + ": unknown metric '" + id +
                              "' (expected success or rollout_bce)");
}

std::string Num(double v) {
  if (!std::isfinite(v)) return "";
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}

}  // namespace

bool HigherIsBetter(Metric m) {
  return m == Metric::kSuccess;
}

std::string MetricName(Metric m) {
  return m == Metric::kSuccess ? "success" : "rollout BCE";
}

std::string ReferenceName(Metric m) {
  return m == Metric::kSuccess ? "random policy" : "mean frame";
}

const char* MetricFormat(Metric m) {
  return m == Metric::kSuccess ? "%.3f" : "%.1f";
}

std::string MetricId(Metric m) {
  return m == Metric::kSuccess ? "success" : "rollout_bce";
}

const SplitScore* CellResult::Find(const std::string& split) const {
  for (const auto& s : splits) {
    if (s.split == split) return &s;
  }
  return nullptr;
}

std::string CellResultJson(const CellResult& cell) {
  json doc;
  doc["metric"] = MetricId(cell.metric);
  doc["cell"] = cell.id;
  doc["variant"] = cell.variant;
  doc["seed"] = cell.seed;
  doc["frames"] = cell.frames;
  doc["checkpoint"] = cell.checkpoint;
  json order = json::array();
  for (const auto& s : cell.splits) {
    doc["splits"][s.split] = ScoreJson(s, cell.metric);
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
    if (doc.contains("metric")) c.metric = MetricFromId(doc.at("metric").get<std::string>(), path);
    c.id = doc.at("cell").get<std::string>();
    c.variant = doc.at("variant").get<std::string>();
    c.seed = doc.at("seed").get<int64_t>();
    c.frames = doc.at("frames").get<int64_t>();
    c.checkpoint = doc.at("checkpoint").get<std::string>();
    for (const auto& name : doc.at("split_order")) {
      const std::string split = name.get<std::string>();
      c.splits.push_back(ScoreFrom(doc.at("splits").at(split), split, path, c.metric));
    }
  } catch (const json::exception& e) {
    throw std::invalid_argument(path + ": " + e.what());
  }
  return c;
}

std::string ResultsCsv(const StudyResults& results) {
  const bool bce = results.metric == Metric::kRolloutBce;
  std::ostringstream out;
  out << (bce ? "study,cell,variant,seed,split,sequences_trained,test_sequences,rollout_bce,"
                "rollout_bce_low,rollout_bce_high,bce_first_step,bce_last_step,rollout_steps\n"
              : "study,cell,variant,seed,split,frames,episodes,success,success_low,success_high,"
                "return_mean,return_ci95,length_mean\n");
  for (const auto& c : results.cells) {
    for (const auto& split : results.splits) {
      const SplitScore* s = c.Find(split);
      if (s == nullptr) continue;
      out << results.name << ',' << c.id << ',' << c.variant << ',' << c.seed << ',' << split << ','
          << c.frames << ',' << s->episodes << ',' << Num(s->score) << ',' << Num(s->low) << ','
          << Num(s->high) << ',';
      if (bce) {
        out << Num(s->per_step.empty() ? NAN : s->per_step.front()) << ','
            << Num(s->per_step.empty() ? NAN : s->per_step.back()) << ',' << s->per_step.size()
            << '\n';
      } else {
        out << Num(s->return_mean) << ',' << Num(s->return_ci95) << ',' << Num(s->length_mean)
            << '\n';
      }
    }
  }
  return out.str();
}

std::string RandomScoresJson(const std::map<std::string, SplitScore>& random, Metric metric) {
  json doc = json::object();
  for (const auto& kv : random) doc[kv.first] = ScoreJson(kv.second, metric);
  return doc.dump(2) + "\n";
}

std::map<std::string, SplitScore> ParseRandomScores(const std::string& text,
                                                    const std::string& path, Metric metric) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) {
    throw std::invalid_argument(path + ": not a reference's scores (" + e.what() + ")");
  }
  std::map<std::string, SplitScore> out;
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    out[it.key()] = ScoreFrom(it.value(), it.key(), path, metric);
  }
  return out;
}

std::vector<std::pair<int64_t, double>> ReadCurve(const std::string& metrics_csv,
                                                  const std::string& wanted) {
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
    if (header[i] == wanted) column = static_cast<int>(i);
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

std::vector<std::pair<int64_t, double>> ReadLearningCurve(const std::string& metrics_csv,
                                                          Metric metric) {
  return ReadCurve(metrics_csv, metric == Metric::kSuccess ? "success_rate" : "valid_bce");
}

}  // namespace rimlab::study
