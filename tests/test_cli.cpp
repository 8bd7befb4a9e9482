// The rimlab command line, run as a user runs it: rollout output that pins MiniGrid's encoding,
// eval, and bad input that must end in one clear line and exit status 2.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace {

struct Result {
  int status = -1;
  std::string out;
  std::string err;
};

// Runs `rimlab ARGS`, capturing stdout and stderr separately.
Result Run(const std::string& args) {
  const std::string err_path = "build-test-cli.stderr";
  const std::string cmd = std::string(RIMLAB_BINARY) + " " + args + " 2>" + err_path;
  Result r;
  FILE* pipe = popen(cmd.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.out.append(buf.data(), n);
  const int raw = pclose(pipe);
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  std::ifstream in(err_path);
  r.err.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  std::remove(err_path.c_str());
  return r;
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

int Lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n' ? 1 : 0;
  return n;
}

}  // namespace

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
#endif
