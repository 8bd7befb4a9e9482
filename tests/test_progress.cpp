// The progress line (runners/run/progress.h) beyond test_logging.cpp: extreme numbers, unknown
// values, and how often a non-terminal log gets a line.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>

#include "runners/run/progress.h"

using rimlab::FormatCount;
using rimlab::FormatDuration;
using rimlab::FormatProgress;

TEST_CASE("counts at the ends of int64", "[progress]") {
  CHECK(FormatCount(-1234567) == "-1,234,567");
  CHECK(FormatCount(std::numeric_limits<int64_t>::max()) == "9,223,372,036,854,775,807");
  CHECK(FormatCount(std::numeric_limits<int64_t>::min()) == "-9,223,372,036,854,775,808");
}

TEST_CASE("durations: minutes, hours past a day, and nonsense", "[progress]") {
  CHECK(FormatDuration(59.4) == "0:59");
  CHECK(FormatDuration(3599) == "59:59");
  CHECK(FormatDuration(100000) == "27:46:40");
  CHECK(FormatDuration(-1) == "-");
  CHECK(FormatDuration(INFINITY) == "-");
  CHECK(FormatDuration(1e300) == "-");
}

TEST_CASE("the line with large, unknown and finished values", "[progress]") {
  CHECK(FormatProgress(1'500'000'000, 2'000'000'000, 123456.7, -12.3456, 1.0, 7261) ==
        "frames 1,500,000,000/2,000,000,000 (75.0%)  fps 123,457  return -12.35  success 1.00  "
        "elapsed 2:01:01  eta 1:07:30");
  // No fps yet: no ETA either.
  CHECK(FormatProgress(0, 1000, NAN, NAN, NAN, 0) ==
        "frames 0/1,000 (0.0%)  fps -  return -  success -  elapsed 0:00  eta -");
  // Past the end the ETA is zero, not negative.
  CHECK(FormatProgress(1200, 1000, 10, 0.5, 0.5, 1).find("(120.0%)") != std::string::npos);
  CHECK(FormatProgress(1200, 1000, 10, 0.5, 0.5, 1).find("eta 0:00") != std::string::npos);
  // Unknown total: no total, percentage or ETA.
  CHECK(FormatProgress(4096, 0, 512, 0.25, NAN, 8) ==
        "frames 4,096  fps 512  return 0.25  success -  elapsed 0:08");
  // A near-zero fps gives an ETA too large to show.
  CHECK(FormatProgress(1, 1'000'000'000, 1e-12, 0, 0, 1).find("eta -") != std::string::npos);
}

TEST_CASE("off a terminal, at most one line per interval and the last state at the end",
          "[progress]") {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "rimlab_progress_XXXXXX").string();
  const int fd = ::mkstemp(pattern.data());
  REQUIRE(fd >= 0);
  // stdout goes to a file for the duration, so ProgressLine sees no terminal.
  std::fflush(stdout);
  const int saved = ::dup(STDOUT_FILENO);
  REQUIRE(saved >= 0);
  REQUIRE(::dup2(fd, STDOUT_FILENO) >= 0);
  {
    rimlab::ProgressLine line(1000, 10.0);
    for (double t : {0.0, 3.0, 9.9, 10.5, 15.0, 20.4, 21.0, 22.0}) {
      line.Update(static_cast<int64_t>(t * 10), 10, NAN, NAN, t);
    }
    line.Finish();
    line.Finish();  // a second Finish prints nothing
  }
  std::fflush(stdout);
  ::dup2(saved, STDOUT_FILENO);
  ::close(saved);
  ::close(fd);

  std::ifstream in(pattern);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::remove(pattern.c_str());
  CHECK(text.find('\r') == std::string::npos);
  CHECK(text ==
        "frames 0/1,000 (0.0%)  fps 10  return -  success -  elapsed 0:00  eta 1:40\n"
        "frames 105/1,000 (10.5%)  fps 10  return -  success -  elapsed 0:11  eta 1:30\n"
        "frames 210/1,000 (21.0%)  fps 10  return -  success -  elapsed 0:21  eta 1:19\n"
        "frames 220/1,000 (22.0%)  fps 10  return -  success -  elapsed 0:22  eta 1:18\n");
}
