#include "runners/run/metrics_csv.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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
  if (columns_.empty()) throw std::runtime_error(path_ + ": expected at least one column");
  for (const auto& c : columns_) {
    // Names are written unquoted, so they must not need CSV quoting.
    if (c.empty() || c.find_first_of(",\"\r\n") != std::string::npos) {
      throw std::runtime_error(path_ + ": column name '" + c +
                               "': expected a non-empty name without commas, quotes or newlines");
    }
  }
  const std::string header = CsvHeader(columns_);
  std::error_code ec;
  if (mode == Mode::kCreate) {
    // O_EXCL makes "does not exist" and "create" one step: two runs can never share the file.
    const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0 && errno == EEXIST) {
      throw std::runtime_error(path_ + ": already exists; a new run never overwrites one");
    }
    if (fd < 0) throw std::runtime_error(path_ + ": cannot create: " + std::strerror(errno));
    ::close(fd);
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
  int line_number = 1;
  while (std::getline(in, line)) {
    ++line_number;
    // A last line without its newline is a row torn by a crash mid-write: never part of a
    // checkpoint, and its frame count may be cut short, so it is dropped before parsing.
    if (in.eof()) break;
    if (line.empty()) continue;
    const size_t comma = line.find(',');
    const std::string first = line.substr(0, comma);
    char* end = nullptr;
    errno = 0;
    const long long frames = std::strtoll(first.c_str(), &end, 10);
    if (first.empty() || *end != '\0' || errno == ERANGE) {
      throw std::runtime_error(path_ + ":" + std::to_string(line_number) +
                               ": cannot resume: expected an integer frame count in the first "
                               "column, found '" +
                               first + "'");
    }
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
    throw std::runtime_error(path_ + ": expected a row of " + std::to_string(columns_.size()) +
                             " values (" + CsvHeader(columns_) + "), got " +
                             std::to_string(values.size()));
  }
  for (size_t i = 0; i < values.size(); ++i) out_ << (i ? "," : "") << CsvValue(values[i]);
  out_ << '\n';
  out_.flush();
  if (!out_) throw std::runtime_error(path_ + ": cannot write a row (disk full?)");
}

}  // namespace rimlab
