// metrics.csv (runners/run/metrics_csv.h) beyond test_logging.cpp: a row torn by a crash, a bad
// frame column, column names, number formats and the error messages.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "runners/run/metrics_csv.h"

namespace fs = std::filesystem;
using rimlab::MetricsCsv;

namespace {

// Unique per process, so the plain and sanitizer builds can run this test at the same time.
fs::path MakeTempDir() {
  std::string pattern = (fs::temp_directory_path() / "rimlab_csv_XXXXXX").string();
  REQUIRE(::mkdtemp(pattern.data()) != nullptr);
  return pattern;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void Spit(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

const std::vector<std::string> kCols = {"frames", "loss"};

}  // namespace

TEST_CASE("numbers: integers without exponent, floats round-trip, NaN empty", "[metrics_csv]") {
  CHECK(rimlab::CsvValue(2e9) == "2000000000");
  CHECK(rimlab::CsvValue(-4096) == "-4096");
  CHECK(rimlab::CsvValue(1.5e-7) == "1.5e-07");
  CHECK(rimlab::CsvValue(std::nan("")) == "");
  CHECK(rimlab::CsvValue(std::numeric_limits<double>::infinity()) == "inf");
  for (float f : {0.1f, 1.0f / 3.0f, 123456.789f, -2.5e-30f, 3.4e38f}) {
    CHECK(std::strtof(rimlab::CsvValue(f).c_str(), nullptr) == f);
  }
}

TEST_CASE("resume drops a row torn by a crash, even below keep_up_to", "[metrics_csv]") {
  const fs::path dir = MakeTempDir();
  const std::string path = (dir / "metrics.csv").string();
  // The crash cut "300,0.25" short: its frame count reads as 3.
  Spit(path, "frames,loss\n100,0.5\n200,0.25\n3");
  {
    MetricsCsv csv(path, kCols, MetricsCsv::Mode::kResume, 250);
    csv.Write({300, 0.125});
  }
  CHECK(Slurp(path) == "frames,loss\n100,0.5\n200,0.25\n300,0.125\n");
  fs::remove_all(dir);
}

TEST_CASE("resume refuses a row whose frame count is not an integer", "[metrics_csv]") {
  const fs::path dir = MakeTempDir();
  const std::string path = (dir / "metrics.csv").string();
  const std::string text = "frames,loss\n100,0.5\n1.5e3,0.25\n";
  Spit(path, text);
  CHECK_THROWS_WITH(MetricsCsv(path, kCols, MetricsCsv::Mode::kResume, 1000),
                    Catch::Contains(path + ":3") && Catch::Contains("integer frame count") &&
                        Catch::Contains("1.5e3"));
  CHECK(Slurp(path) == text);  // a refused resume changes nothing
  fs::remove_all(dir);
}

TEST_CASE("resume keeps rows up to and including keep_up_to, then appends", "[metrics_csv]") {
  const fs::path dir = MakeTempDir();
  const std::string path = (dir / "metrics.csv").string();
  {
    MetricsCsv csv(path, kCols, MetricsCsv::Mode::kCreate);
    for (int frames = 100; frames <= 500; frames += 100) csv.Write({double(frames), 1.0});
  }
  { MetricsCsv csv(path, kCols, MetricsCsv::Mode::kResume, 300); }
  CHECK(Slurp(path) == "frames,loss\n100,1\n200,1\n300,1\n");
  CHECK_FALSE(fs::exists(path + ".tmp"));
  {
    MetricsCsv csv(path, kCols, MetricsCsv::Mode::kResume, 0);
    csv.Write({50, std::nan("")});
  }
  CHECK(Slurp(path) == "frames,loss\n50,\n");
  fs::remove_all(dir);
}

TEST_CASE("bad columns, rows and paths are errors naming the file", "[metrics_csv]") {
  const fs::path dir = MakeTempDir();
  const std::string path = (dir / "metrics.csv").string();
  CHECK_THROWS_WITH(MetricsCsv(path, {"frames", "a,b"}, MetricsCsv::Mode::kCreate),
                    Catch::Contains(path) && Catch::Contains("without commas"));
  CHECK_THROWS_WITH(MetricsCsv(path, {}, MetricsCsv::Mode::kCreate),
                    Catch::Contains("at least one column"));
  CHECK_FALSE(fs::exists(path));
  const std::string nowhere = (dir / "no" / "such" / "metrics.csv").string();
  CHECK_THROWS_WITH(MetricsCsv(nowhere, kCols, MetricsCsv::Mode::kCreate),
                    Catch::Contains(nowhere));

  MetricsCsv csv(path, kCols, MetricsCsv::Mode::kCreate);
  CHECK_THROWS_AS(csv.Write({1, 2, 3}), std::runtime_error);
  CHECK_THROWS_WITH(csv.Write({1, 2, 3}),
                    Catch::Contains(path) && Catch::Contains("expected a row of 2 values"));
  CHECK(Slurp(path) == "frames,loss\n");  // nothing half-written
  fs::remove_all(dir);
}
