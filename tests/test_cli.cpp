// The rimlab command line, run as a user runs it: rollout output that pins MiniGrid's encoding,
// eval, and bad input that must end in one clear line and exit status 2.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/cli_run.h"

using cli_test::Lines;
using cli_test::ReadFile;
using cli_test::Result;
using cli_test::Run;
using cli_test::WriteFile;

TEST_CASE("rollout --format json pins MiniGrid's encoding for pickup on a fixed map", "[cli]") {
  // configs/pickup_map.yaml is the open_room fixture's map under Fetch rules; the fixture's first
  // actions are right, left, forward, pickup (of the red key, the mission's target).
  const Result r = Run("rollout configs/pickup_map.yaml --seed 0 --actions 1,0,2,3 --format json");
  INFO(r.err);
  REQUIRE(r.status == 0);
  const auto doc = nlohmann::json::parse(r.out);
  std::ifstream in("tests/fixtures/minigrid/open_room.json");
  const auto fixture = nlohmann::json::parse(in);
  REQUIRE(doc["steps"].size() == 5);
  CHECK(doc["env"] == "pickup");
  for (size_t t = 0; t < 5; ++t) {
    INFO("step " << t);
    const auto& ours = doc["steps"][t];
    const auto& theirs = fixture["steps"][t];
    CHECK(ours["obs"]["image"] == theirs["view"]);
    CHECK(ours["obs"]["direction"] == theirs["direction"]);
    // Mission tokens: get, red, key.
    CHECK(ours["obs"]["mission"] == nlohmann::json::array({1, 3, 14}));
  }
  CHECK(doc["steps"][0]["step_type"] == "FIRST");
  CHECK(doc["steps"][3]["step_type"] == "MID");
  const auto& last = doc["steps"][4];
  CHECK(last["step_type"] == "LAST");
  CHECK(last["terminated"] == true);
  CHECK(last["success"] == true);
  CHECK(last["discount"] == 0.0);
  CHECK(last["reward"].get<double>() == Approx(1.0 - 0.9 * 4 / 20));
  // The fixture's view after the pickup shows the key in the agent's cell, as ours does.
  CHECK(last["obs"]["image"][6][3] == nlohmann::json::array({5, 0, 0}));
}

TEST_CASE("rollout accepts action names and warns about unused actions", "[cli]") {
  const Result r =
      Run("rollout configs/pickup_map.yaml --actions right,left,forward,pickup,left "
          "--format text");
  REQUIRE(r.status == 0);
  CHECK(r.out.find("mission: get red key") != std::string::npos);
  CHECK(r.err.find("1 action(s) unused") != std::string::npos);
}

TEST_CASE("eval prints success with intervals for every split", "[cli]") {
  const Result r = Run("eval configs/distractors.yaml --episodes 64 --format json pool.num_envs=8");
  INFO(r.err);
  REQUIRE(r.status == 0);
  const auto doc = nlohmann::json::parse(r.out);
  for (const char* split : {"train", "more", "novel", "bigger"}) {
    INFO(split);
    const auto& s = doc["splits"][split];
    CHECK(s["episodes"] == 64);
    CHECK(s["success_ci95"][0].get<double>() <= s["success_rate"].get<double>());
    CHECK(s["success_rate"].get<double>() <= s["success_ci95"][1].get<double>());
  }
}

TEST_CASE("Bad input: one line naming file, key and expectation; exit status 2", "[cli]") {
  WriteFile("build-test-cli-badmap.yaml",
            "env:\n  name: level\n  map:\n    - \"WEWEWE\"\n    - \"WEXRWE\"\n    - \"WE>>WE\"\n");
  WriteFile("build-test-cli-badyaml.yaml", "env:\n  name: [pickup\n");
  WriteFile("build-test-cli-section.yaml", "env:\n  name: pickup\nenvv:\n  size: 3\n");
  struct Case {
    std::string args;
    std::vector<std::string> needles;
  };
  const std::vector<Case> cases = {
      {"rollout configs/distractors.yaml env.name=nosuch",
       {"command line", "env.name", "unknown environment \"nosuch\"", "known: "}},
      {"rollout configs/distractors.yaml env.sizee=3", {"'sizee'", "unknown option"}},
      {"rollout configs/distractors.yaml env.size=abc", {"'size'", "expected an integer"}},
      {"rollout configs/distractors.yaml env.size=2", {"'size'", "[4, 64]"}},
      {"rollout configs/distractors.yaml env.split=weird", {"'split'", "one of train"}},
      {"rollout configs/pickup_map.yaml env.map=[] env.target= env.num_objects=50 env.size=5",
       {"'num_objects'", "free cells"}},
      {"rollout configs/distractors.yaml env.name=pickup env.split=train",
       {"'split'", "unknown option"}},
      {"rollout build-test-cli-badmap.yaml",
       {"build-test-cli-badmap.yaml:4", "'map'", "unknown object 'X'"}},
      {"rollout build-test-cli-badyaml.yaml", {"build-test-cli-badyaml.yaml", "YAML syntax"}},
      {"rollout build-test-cli-section.yaml", {"build-test-cli-section.yaml:4", "'envv'"}},
      {"rollout no/such/config.yaml", {"no/such/config.yaml", "cannot open"}},
      {"rollout configs/pickup_map.yaml --actions 2,9", {"--actions", "\"9\"", "[0, 6]"}},
      {"eval configs/distractors.yaml --split nope", {"no split \"nope\""}},
      {"eval configs/distractors.yaml pool.num_envs=0", {"'num_envs'", "[1, 65536]"}},
      {"eval configs/distractors.yaml eval.episode=3", {"'episode'", "unknown option"}},
  };
  for (const auto& c : cases) {
    INFO("rimlab " << c.args);
    const Result r = Run(c.args);
    INFO("stderr: " << r.err);
    CHECK(r.status == 2);
    CHECK(Lines(r.err) == 1);
    CHECK(r.err.rfind("rimlab: error: ", 0) == 0);
    for (const auto& needle : c.needles) CHECK(r.err.find(needle) != std::string::npos);
  }
  for (const char* f : {"build-test-cli-badmap.yaml", "build-test-cli-badyaml.yaml",
                        "build-test-cli-section.yaml"}) {
    std::remove(f);
  }
}

TEST_CASE("Usage errors exit 2; --help exits 0", "[cli]") {
  CHECK(Run("").status == 2);
  CHECK(Run("frobnicate").status == 2);
  CHECK(Run("rollout").status == 2);
  CHECK(Run("eval configs/distractors.yaml --policy genius").status == 2);
  const Result help = Run("--help");
  CHECK(help.status == 0);
  CHECK(help.out.find("rollout") != std::string::npos);
  CHECK(Run("bench nosuchsuite").status == 2);
  CHECK(Run("bench pool nosuchflag").status == 2);
  // The suites are listed under bench's help, and each suite documents its keys.
  const Result bench = Run("bench --help");
  CHECK(bench.status == 0);
  CHECK(bench.out.find("pool") != std::string::npos);
  const Result pool = Run("bench pool --help");
  CHECK(pool.status == 0);
  CHECK(pool.out.find("spin=") != std::string::npos);
#ifdef RIMLAB_WITH_TORCH
  const Result ppo = Run("bench ppo --help");
  CHECK(ppo.status == 0);
  CHECK(ppo.out.find("learner_threads") != std::string::npos);
#endif
}

#ifdef RIMLAB_WITH_TORCH
TEST_CASE("train copying writes a run directory and never reuses an earlier one", "[cli]") {
  const std::string runs = "build-test-cli-runs";
  std::system(("rm -rf " + runs).c_str());
  const std::string cmd =
      "train configs/copying_lstm.yaml updates=4 eval_every=2 eval_batches=1 "
      "train_blank=5 test_blank=10 core.hidden_size=16 --runs " +
      runs;
  const Result first = Run(cmd);
  INFO(first.err);
  REQUIRE(first.status == 0);
  std::ifstream csv(runs + "/copying_lstm/metrics.csv");
  REQUIRE(csv.good());
  int rows = 0;
  for (std::string line; std::getline(csv, line);) ++rows;
  CHECK(rows == 3);  // header + evaluations at updates 2 and 4
  const Result second = Run(cmd);
  REQUIRE(second.status == 0);
  CHECK(second.out.find(runs + "/copying_lstm-2") != std::string::npos);
  std::ifstream again(runs + "/copying_lstm/config.yaml");
  CHECK(again.good());
  const Result bad = Run("train configs/copying_lstm.yaml core.hidden_size=-1 --runs " + runs);
  CHECK(bad.status == 2);
  CHECK(bad.err.find("'hidden_size'") != std::string::npos);
  std::system(("rm -rf " + runs).c_str());
}

namespace {

/// metrics.csv without the wall-clock columns (seconds, sps), which no two runs share.
std::vector<std::string> MetricsWithoutTiming(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> rows;
  for (std::string line; std::getline(in, line);) {
    std::string row;
    size_t col = 0, start = 0;
    while (start <= line.size()) {
      size_t end = line.find(',', start);
      if (end == std::string::npos) end = line.size();
      if (col != 2 && col != 3) row += line.substr(start, end - start) + ",";
      start = end + 1;
      ++col;
    }
    rows.push_back(row);
  }
  return rows;
}

bool Exists(const std::string& path) {
  return std::ifstream(path).good();
}

int CountFiles(const std::string& dir, const std::string& suffix) {
  FILE* p = popen(("ls " + dir + " 2>/dev/null").c_str(), "r");
  int n = 0;
  std::array<char, 512> line{};
  while (fgets(line.data(), static_cast<int>(line.size()), p) != nullptr) {
    std::string name(line.data());
    while (!name.empty() && (name.back() == '\n')) name.pop_back();
    if (name.size() >= suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      ++n;
    }
  }
  pclose(p);
  return n;
}

}  // namespace

TEST_CASE("train ppo leaves a complete run directory; eval reads it back", "[cli]") {
  const std::string runs = "build-test-cli-rl";
  std::system(("rm -rf " + runs).c_str());
  const Result r = Run("train configs/bandit_ppo.yaml --runs " + runs);
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  const std::string dir = runs + "/bandit_ppo";
  CHECK(r.out.find("run directory: " + dir) != std::string::npos);
  CHECK(Exists(dir + "/config.yaml"));
  CHECK(Exists(dir + "/eval.json"));
  const auto rows = MetricsWithoutTiming(dir + "/metrics.csv");
  REQUIRE(rows.size() == 1 + 32);  // header + 4096 frames / (8 envs x 16 steps)
  CHECK(rows[0].rfind("frames,iteration,episodes,return_mean", 0) == 0);
  // Checkpoints at every 1024 frames, the newest 3 kept; recordings at each checkpoint.
  CHECK(CountFiles(dir + "/checkpoints", ".pt") == 3);
  CHECK(CountFiles(dir + "/checkpoints", ".tmp") == 0);
  CHECK(Exists(dir + "/checkpoints/ckpt_000000004096.pt"));
  CHECK(CountFiles(dir + "/episodes", ".json") == 4);
  CHECK(CountFiles(dir + "/tb", "") >= 1);
  const std::string events = ReadFile(runs + "/bandit_ppo/tb/" + [&] {
    FILE* p = popen(("ls " + dir + "/tb").c_str(), "r");
    std::array<char, 512> line{};
    std::string name = fgets(line.data(), 512, p) != nullptr ? line.data() : "";
    pclose(p);
    while (!name.empty() && name.back() == '\n') name.pop_back();
    return name;
  }());
  for (const char* tag : {"charts/episodic_return", "charts/episodic_length", "charts/SPS",
                          "losses/policy_loss", "losses/value_loss", "losses/entropy",
                          "losses/approx_kl", "losses/clipfrac", "losses/explained_variance"}) {
    CHECK(events.find(tag) != std::string::npos);
  }
  // The bandit is learnt: eval of the run directory and of a checkpoint file.
  const Result e = Run("eval " + dir + " --episodes 64 --format json");
  INFO(e.err);
  REQUIRE(e.status == 0);
  const auto doc = nlohmann::json::parse(e.out);
  CHECK(doc["runs"][dir]["splits"]["bandit"]["success_rate"].get<double>() > 0.9);
  const Result side =
      Run("eval " + dir + " " + dir + "/checkpoints/ckpt_000000002048.pt --episodes 16");
  INFO(side.err);
  CHECK(side.status == 0);
  CHECK(side.out.find("success rate") != std::string::npos);
  std::system(("rm -rf " + runs).c_str());
}

// Trains `cfg` straight through as RUNS/full, and as RUNS/part stopped after `stop_after` frames
// and then resumed; returns both runs' metrics.csv rows without the timing columns.
std::pair<std::vector<std::string>, std::vector<std::string>> TrainStraightAndResumed(
    const std::string& cfg, const std::string& runs, int64_t stop_after) {
  const Result full = Run("train " + cfg + " name=full");
  INFO(full.err);
  REQUIRE(full.status == 0);
  const Result part =
      Run("train " + cfg + " name=part --stop-after-frames " + std::to_string(stop_after));
  INFO(part.err);
  REQUIRE(part.status == 0);
  CHECK(part.out.find("resume with: rimlab train --resume " + runs + "/part") != std::string::npos);
  const Result resumed = Run("train --resume " + runs + "/part");
  INFO(resumed.err);
  REQUIRE(resumed.status == 0);
  return {MetricsWithoutTiming(runs + "/full/metrics.csv"),
          MetricsWithoutTiming(runs + "/part/metrics.csv")};
}

TEST_CASE("a resumed run reproduces the uninterrupted run's metrics exactly", "[cli]") {
  const std::string runs = "build-test-cli-resume";
  std::system(("rm -rf " + runs).c_str());
  // A gridworld with episodes spanning iterations, two pool threads, checkpoints off-schedule.
  const std::string cfg =
      "configs/bandit_ppo.yaml env.name=pickup env.size=5 env.num_objects=2 pool.num_threads=2 "
      "pool.num_envs=4 ppo.recurrence=4 ppo.batch_size=32 total_frames=640 "
      "log.checkpoint_frames=1000000 eval.episodes=0 model.encoder=conv --runs " +
      runs;
  const auto [a, b] = TrainStraightAndResumed(cfg, runs, 192);
  REQUIRE(a.size() == 1 + 10);
  CHECK(a == b);
  // Resuming takes the run's own config: overrides are refused, as is a missing run.
  CHECK(Run("train --resume " + runs + "/part ppo.lr=1").status == 2);
  const Result missing = Run("train --resume " + runs + "/nope");
  CHECK(missing.status == 2);
  std::system(("rm -rf " + runs).c_str());
}

TEST_CASE("a shipped config resumed at a scheduled checkpoint with recording on continues exactly",
          "[cli]") {
  // The shipped configs as they are (FiLM, two pool threads; the LSTM's two learner threads, the
  // RIM's dropout), with checkpoints every two iterations of 16 envs x 128 steps, each recording
  // episodes. The stop falls on a scheduled checkpoint, so the uninterrupted run records there and
  // trains on, while the resumed run starts from the checkpoint without having recorded.
  const std::string config =
      GENERATE(std::string("configs/pickup_lstm.yaml"), std::string("configs/pickup_rim.yaml"));
  INFO(config);
  const std::string runs = "build-test-cli-resume-shipped";
  std::system(("rm -rf " + runs).c_str());
  const std::string cfg = config +
                          " total_frames=12288 log.checkpoint_frames=4096 log.record_episodes=2 "
                          "eval.episodes=0 --runs " +
                          runs;
  const auto [a, b] = TrainStraightAndResumed(cfg, runs, 4096);
  CHECK(Exists(runs + "/full/episodes/frames-000000004096-ep00.json"));
  REQUIRE(a.size() == 1 + 6);
  for (size_t i = 0; i < a.size(); ++i) {
    INFO("metrics.csv row " << i);
    CHECK(a[i] == b[i]);
  }
  // The episodes recorded after the resume are the uninterrupted run's too.
  for (const char* name : {"frames-000000008192-ep00.json", "frames-000000012288-ep01.json"}) {
    INFO(name);
    REQUIRE(Exists(runs + "/full/episodes/" + name));
    REQUIRE(Exists(runs + "/part/episodes/" + name));
    CHECK(ReadFile(runs + "/full/episodes/" + name) == ReadFile(runs + "/part/episodes/" + name));
  }
  std::system(("rm -rf " + runs).c_str());
}

TEST_CASE("a DQN run resumed from its checkpoint continues exactly: replay, priorities, actors",
          "[cli][dqn]") {
  // Learning starts before the stop, so the checkpoint holds a replay with updated priorities,
  // the target network, the optimiser and the actors' generators and core states.
  const std::string core = GENERATE(std::string("lstm"), std::string("rim"));
  INFO(core);
  const std::string runs = "build-test-cli-resume-dqn";
  std::system(("rm -rf " + runs).c_str());
  const std::string cfg =
      "configs/dqn_" + core +
      ".yaml total_frames=12288 dqn.learning_starts=2048 "
      "log.checkpoint_frames=8192 log.record_episodes=1 eval.episodes=0 --runs " +
      runs;
  const auto [a, b] = TrainStraightAndResumed(cfg, runs, 8192);
  REQUIRE(a.size() == 1 + 3);
  for (size_t i = 0; i < a.size(); ++i) {
    INFO("metrics.csv row " << i);
    CHECK(a[i] == b[i]);
  }
  std::system(("rm -rf " + runs).c_str());
}

TEST_CASE("DQN learns a tiny grid within a capped number of updates", "[.slow][slow][dqn]") {
  // The shipped LSTM config on pickup 5x5 with one object, 150,000 frames (2,266 updates), seed
  // 1, evaluated greedily. DQN is seed-sensitive here: seed 2 reached only 0.06 at this budget
  // (docs/dqn.md), so this is a regression check of one measured run, not a claim about seeds.
  const std::string runs = "build-test-cli-dqn-learns";
  std::system(("rm -rf " + runs).c_str());
  const Result r =
      Run("train configs/dqn_lstm.yaml env.size=5 env.num_objects=1 total_frames=150000 "
          "dqn.learning_starts=5000 eval.episodes=200 seed=1 --runs " +
          runs);
  INFO(r.err);
  REQUIRE(r.status == 0);
  const auto eval = nlohmann::json::parse(ReadFile(runs + "/dqn_lstm/eval.json"));
  CHECK(eval["splits"]["pickup"]["success_rate"].get<double>() >= 0.7);
  std::system(("rm -rf " + runs).c_str());
}

TEST_CASE("train: bad config values name the file, line and key; no run directory is made",
          "[cli]") {
  const std::string runs = "build-test-cli-bad";
  std::system(("rm -rf " + runs).c_str());
  WriteFile("build-test-cli-bad.yaml",
            "algo: ppo\nenv:\n  name: bandit\nppo:\n  steps: 16\n  epoch: 4\n");
  const Result unknown = Run("train build-test-cli-bad.yaml --runs " + runs);
  CHECK(unknown.status == 2);
  CHECK(unknown.err.find("build-test-cli-bad.yaml:6") != std::string::npos);
  CHECK(unknown.err.find("epoch") != std::string::npos);
  WriteFile("build-test-cli-bad.yaml",
            "algo: ppo\nenv:\n  name: bandit\nppo:\n  steps: 16\n  clip: fast\n");
  const Result type = Run("train build-test-cli-bad.yaml --runs " + runs);
  CHECK(type.status == 2);
  CHECK(type.err.find("build-test-cli-bad.yaml:6") != std::string::npos);
  CHECK(type.err.find("clip") != std::string::npos);
  const Result range = Run("train configs/bandit_ppo.yaml ppo.gamma=1.5 --runs " + runs);
  CHECK(range.status == 2);
  CHECK(range.err.find("gamma") != std::string::npos);
  const Result divisible = Run("train configs/bandit_ppo.yaml ppo.batch_size=48 --runs " + runs);
  CHECK(divisible.status == 2);
  CHECK(divisible.err.find("batch_size") != std::string::npos);
  const Result section = Run("train configs/bandit_ppo.yaml a2c.steps=5 --runs " + runs);
  CHECK(section.status == 2);
  CHECK(section.err.find("a2c") != std::string::npos);
  CHECK_FALSE(Exists(runs + "/bandit_ppo/config.yaml"));
  std::remove("build-test-cli-bad.yaml");
  std::system(("rm -rf " + runs).c_str());
}

TEST_CASE("a NaN loss stops the run with a clear message and keeps the last good checkpoint",
          "[cli]") {
  const std::string runs = "build-test-cli-nan";
  std::system(("rm -rf " + runs).c_str());
  // PPO shrugs off any learning rate the config accepts on this task, so the NaN is injected.
  const Result r = Run(
      "train configs/bandit_ppo.yaml debug.nan_at_frames=1500 log.checkpoint_frames=512 --runs " +
      runs);
  INFO(r.out << r.err);
  CHECK(r.status == 1);
  CHECK(r.err.find("non-finite loss") != std::string::npos);
  const auto at = r.err.find("the last good checkpoint is ");
  REQUIRE(at != std::string::npos);
  std::string path = r.err.substr(at + std::string("the last good checkpoint is ").size());
  while (!path.empty() && (path.back() == '\n' || path.back() == ' ')) path.pop_back();
  CHECK(path == runs + "/bandit_ppo/checkpoints/ckpt_000000001024.pt");
  CHECK(Exists(path));
  // Nothing after the failure was checkpointed.
  CHECK_FALSE(Exists(runs + "/bandit_ppo/checkpoints/ckpt_000000001536.pt"));
  std::system(("rm -rf " + runs).c_str());
}

TEST_CASE("Ctrl-C saves a checkpoint, exits cleanly, and the run resumes from it", "[cli]") {
  const std::string runs = "build-test-cli-sigint";
  std::system(("rm -rf " + runs).c_str());
  // The trainer checks for the signal between iterations; a long run is interrupted early, after
  // its first progress line, by when its handler is installed.
  const std::string status = cli_test::RunInterrupted(
      "train configs/bandit_ppo.yaml total_frames=100000000 log.checkpoint_frames=100000000 "
      "eval.episodes=0 --runs " +
          runs,
      "build-test-cli-sigint.out", "grep -q '^frames ' build-test-cli-sigint.out");
  const std::string out = ReadFile("build-test-cli-sigint.out");
  INFO(out);
  CHECK(status == "130");
  CHECK(out.find("resume with: rimlab train --resume " + runs + "/bandit_ppo") !=
        std::string::npos);
  CHECK(CountFiles(runs + "/bandit_ppo/checkpoints", ".pt") == 1);
  CHECK(CountFiles(runs + "/bandit_ppo/checkpoints", ".tmp") == 0);
  const auto rows = MetricsWithoutTiming(runs + "/bandit_ppo/metrics.csv");
  CHECK(rows.size() >= 2);
  std::remove("build-test-cli-sigint.out");
  std::system(("rm -rf " + runs).c_str());
}

TEST_CASE("every shipped training config trains", "[cli]") {
  const std::string runs = "build-test-cli-configs";
  std::system(("rm -rf " + runs).c_str());
  for (const char* task :
       {"pickup", "distractors", "balls_touch", "balls_touch_objects", "a2c", "dqn"}) {
    for (const char* core : {"lstm", "gru", "rim"}) {
      const std::string cfg = std::string("configs/") + task + "_" + core + ".yaml";
      if (!std::filesystem::exists(cfg)) continue;  // balls_touch ships no GRU config
      const Result r = Run("train " + cfg + " total_frames=1 eval.episodes=0 --runs " + runs);
      INFO(cfg << "\n" << r.err);
      CHECK(r.status == 0);
      CHECK(r.out.find(std::string(core) + "(") != std::string::npos);
    }
  }
  std::system(("rm -rf " + runs).c_str());
}
#endif

TEST_CASE("balls-data writes the same file for any thread count and guards existing files",
          "[cli][balls]") {
  const std::string a = "build-test-balls-a.h5", b = "build-test-balls-b.h5";
  std::remove(a.c_str());
  std::remove(b.c_str());
  const std::string common = "balls-data --variant curtain --sequences 6 --frames 9 --size 32 ";
  const std::string seed4 = common + "--seed 4 ";
  const Result one = Run(seed4 + "--threads 1 --out " + a);
  INFO(one.err);
  REQUIRE(one.status == 0);
  CHECK(one.out.find("6 training, 1 validation, 1 test sequences of 9 frames at 32x32") !=
        std::string::npos);
  REQUIRE(Run(seed4 + "--threads 2 --quiet --out " + b).status == 0);
  auto bytes = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  CHECK(bytes(a).size() > 1000);
  CHECK(bytes(a) == bytes(b));

  // An existing file is never replaced without --force, and bad options exit 2 in one line.
  const std::string before = bytes(a);
  const Result again = Run(seed4 + "--out " + a);
  CHECK(again.status == 2);
  CHECK(again.err.find("exists; pass --force") != std::string::npos);
  CHECK(bytes(a) == before);
  const Result variant = Run("balls-data --variant 5 --out " + b);
  CHECK(variant.status == 2);
  CHECK(variant.err.find("--variant: 5 not in {4,678,curtain}") != std::string::npos);
  // --out's directory is made when missing; under a regular file it cannot be.
  const Result no_dir = Run("balls-data --sequences 2 --quiet --out " + a + "/x.h5");
  CHECK(no_dir.status == 2);
  CHECK(no_dir.err.find("cannot create the directory " + a) != std::string::npos);
  REQUIRE(Run(common + "--seed 5 --force --quiet --out " + a).status == 0);
  CHECK(bytes(a) != before);
  std::remove(a.c_str());
  std::remove(b.c_str());
}

#ifdef RIMLAB_WITH_TORCH
TEST_CASE("train task predict: a run directory, an exact resume, and eval's rollout files",
          "[cli][balls]") {
  const std::string data = "build-test-predict.h5", runs = "build-test-predict-runs";
  std::remove(data.c_str());
  std::filesystem::remove_all(runs);
  REQUIRE(Run("balls-data --sequences 6 --validation 2 --test 3 --frames 20 --size 64 --quiet "
              "--out " +
              data)
              .status == 0);
  const std::string base = "configs/balls_predict_lstm.yaml data.file=" + data +
                           " data.frames=20 data.sequences=0 data.validation_sequences=2 "
                           "train.batch_size=2 train.updates=6 log.eval_every=2 "
                           "log.checkpoint_every=2 log.progress_seconds=0 eval.sequences=3 "
                           "eval.burn_in=5 eval.rollout=10 eval.files=[" +
                           data + "] --runs " + runs;
  // Missing data: one line naming the key, exit 2, no run directory.
  const Result missing =
      Run("train configs/balls_predict_lstm.yaml data.file=no-such.h5 --runs " + runs);
  CHECK(missing.status == 2);
  CHECK(missing.err.find("key 'data.file'") != std::string::npos);
  CHECK(missing.err.find("does not exist; make it with rimlab balls-data") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(runs));

  const Result full = Run("train " + base + " name=full");
  INFO(full.out << full.err);
  REQUIRE(full.status == 0);
  const Result part = Run("train " + base + " name=part --stop-after-frames 6");
  REQUIRE(part.status == 0);
  CHECK(part.out.find("stopped at update 3") != std::string::npos);
  REQUIRE(Run("train --resume " + runs + "/part").status == 0);
  // The resumed run's losses equal the uninterrupted run's, row for row (timings aside).
  auto column = [](const std::string& path, int col) {
    std::ifstream in(path);
    std::string line, out;
    std::getline(in, line);
    while (std::getline(in, line)) {
      size_t start = 0;
      for (int c = 0; c < col; ++c) start = line.find(',', start) + 1;
      out += line.substr(start, line.find(',', start) - start) + ";";
    }
    return out;
  };
  for (int col : {0, 1, 4, 5, 6}) {
    CHECK(column(runs + "/part/metrics.csv", col) == column(runs + "/full/metrics.csv", col));
  }
  CHECK(Lines(column(runs + "/full/metrics.csv", 0)) == 0);
  const Result eval = Run("eval " + runs + "/full " + runs + "/part --out " + runs + "/eval");
  INFO(eval.err);
  REQUIRE(eval.status == 0);
  CHECK(eval.out.find("mean over 10 rollout steps after 5 true frames") != std::string::npos);
  CHECK(std::filesystem::exists(runs + "/eval/rollout.json"));
  CHECK(std::filesystem::exists(runs + "/eval/full__build-test-predict.csv"));
  // An RL run and a prediction run cannot be compared.
  CHECK(Run("eval " + runs + "/full runs-that-do-not-exist").status == 2);
  std::filesystem::remove_all(runs);
  std::remove(data.c_str());
}
#endif  // RIMLAB_WITH_TORCH
