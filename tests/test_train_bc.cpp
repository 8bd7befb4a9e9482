// `rimlab train` with `algo: bc`, run as a user runs it: a PPO policy trained on the bandit is
// recorded with `collect` (half of its actions uniform), and its clone, played greedily, must
// beat the noisy data it learnt from; the run directory is complete and `eval` reads it; a run
// stopped and resumed writes the uninterrupted run's metrics; bad datasets end in one line and
// exit 2.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/cli_run.h"

namespace fs = std::filesystem;
using cli_test::ReadFile;
using cli_test::Result;
using cli_test::Run;

namespace {

const char kBase[] = "build-test-bc";

const char kConfig[] = R"(name: bc_bandit
algo: bc
updates: 120
env:
  name: bandit
pool:
  num_envs: 8
  num_threads: 1
model:
  mlp_hidden: 32
  head_hidden: 32
core:
  type: lstm
  hidden_size: 32
bc:
  lr: 0.003
  batch_episodes: 32
log:
  log_every: 10
  checkpoint_updates: 40
eval:
  episodes: 200
  greedy: true
)";

/// metrics.csv without its seconds column (column 2), which differs from run to run.
std::vector<std::string> RowsWithoutSeconds(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> rows;
  for (std::string line; std::getline(in, line);) {
    std::stringstream cells(line);
    std::string cell, row;
    for (int col = 0; std::getline(cells, cell, ','); ++col) {
      if (col != 2) row += cell + ",";
    }
    rows.push_back(row);
  }
  return rows;
}

/// A trained bandit policy's episodes with epsilon 0.5, and the bc config beside them (once).
void Prepare() {
  if (fs::exists(std::string(kBase) + "/data/data/metadata.json")) return;
  fs::remove_all(kBase);
  fs::create_directories(kBase);
  const std::string runs = std::string(kBase) + "/teacher";
  REQUIRE(Run("train configs/bandit_ppo.yaml --runs " + runs).status == 0);
  const Result c =
      Run("collect " + runs + "/bandit_ppo --episodes 400 --epsilon 0.5 --out " + kBase + "/data");
  INFO(c.err);
  REQUIRE(c.status == 0);
  cli_test::WriteFile(std::string(kBase) + "/bc.yaml", kConfig);
}

double SuccessOf(const std::string& eval_json, const std::string& split) {
  const auto doc = nlohmann::json::parse(ReadFile(eval_json));
  return doc["splits"][split]["success_rate"].get<double>();
}

}  // namespace

TEST_CASE("train bc: the clone of a noisy teacher beats its data; eval reads the run",
          "[cli][bc]") {
  Prepare();
  const std::string base = kBase;
  fs::remove_all(base + "/runs");
  const Result r =
      Run("train " + base + "/bc.yaml dataset=" + base + "/data --runs " + base + "/runs");
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  const std::string dir = base + "/runs/bc_bandit";
  CHECK(r.out.find("run directory: " + dir) != std::string::npos);
  const auto rows = RowsWithoutSeconds(dir + "/metrics.csv");
  REQUIRE(rows.size() == 1 + 12);  // header + 120 updates / 10
  CHECK(rows[0] == "update,frames,nll,accuracy,entropy,grad_norm,learning_rate,");
  CHECK(fs::exists(dir + "/checkpoints/ckpt_000000000120.pt"));
  CHECK(fs::exists(dir + "/config.yaml"));
  CHECK_FALSE(fs::is_empty(dir + "/tb"));
  // The data succeed in about 0.75 of episodes (half the actions uniform over two arms); the
  // greedy clone takes the teacher's arm.
  CHECK(SuccessOf(dir + "/eval.json", "bandit") > 0.9);
  const Result e = Run("eval " + dir + " --episodes 64 --format json");
  INFO(e.err);
  REQUIRE(e.status == 0);
}

TEST_CASE("train bc: stopped and resumed, the same metrics as straight through", "[cli][bc]") {
  Prepare();
  const std::string base = kBase;
  fs::remove_all(base + "/resume");
  const std::string args =
      "train " + base + "/bc.yaml dataset=" + base + "/data --runs " + base + "/resume ";
  REQUIRE(Run(args + "name=full").status == 0);
  // 32 one-step episodes an update: 1,300 decisions stop it at update 50, on a log boundary.
  const Result part = Run(args + "name=part --stop-after-frames 1300");
  INFO(part.out << part.err);
  REQUIRE(part.status == 0);
  CHECK(part.out.find("resume with: rimlab train --resume " + base + "/resume/part") !=
        std::string::npos);
  const Result resumed = Run("train --resume " + base + "/resume/part");
  INFO(resumed.err);
  REQUIRE(resumed.status == 0);
  const auto full = RowsWithoutSeconds(base + "/resume/full/metrics.csv");
  const auto again = RowsWithoutSeconds(base + "/resume/part/metrics.csv");
  REQUIRE(full.size() == 13);
  CHECK(again == full);
  CHECK(ReadFile(base + "/resume/part/eval.json").find("\"success_rate\"") != std::string::npos);
}

TEST_CASE("train bc: bad datasets are one line and exit 2", "[cli][bc]") {
  Prepare();
  const std::string base = kBase;
  const auto fails = [&](const std::string& args, const std::string& expect) {
    const Result r = Run("train " + base + "/bc.yaml --runs " + base + "/bad " + args);
    INFO(args << "\n" << r.err);
    CHECK(r.status == 2);
    CHECK(cli_test::Lines(r.err) == 1);
    CHECK(r.err.find(expect) != std::string::npos);
  };
  fails("", "dataset");
  fails("dataset=" + base + "/no_such_dir", "no_such_dir");
  // Episodes of another env do not fit the bandit's spaces.
  REQUIRE(Run("collect random --config configs/pickup_lstm.yaml --episodes 3 --out " + base +
              "/pickup_data")
              .status == 0);
  fails("dataset=" + base + "/pickup_data", "pickup_data");
  fails("dataset=" + base + "/data bc.lr=-1", "lr");
  CHECK_FALSE(fs::exists(base + "/bad"));
}

TEST_CASE("train bc: the shipped configs train on a pickup dataset", "[cli][bc]") {
  const std::string base = kBase;
  fs::create_directories(base);
  fs::remove_all(base + "/pickup_small");
  REQUIRE(Run("collect random --config configs/pickup_lstm.yaml --episodes 4 --out " + base +
              "/pickup_small")
              .status == 0);
  for (const char* core : {"lstm", "rim"}) {
    const Result r = Run(std::string("train configs/bc_") + core + ".yaml dataset=" + base +
                         "/pickup_small updates=2 eval.episodes=0 --runs " + base + "/shipped");
    INFO(core << "\n" << r.err);
    CHECK(r.status == 0);
    CHECK(r.out.find(std::string(core) + "(") != std::string::npos);
  }
}
