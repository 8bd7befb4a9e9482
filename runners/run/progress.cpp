#include "runners/run/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace rimlab {

std::string FormatCount(int64_t n) {
  // Through unsigned, because -INT64_MIN overflows.
  const uint64_t magnitude = n < 0 ? 0 - static_cast<uint64_t>(n) : static_cast<uint64_t>(n);
  const std::string digits = std::to_string(magnitude);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string FormatDuration(double seconds) {
  // An ETA from a near-zero fps can be astronomically large; the cast below must stay defined.
  if (!std::isfinite(seconds) || seconds < 0 || seconds > 1e15) return "-";
  const auto s = static_cast<long long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof(buf), "%lld:%02lld:%02lld", s / 3600, (s / 60) % 60, s % 60);
  } else {
    std::snprintf(buf, sizeof(buf), "%lld:%02lld", s / 60, s % 60);
  }
  return buf;
}

std::string FormatProgress(int64_t frames, int64_t total, double fps, double mean_return,
                           double success_rate, double elapsed) {
  const double share =
      total > 0 ? 100.0 * static_cast<double>(frames) / static_cast<double>(total) : 0.0;
  const auto num = [](double v) {
    if (std::isnan(v)) return std::string("-");
    char b[32];
    std::snprintf(b, sizeof(b), "%.2f", v);
    return std::string(b);
  };
  const double eta = fps > 0 ? static_cast<double>(total > frames ? total - frames : 0) / fps : NAN;
  // Bounded so the cast stays defined whatever the caller measured.
  const bool fps_known = std::isfinite(fps) && std::fabs(fps) < 1e18;
  const std::string fps_text = fps_known ? FormatCount(std::llround(fps)) : "-";
  std::string text = "frames " + FormatCount(frames);
  if (total > 0) {
    char pct[32];
    std::snprintf(pct, sizeof(pct), "%.1f%%", share);
    text += "/" + FormatCount(total) + " (" + pct + ")";
  }
  text += "  fps " + fps_text + "  return " + num(mean_return) + "  success " + num(success_rate) +
          "  elapsed " + FormatDuration(elapsed);
  if (total > 0) text += "  eta " + FormatDuration(eta);
  return text;
}

ProgressLine::ProgressLine(int64_t total_frames, double interval_seconds)
    : total_(total_frames), interval_(interval_seconds), tty_(isatty(STDOUT_FILENO) != 0) {}

ProgressLine::~ProgressLine() {
  if (open_line_) Finish();
}

void ProgressLine::Update(int64_t frames, double fps, double mean_return, double success_rate,
                          double elapsed) {
  last_ = FormatProgress(frames, total_, fps, mean_return, success_rate, elapsed);
  const double min_gap = tty_ ? 0.2 : interval_;
  if (elapsed - last_shown_ < min_gap) return;
  last_shown_ = elapsed;
  if (tty_) {
    std::printf("\r%s\033[K", last_.c_str());
    open_line_ = true;
  } else {
    std::printf("%s\n", last_.c_str());
    last_.clear();  // shown: Finish need not repeat it
  }
  std::fflush(stdout);
}

void ProgressLine::Finish() {
  if (tty_ && !last_.empty()) {
    std::printf("\r%s\033[K\n", last_.c_str());
  } else if (!tty_ && !last_.empty()) {
    std::printf("%s\n", last_.c_str());
  }
  open_line_ = false;
  last_.clear();
  std::fflush(stdout);
}

}  // namespace rimlab
