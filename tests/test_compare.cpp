// `rimlab compare` end to end, as a user runs it: a tiny study (the bandit, 2 variants x 2 seeds)
// interrupted and resumed gives the uninterrupted study's results.csv byte for byte, as do two
// halves run apart and merged; a RIM study on a small grid analyses its units; bad study files
// end in one line naming the file, the line and the key, with exit status 2.
#include <catch2/catch.hpp>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "tests/cli_run.h"
#include "tests/study_test_util.h"

using cli_test::Lines;
using cli_test::ReadFile;
using cli_test::Result;
using cli_test::Run;
using cli_test::WriteFile;

namespace fs = std::filesystem;

namespace {

const std::string kDir = "build-test-compare";

// The bandit with an LSTM and a GRU; `frames` per cell, checkpoints every 1024 frames.
std::string BanditStudy(long frames) {
  return "study: tiny\nbase: ../configs/bandit_ppo.yaml\nseeds: [1, 2]\ntotal_frames: " +
         std::to_string(frames) +
         "\noverrides: {log.record_episodes: 0}\nvariants:\n  - name: lstm\n  - name: gru\n"
         "    overrides: {core.type: gru}\nbaseline: lstm\n"
         "eval: {episodes: 50, random_episodes: 100, bootstrap_resamples: 200}\n";
}

void Fresh() {
  study_test::FreshDir(kDir);
}

}  // namespace

TEST_CASE("a study interrupted and resumed, or run in halves and merged, gives the same results",
          "[cli][compare]") {
  Fresh();
  const std::string study = kDir + "/tiny.yaml";
  WriteFile(study, BanditStudy(16384));

  const Result cells = Run("compare " + study + " --list-cells");
  REQUIRE(cells.status == 0);
  CHECK(cells.out == "lstm-s1\nlstm-s2\ngru-s1\ngru-s2\n");

  const Result whole = Run("compare " + study + " --out " + kDir + "/whole --jobs 2");
  INFO(whole.out << whole.err);
  REQUIRE(whole.status == 0);
  const std::string expected = ReadFile(kDir + "/whole/results.csv");
  CHECK(Lines(expected) == 1 + 4);  // a header and one row per cell (one split: the bandit)
  CHECK(fs::exists(kDir + "/whole/report.md"));
  CHECK(ReadFile(kDir + "/whole/report.md").find("gru") != std::string::npos);

  // Interrupted once the first cell has checkpointed (Ctrl-C, which the study forwards to its
  // cells), then run again with the same command.
  const std::string out = kDir + "/part.out";
  const std::string status =
      cli_test::RunInterrupted("compare " + study + " --out " + kDir + "/part --jobs 1", out,
                               "ls " + kDir + "/part/cells/lstm-s1/checkpoints/*.pt");
  INFO(ReadFile(out));
  CHECK(status == "130");
  CHECK_FALSE(fs::exists(kDir + "/part/cells/gru-s2/study_eval.json"));
  const Result resumed = Run("compare " + study + " --out " + kDir + "/part --jobs 2");
  INFO(resumed.out << resumed.err);
  REQUIRE(resumed.status == 0);
  CHECK(ReadFile(kDir + "/part/results.csv") == expected);
  // A finished study run again trains nothing.
  const Result again = Run("compare " + study + " --out " + kDir + "/part");
  REQUIRE(again.status == 0);
  CHECK(again.out.find("(4 finished earlier)") != std::string::npos);

  // Two halves on "two machines", each cell by itself, then merged.
  for (const char* cell : {"lstm-s1", "gru-s2"}) {
    REQUIRE(Run("compare " + study + " --out " + kDir + "/a --cell " + cell).status == 0);
  }
  for (const char* cell : {"lstm-s2", "gru-s1"}) {
    REQUIRE(Run("compare " + study + " --out " + kDir + "/b --cell " + cell).status == 0);
  }
  const Result merged =
      Run("compare " + study + " --merge " + kDir + "/a," + kDir + "/b --out " + kDir + "/m");
  INFO(merged.out << merged.err);
  REQUIRE(merged.status == 0);
  CHECK(ReadFile(kDir + "/m/results.csv") == expected);
  // GNU parallel (installed by scripts/setup.sh), as configs/studies/README.md shows it.
  REQUIRE(std::system("command -v parallel > /dev/null") == 0);
  const std::string bin = RIMLAB_BINARY;
  const std::string spread =
      bin + " compare " + study + " --list-cells | parallel --will-cite -j 2 " + bin + " compare " +
      study + " --out " + kDir + "/par --cell {} --threads 1 > " + kDir + "/par.out 2>&1";
  const int spread_status = std::system(spread.c_str());
  INFO(ReadFile(kDir + "/par.out"));
  REQUIRE(spread_status == 0);
  REQUIRE(Run("compare " + study + " --out " + kDir + "/par --report").status == 0);
  CHECK(ReadFile(kDir + "/par/results.csv") == expected);
  // A half alone reports its missing cells rather than inventing them.
  const Result half = Run("compare " + study + " --merge " + kDir + "/a --out " + kDir + "/h");
  REQUIRE(half.status == 0);
  CHECK(half.out.find("2 cell(s) not finished: lstm-s2 gru-s1") != std::string::npos);
  fs::remove_all(kDir);
}

TEST_CASE("a RIM study on a grid analyses what its units see", "[cli][compare]") {
  Fresh();
  const std::string study = kDir + "/grid.yaml";
  WriteFile(study,
            "base: ../configs/pickup_rim.yaml\nseeds: 1\ntotal_frames: 2048\n"
            "overrides: {env.size: 5, pool.num_envs: 8, ppo.steps: 16, ppo.batch_size: 64,\n"
            "            log.record_episodes: 0, log.checkpoint_frames: 1024}\n"
            "variants:\n  - name: rim\n  - name: lstm\n    base: ../configs/pickup_lstm.yaml\n"
            "eval: {episodes: 20, random_episodes: 20, unit_episodes: 30}\n");
  const Result r = Run("compare " + study + " --out " + kDir + "/grid");
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK(fs::exists(kDir + "/grid/cells/rim-s1/units.json"));
  CHECK_FALSE(fs::exists(kDir + "/grid/cells/lstm-s1/units.json"));
  const std::string units = ReadFile(kDir + "/grid/cells/rim-s1/units.json");
  CHECK(units.find("\"episodes\": 30") != std::string::npos);
  CHECK(units.find("target in view") != std::string::npos);
  const std::string md = ReadFile(kDir + "/grid/report.md");
  CHECK(md.find("## What the units do") != std::string::npos);
  CHECK(md.find("### rim-s1") != std::string::npos);
  // A cell evaluated before its units were analysed gets them on the next run, untrained.
  fs::remove(kDir + "/grid/cells/rim-s1/units.json");
  const Result again = Run("compare " + study + " --out " + kDir + "/grid");
  INFO(again.out << again.err);
  REQUIRE(again.status == 0);
  CHECK(again.out.find("(1 finished earlier)") != std::string::npos);
  const std::string log = ReadFile(kDir + "/grid/logs/rim-s1.log");
  CHECK(log.find("cell rim-s1: units analysed over 30 episodes") != std::string::npos);
  CHECK(log.find("finished earlier") != std::string::npos);
  CHECK(ReadFile(kDir + "/grid/cells/rim-s1/units.json") == units);
  fs::remove_all(kDir);
}

TEST_CASE("bad study files end in one line naming the file, line and key", "[cli][compare]") {
  Fresh();
  const std::string head = "base: ../configs/bandit_ppo.yaml\nseeds: 2\n";
  const std::vector<study_test::BadStudy> cases = {
      {"an unknown variant key", head + "variants:\n  - name: a\n    overides: {ppo.lr: 0.1}\n",
       ":5: key 'overides'"},
      {"a duplicate variant name", head + "variants:\n  - name: a\n  - name: a\n",
       ":5: key 'name'"},
      {"a budget below one iteration", head + "total_frames: 10\nvariants:\n  - name: a\n",
       ":3: key 'total_frames'"},
      {"an unknown override key", head + "variants:\n  - name: a\n    overrides: {ppo.lrr: 1}\n",
       "'lrr'"},
  };
  study_test::CheckBadStudies(kDir, cases);
  // A directory made by one study refuses another study file.
  WriteFile(kDir + "/one.yaml", BanditStudy(1024));
  WriteFile(kDir + "/two.yaml", BanditStudy(2048));
  REQUIRE(Run("compare " + kDir + "/one.yaml --out " + kDir + "/s --list-cells").status == 0);
  REQUIRE(Run("compare " + kDir + "/one.yaml --out " + kDir + "/s --cell lstm-s1").status == 0);
  const Result other = Run("compare " + kDir + "/two.yaml --out " + kDir + "/s");
  CHECK(other.status == 2);
  CHECK(other.err.find("holds a study made from another study file") != std::string::npos);
  CHECK(fs::exists(kDir + "/s/cells/lstm-s1/study_eval.json"));
  fs::remove_all(kDir);
}

TEST_CASE("every shipped study builds every variant's config", "[cli][compare]") {
  int studies = 0;
  for (const auto& entry : fs::directory_iterator("configs/studies")) {
    if (entry.path().extension() != ".yaml") continue;
    ++studies;
    const Result r = Run("compare " + entry.path().string() + " --check --out " + kDir + "/chk");
    INFO(entry.path() << "\n" << r.out << r.err);
    CHECK(r.status == 0);
    CHECK(r.out.find(" cells, scored by ") != std::string::npos);
  }
  CHECK(studies >= 3);
  CHECK_FALSE(fs::exists(kDir + "/chk"));  // --check writes nothing
}
