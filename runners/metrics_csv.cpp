#include "runners/metrics_csv.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <stdexcept>

namespace rimlab {

std::string CsvHeader(const std::vector<std::string>& columns) {
  std::string h;
  for (size_t i = 0; i < columns.size(); ++i) h += (i ? "," : "") + columns[i];
  return h;
}

std::string CsvValue(double v) {
  if (std::isnan(v)) return "";
  char buf[64];
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof(buf), "%lld", static_cast<long long>(v));
  } else {
    std::snprintf(buf, sizeof(buf), "%.9g", v);
  }
  return buf;
}

MetricsCsv::MetricsCsv(std::string path, std::vector<std::string> columns, Mode mode,
                       int64_t keep_up_to)
    : path_(std::move(path)), columns_(std::move(columns)) {
  namespace fs = std::filesystem;
  const std::string header = CsvHeader(columns_);
  std::error_code ec;
  if (mode == Mode::kCreate) {
    if (fs::exists(path_, ec)) {
      throw std::runtime_error(path_ + ": already exists; a new run never overwrites one");
    }
    out_.open(path_);
    if (!out_) throw std::runtime_error(path_ + ": cannot create");
    out_ << header << '\n';
    out_.flush();
    return;
  }
  std::ifstream in(path_);
  if (!in) throw std::runtime_error(path_ + ": cannot resume: the file is missing");
  std::string line;
  std::getline(in, line);
  if (line != header) {
    throw std::runtime_error(path_ + ": cannot resume: expected the header '" + header +
                             "', found '" + line + "'");
  }
  // Keep the rows up to the checkpoint, through a temporary file renamed over the old one.
  std::ostringstream kept;
  kept << header << '\n';
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const long long frames = std::strtoll(line.c_str(), nullptr, 10);
    if (frames <= keep_up_to) kept << line << '\n';
  }
  in.close();
  const std::string tmp = path_ + ".tmp";
  {
    std::ofstream t(tmp, std::ios::trunc);
    t << kept.str();
    if (!t.flush()) throw std::runtime_error(tmp + ": cannot write");
  }
  fs::rename(tmp, path_, ec);
  if (ec) throw std::runtime_error(path_ + ": cannot replace: " + ec.message());
  out_.open(path_, std::ios::app);
  if (!out_) throw std::runtime_error(path_ + ": cannot append");
}

void MetricsCsv::Write(const std::vector<double>& values) {
  if (values.size() != columns_.size()) {
    throw std::logic_error(path_ + ": row of " + std::to_string(values.size()) + " values for " +
                           std::to_string(columns_.size()) + " columns");
  }
  for (size_t i = 0; i < values.size(); ++i) out_ << (i ? "," : "") << CsvValue(values[i]);
  out_ << '\n';
  out_.flush();
}

}  // namespace rimlab
