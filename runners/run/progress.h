#pragma once
/// The one-line training progress display: frames, FPS, mean return, success, elapsed and ETA.
/// On a terminal it rewrites one line in place; otherwise (CI, pipes, files) it prints a full
/// line every `interval_seconds`, so logs stay short.

#include <cstdint>
#include <string>

namespace rimlab {

/// "frames 204,800/2,000,000 (10.2%)  fps 9,130  return 0.62  success 0.71  elapsed 0:22  eta
/// 3:17"; NaN fps, return or success shows as "-"; total_frames <= 0 (unknown) leaves out the
/// total, the percentage and the ETA.
std::string FormatProgress(int64_t frames, int64_t total_frames, double fps, double mean_return,
                           double success_rate, double elapsed_seconds);
/// 1234567 -> "1,234,567".
std::string FormatCount(int64_t n);
/// Seconds -> "m:ss" or "h:mm:ss".
std::string FormatDuration(double seconds);

/// Writes to stdout: in place on a terminal (at most 5 times a second), else a full line at
/// most every `interval_seconds` of the elapsed time passed to Update.
class ProgressLine {
 public:
  explicit ProgressLine(int64_t total_frames, double interval_seconds = 10.0);
  /// Ends a line left open on a terminal, so an error printed next starts on its own line.
  ~ProgressLine();
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;
  void Update(int64_t frames, double fps, double mean_return, double success_rate,
              double elapsed_seconds);
  /// Ends an in-place line with a newline (prints the last state when nothing was shown yet).
  void Finish();

 private:
  int64_t total_;
  double interval_;
  bool tty_;
  double last_shown_ = -1e300;
  bool open_line_ = false;
  std::string last_;
};

}  // namespace rimlab
