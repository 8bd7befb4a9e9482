// `rimlab train` with `algo: bc` and `algo: crr`, run as a user runs it: a PPO policy trained on
// the bandit is recorded with `collect` (half of its actions uniform), and its clone, played
// greedily, must beat the noisy data it learnt from; from a uniformly random policy's data, CRR
// must find the paying arm where cloning cannot; the run directory is complete and `eval` reads
// it; runs stopped and resumed (CRR's target network included) write the uninterrupted runs'
// metrics; bad datasets end in one line and exit 2.
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

const char kBase[] = "build-test-offline";

/// The bandit run's config, either algorithm: `algo` and its section are appended.
const char kConfig[] = R"(name: bandit_offline
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
log:
  log_every: 10
  checkpoint_updates: 40
eval:
  episodes: 200
  greedy: true
)";

/// Writes DIR/bc.yaml and DIR/crr.yaml (CRR's target refreshed every 30 updates).
void WriteConfigs(const std::string& dir) {
  cli_test::WriteFile(dir + "/bc.yaml",
                      std::string(kConfig) + "algo: bc\nbc:\n  lr: 0.003\n  batch_episodes: 32\n");
  cli_test::WriteFile(dir + "/crr.yaml", std::string(kConfig) +
                                             "algo: crr\ncrr:\n  lr: 0.003\n  batch_episodes: "
                                             "32\n  target_period: 30\n");
}

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
  WriteConfigs(kBase);
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
  const std::string dir = base + "/runs/bandit_offline";
  CHECK(r.out.find("run directory: " + dir) != std::string::npos);
  const auto rows = RowsWithoutSeconds(dir + "/metrics.csv");
  REQUIRE(rows.size() == 1 + 12);  // header + 120 updates / 10
  CHECK(rows[0] ==
        "update,frames,policy_loss,critic_loss,nll,accuracy,entropy,q_mean,weight_mean,grad_norm,"
        "learning_rate,");
  // BC has no critic: its columns are empty.
  CHECK(rows[1].find(",,") != std::string::npos);
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

TEST_CASE("train bc and crr: stopped and resumed, the same metrics as straight through",
          "[cli][bc][crr]") {
  Prepare();
  const std::string base = kBase;
  const std::string algo = GENERATE(as<std::string>(), "bc", "crr");
  CAPTURE(algo);
  fs::remove_all(base + "/resume");
  // CRR's target network is refreshed every 30 updates, so the resumed run must restore it.
  const std::string args =
      "train " + base + "/" + algo + ".yaml dataset=" + base + "/data --runs " + base + "/resume ";
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
  fs::remove_all(base + "/pickup_data");
  REQUIRE(Run("collect random --config configs/pickup_lstm.yaml --episodes 3 --out " + base +
              "/pickup_data")
              .status == 0);
  fails("dataset=" + base + "/pickup_data", "pickup_data");
  fails("dataset=" + base + "/data bc.lr=-1", "lr");
  CHECK_FALSE(fs::exists(base + "/bad"));
}

TEST_CASE("train: the shipped bc and crr configs train on a pickup dataset", "[cli][bc][crr]") {
  const std::string base = kBase;
  fs::create_directories(base);
  fs::remove_all(base + "/pickup_small");
  REQUIRE(Run("collect random --config configs/pickup_lstm.yaml --episodes 4 --out " + base +
              "/pickup_small")
              .status == 0);
  for (const char* algo : {"bc", "crr"}) {
    for (const char* core : {"lstm", "rim"}) {
      const Result r =
          Run(std::string("train configs/") + algo + "_" + core + ".yaml dataset=" + base +
              "/pickup_small updates=2 eval.episodes=0 "
              "--runs " +
              base + "/shipped");
      INFO(algo << " " << core << "\n" << r.err);
      CHECK(r.status == 0);
      CHECK(r.out.find(std::string(core) + "(") != std::string::npos);
    }
  }
}

TEST_CASE("train crr: from a random policy's data, CRR finds the paying arm and cloning cannot",
          "[cli][crr]") {
  // Five arms pulled uniformly: the clone of that policy is uniform too (greedy, it takes
  // whichever arm the data happened to hold most), while CRR's critic tells the paying arm.
  const std::string base = std::string(kBase) + "/random5";
  fs::remove_all(base);
  const Result c =
      Run("collect random --config configs/bandit_ppo.yaml env.arms=5 env.good_arm=3 "
          "--episodes 500 --out " +
          base + "/data");
  INFO(c.err);
  REQUIRE(c.status == 0);
  WriteConfigs(base);
  const std::string common =
      " env.arms=5 env.good_arm=3 dataset=" + base + "/data updates=150 --runs " + base + "/runs ";
  const Result bc = Run("train " + base + "/bc.yaml" + common + "name=bc");
  INFO(bc.err);
  REQUIRE(bc.status == 0);
  const Result crr = Run("train " + base + "/crr.yaml" + common + "name=crr");
  INFO(crr.out << crr.err);
  REQUIRE(crr.status == 0);
  CHECK(SuccessOf(base + "/runs/crr/eval.json", "bandit") > 0.95);
  CHECK(SuccessOf(base + "/runs/bc/eval.json", "bandit") < 0.5);
  const auto rows = RowsWithoutSeconds(base + "/runs/crr/metrics.csv");
  CHECK(rows.back().find(",,") == std::string::npos);  // every CRR column filled
  // A CRR run's checkpoint holds the Q head: eval builds the same network and loads it.
  CHECK(Run("eval " + base + "/runs/crr --episodes 8").status == 0);
}
