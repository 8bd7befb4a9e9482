// Training logs (runners/tensorboard.h, metrics_csv.h, progress.h): event files read back
// exactly, corruption detected, metrics.csv never overwritten and truncated exactly on resume.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "runners/metrics_csv.h"
#include "runners/progress.h"
#include "runners/tensorboard.h"

namespace fs = std::filesystem;

namespace {

fs::path FreshDir(const std::string& name) {
  const auto dir = fs::temp_directory_path() / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string Slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("CRC32C matches the published check value") {
  const std::string s = "123456789";
  CHECK(rimlab::Crc32c(s.data(), s.size()) == 0xE3069283u);
  CHECK(rimlab::Crc32c("", 0) == 0u);
}

TEST_CASE("TensorBoard scalars are read back exactly, in order") {
  const auto dir = FreshDir("rimlab_test_tb");
  std::string path;
  {
    rimlab::TensorBoardWriter w(dir.string());
    path = w.path();
    w.AddScalar("charts/SPS", 128, 9130.5, 1000.25);
    w.AddScalars(256, {{"losses/policy_loss", -0.125}, {"losses/entropy", 1.9375}}, 1001.5);
    w.AddScalar("charts/episodic_return", int64_t{1} << 40, 0.1, 1002.0);
  }
  CHECK(fs::path(path).filename().string().rfind("events.out.tfevents.", 0) == 0);
  const auto events = rimlab::ReadTensorBoardScalars(path);
  REQUIRE(events.size() == 4);
  CHECK(events[0].tag == "charts/SPS");
  CHECK(events[0].step == 128);
  CHECK(events[0].value == 9130.5);
  CHECK(events[0].wall_time == 1000.25);
  CHECK(events[1].tag == "losses/policy_loss");
  CHECK(events[2].tag == "losses/entropy");
  CHECK(events[2].step == 256);
  CHECK(events[2].value == 1.9375);
  CHECK(events[3].step == int64_t{1} << 40);
  CHECK(events[3].value == static_cast<double>(0.1f));  // simple_value is a float
  // A second writer in the same directory never reuses the file.
  rimlab::TensorBoardWriter again(dir.string());
  CHECK(again.path() != path);
  fs::remove_all(dir);
}

TEST_CASE("a corrupted or truncated event file is refused, naming the file") {
  const auto dir = FreshDir("rimlab_test_tb_bad");
  std::string path;
  {
    rimlab::TensorBoardWriter w(dir.string());
    path = w.path();
    w.AddScalar("a", 1, 2.0);
  }
  const std::string good = Slurp(path);
  for (size_t at : {size_t{3}, size_t{10}, good.size() - 6, good.size() - 1}) {
    std::string bad = good;
    bad[at] = static_cast<char>(bad[at] ^ 0x40);
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bad;
    CHECK_THROWS_WITH(rimlab::ReadTensorBoardScalars(path), Catch::Contains(path));
  }
  std::ofstream(path, std::ios::binary | std::ios::trunc) << good.substr(0, good.size() - 2);
  CHECK_THROWS_WITH(rimlab::ReadTensorBoardScalars(path), Catch::Contains("truncated"));
  fs::remove_all(dir);
}

TEST_CASE("metrics.csv: created once, resumed after exactly the checkpoint's rows") {
  const auto dir = FreshDir("rimlab_test_csv");
  const std::string path = (dir / "metrics.csv").string();
  const std::vector<std::string> cols = {"frames", "loss", "return"};
  {
    rimlab::MetricsCsv csv(path, cols, rimlab::MetricsCsv::Mode::kCreate);
    csv.Write({100, 0.5, NAN});
    csv.Write({200, 1.0 / 3.0, 2.0});
    csv.Write({300, 1e-12, -4.0});
  }
  CHECK(Slurp(path) == "frames,loss,return\n100,0.5,\n200,0.333333333,2\n300,1e-12,-4\n");
  CHECK_THROWS_WITH(rimlab::MetricsCsv(path, cols, rimlab::MetricsCsv::Mode::kCreate),
                    Catch::Contains(path) && Catch::Contains("already exists"));
  CHECK(Slurp(path).size() > 20);  // the refused create left the file alone
  {
    rimlab::MetricsCsv csv(path, cols, rimlab::MetricsCsv::Mode::kResume, 200);
    csv.Write({250, 7.0, 8.0});
  }
  CHECK(Slurp(path) == "frames,loss,return\n100,0.5,\n200,0.333333333,2\n250,7,8\n");
  CHECK_THROWS_WITH(
      rimlab::MetricsCsv(path, {"frames", "other"}, rimlab::MetricsCsv::Mode::kResume, 0),
      Catch::Contains("expected the header"));
  CHECK_THROWS_WITH(
      rimlab::MetricsCsv((dir / "none.csv").string(), cols, rimlab::MetricsCsv::Mode::kResume, 0),
      Catch::Contains("missing"));
  rimlab::MetricsCsv csv(path, cols, rimlab::MetricsCsv::Mode::kResume, 1000);
  CHECK_THROWS(csv.Write({1.0}));
  fs::remove_all(dir);
}

TEST_CASE("the progress line: counts, percent, ETA, missing values") {
  CHECK(rimlab::FormatCount(0) == "0");
  CHECK(rimlab::FormatCount(999) == "999");
  CHECK(rimlab::FormatCount(1000) == "1,000");
  CHECK(rimlab::FormatCount(2000896) == "2,000,896");
  CHECK(rimlab::FormatDuration(0) == "0:00");
  CHECK(rimlab::FormatDuration(196) == "3:16");
  CHECK(rimlab::FormatDuration(3 * 3600 + 61) == "3:01:01");
  CHECK(rimlab::FormatDuration(NAN) == "-");
  CHECK(rimlab::FormatProgress(204800, 2000000, 9130, 0.62, 0.71, 22) ==
        "frames 204,800/2,000,000 (10.2%)  fps 9,130  return 0.62  success 0.71  elapsed 0:22  "
        "eta 3:17");
  const std::string none = rimlab::FormatProgress(0, 100, 0, NAN, NAN, 0);
  CHECK(none.find("return -  success -") != std::string::npos);
  CHECK(none.find("eta -") != std::string::npos);
}
