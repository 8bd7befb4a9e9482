#pragma once
/// metrics.csv of a training run: a fixed header, one row per iteration, flushed as written. A new
/// run never overwrites an earlier file; a resumed run drops the rows after its checkpoint so
/// the file continues exactly where the checkpoint left off.

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace rimlab {

class MetricsCsv {
 public:
  enum class Mode {
    kCreate,  ///< the file must not exist
    kResume,  ///< the file must exist with the same header; rows past keep_up_to are dropped
  };
  /// The first column is the frame count, an integer. On resume, rows with a first column above
  /// keep_up_to and a torn last row (no newline) are dropped via a temporary file and a rename.
  /// Column names must need no CSV quoting. Throws std::runtime_error naming the file and what
  /// was expected.
  MetricsCsv(std::string path, std::vector<std::string> columns, Mode mode, int64_t keep_up_to = 0);

  /// One row, columns.size() values, flushed; NaN is written as an empty field, integers without
  /// an exponent, others with 9 significant digits (floats round-trip). Throws
  /// std::runtime_error on a wrong count or a write error.
  void Write(const std::vector<double>& values);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::vector<std::string> columns_;
  std::ofstream out_;
};

/// "frames,iteration,..." for `columns`.
std::string CsvHeader(const std::vector<std::string>& columns);
/// One value as MetricsCsv writes it.
std::string CsvValue(double value);

}  // namespace rimlab
