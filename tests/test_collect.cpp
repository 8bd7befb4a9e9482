// `rimlab collect`, run as a user runs it: the dataset it writes is checked against the env
// itself (every recorded episode replayed from its seed and actions reproduces the recorded
// observations and rewards), against Minari's layout as h5py walks it, and against the behaviour
// policy's definition (uniform, epsilon-mixed, greedy). Bad input ends in one line and exit 2 and
// never touches an existing dataset.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <numeric>
#include <string>

#include "data/minari_dataset.h"
#include "envs/core/env.h"
#include "envs/registry.h"
#include "tests/cli_run.h"

namespace fs = std::filesystem;
using cli_test::ReadFile;
using cli_test::Result;
using cli_test::Run;
using namespace rimlab;

namespace {

/// A fresh directory under build-test-collect, removed first.
std::string Fresh(const std::string& name) {
  const std::string dir = "build-test-collect/" + name;
  fs::remove_all(dir);
  fs::create_directories("build-test-collect");
  return dir;
}

Params PickupParams() {
  Params p;
  p.Set("size", int64_t{6});
  p.Set("num_objects", int64_t{2});
  return p;
}

/// Replays every episode of the dataset in a fresh env seeded with the episode's seed, taking the
/// recorded actions, and requires the recorded observations, rewards and end flags.
void RequireReplays(const minari::Reader& r, const std::string& env_name, const Params& params) {
  auto env = MakeEnv(env_name, params);
  const EnvSpec& spec = env->Spec();
  Observation obs(spec.observation);
  for (int64_t id = 0; id < r.total_episodes(); ++id) {
    const auto ep = r.Read(id, spec.observation);
    INFO("episode " << id << " seed " << ep.seed);
    env->Seed(static_cast<uint64_t>(ep.seed));
    TimeStep ts = env->Reset(obs.Ref());
    const auto check_row = [&](int64_t row) {
      for (int f = 0; f < obs.num_fields(); ++f) {
        const auto* p = static_cast<const uint8_t*>(obs.data(f));
        const auto& stored = ep.observations[static_cast<size_t>(f)];
        const size_t n = obs.num_bytes(f);
        REQUIRE(stored.size() == n * static_cast<size_t>(ep.steps() + 1));
        REQUIRE(std::equal(p, p + n, stored.begin() + static_cast<std::ptrdiff_t>(row * n)));
      }
    };
    check_row(0);
    for (int64_t t = 0; t < ep.steps(); ++t) {
      REQUIRE_FALSE(ts.last());
      ts = env->Step(Action{static_cast<int>(ep.actions[static_cast<size_t>(t)]), nullptr},
                     obs.Ref());
      check_row(t + 1);
      REQUIRE(ep.rewards[static_cast<size_t>(t)] == Approx(ts.reward));
      REQUIRE(ep.terminations[static_cast<size_t>(t)] == (ts.terminated() ? 1 : 0));
      REQUIRE(ep.truncations[static_cast<size_t>(t)] == (ts.truncated() ? 1 : 0));
    }
    REQUIRE(ts.last());
  }
}

}  // namespace

TEST_CASE("collect random: every episode replays from its seed; h5py walks it as Minari does",
          "[cli][collect]") {
  const std::string out = Fresh("random");
  const Result r =
      Run("collect random --config configs/pickup_lstm.yaml --episodes 6 --seed 40 "
          "--out " +
          out);
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK(r.out.find("collected 6 episodes") != std::string::npos);
  CHECK(r.out.find("bytes per step on disk") != std::string::npos);

  minari::Reader reader(out);
  REQUIRE(reader.total_episodes() == 6);
  auto env = MakeEnv("pickup", PickupParams());
  reader.CheckMatches(env->Spec());
  reader.Validate(env->Spec().observation);
  RequireReplays(reader, "pickup", PickupParams());
  int64_t steps = 0;
  for (int64_t id = 0; id < 6; ++id) {
    const auto ep = reader.Read(id, env->Spec().observation);
    CHECK(ep.seed == 40 + id);
    steps += ep.steps();
    // A uniform behaviour policy records 1/7 for each of pickup's seven actions.
    REQUIRE(ep.action_probs.size() == static_cast<size_t>(ep.steps() * 7));
    for (float p : ep.action_probs) REQUIRE(p == Approx(1.0 / 7.0));
  }
  CHECK(reader.total_steps() == steps);
  const auto meta = reader.metadata();
  CHECK(meta["env_name"] == "pickup");
  CHECK(meta["collections"][0]["seed"] == 40);

  // Minari's loader: episode_{id} groups, observations one row longer than actions, uint8 image,
  // attributes id, seed and total_steps, totals in metadata.json.
  const std::string script =
      "import h5py, json\n"
      "f = h5py.File(\"" +
      out +
      "/data/main_data.hdf5\", \"r\")\n"
      "m = json.load(open(\"" +
      out +
      "/data/metadata.json\"))\n"
      "assert m[\"total_episodes\"] == len(f.keys()) == 6, m\n"
      "total = 0\n"
      "for i in range(6):\n"
      "    e = f[\"episode_%d\" % i]\n"
      "    n = len(e[\"actions\"])\n"
      "    assert e.attrs[\"id\"] == i and e.attrs[\"seed\"] == 40 + i\n"
      "    assert e.attrs[\"total_steps\"] == n\n"
      "    assert e[\"observations\"][\"image\"].dtype.name == \"uint8\"\n"
      "    assert e[\"observations\"][\"image\"].shape == (n + 1, 7, 7, 3)\n"
      "    assert e[\"rewards\"].shape == (n,) and e[\"terminations\"].dtype.name == \"bool\"\n"
      "    assert e[\"action_probs\"].shape == (n, 7)\n"
      "    total += n\n"
      "assert m[\"total_steps\"] == total\n";
  cli_test::WriteFile("build-test-collect/walk.py", script);
  CHECK(std::system("/usr/bin/python3 build-test-collect/walk.py") == 0);
}

TEST_CASE("collect --append continues the ids; a second collection never overwrites",
          "[cli][collect]") {
  const std::string out = Fresh("append");
  REQUIRE(
      Run("collect random --config configs/pickup_lstm.yaml --episodes 3 --out " + out).status ==
      0);
  const std::string before = ReadFile(out + "/data/main_data.hdf5");

  // Without --append an existing dataset is refused and left byte for byte.
  const Result again =
      Run("collect random --config configs/pickup_lstm.yaml --episodes 2 --out " + out);
  CHECK(again.status == 2);
  CHECK(again.err.find(out) != std::string::npos);
  CHECK(cli_test::Lines(again.err) == 1);
  CHECK(ReadFile(out + "/data/main_data.hdf5") == before);

  // Another env's episodes cannot be appended.
  const Result other =
      Run("collect random --config configs/distractors_lstm.yaml --episodes 2 "
          "--append --out " +
          out);
  CHECK(other.status == 2);
  CHECK(ReadFile(out + "/data/main_data.hdf5") == before);

  const Result more =
      Run("collect random --config configs/pickup_lstm.yaml --episodes 2 "
          "--seed 100 --append --out " +
          out);
  INFO(more.err);
  REQUIRE(more.status == 0);
  minari::Reader reader(out);
  CHECK(reader.total_episodes() == 5);
  auto env = MakeEnv("pickup", PickupParams());
  reader.Validate(env->Spec().observation);
  CHECK(reader.Read(3, env->Spec().observation).seed == 100);
  CHECK(reader.Read(4, env->Spec().observation).seed == 101);
  RequireReplays(reader, "pickup", PickupParams());
}

#ifdef RIMLAB_WITH_TORCH
TEST_CASE("collect from a trained run: epsilon-mixed and greedy behaviour probabilities",
          "[cli][collect]") {
  const std::string runs = Fresh("runs");
  const Result t = Run("train configs/bandit_ppo.yaml --runs " + runs);
  INFO(t.err);
  REQUIRE(t.status == 0);
  const std::string run = runs + "/bandit_ppo";

  SECTION("epsilon 0.5: every action keeps at least epsilon / n, the rows sum to one") {
    const std::string out = Fresh("eps");
    const Result r = Run("collect " + run + " --episodes 40 --epsilon 0.5 --out " + out);
    INFO(r.err);
    REQUIRE(r.status == 0);
    minari::Reader reader(out);
    auto env = MakeEnv("bandit");
    const int n = env->Spec().action.num_actions;
    RequireReplays(reader, "bandit", {});
    double max_prob = 0.0;
    for (int64_t id = 0; id < reader.total_episodes(); ++id) {
      const auto ep = reader.Read(id, env->Spec().observation);
      for (int64_t s = 0; s < ep.steps(); ++s) {
        const float* p = ep.action_probs.data() + s * n;
        REQUIRE(std::accumulate(p, p + n, 0.0) == Approx(1.0).epsilon(1e-5));
        for (int k = 0; k < n; ++k) {
          REQUIRE(p[k] >= 0.5 / n - 1e-6);
          max_prob = std::max(max_prob, static_cast<double>(p[k]));
        }
      }
    }
    // The trained bandit policy is nearly deterministic: its mixed probability nears 1 - eps/n.
    CHECK(max_prob > 0.5 + 0.5 / n - 0.05);
    CHECK(reader.metadata().dump().find("\"epsilon\":0.5") != std::string::npos);
  }

  SECTION("greedy with epsilon 0: one-hot probabilities, and the recorded action is that one") {
    const std::string out = Fresh("greedy");
    const Result r = Run("collect " + run + " --episodes 20 --greedy --out " + out);
    INFO(r.err);
    REQUIRE(r.status == 0);
    minari::Reader reader(out);
    auto env = MakeEnv("bandit");
    const int n = env->Spec().action.num_actions;
    for (int64_t id = 0; id < reader.total_episodes(); ++id) {
      const auto ep = reader.Read(id, env->Spec().observation);
      for (int64_t s = 0; s < ep.steps(); ++s) {
        const float* p = ep.action_probs.data() + s * n;
        REQUIRE(p[ep.actions[static_cast<size_t>(s)]] == 1.0f);
      }
    }
  }

  SECTION("a trained run brings its own config") {
    const Result r =
        Run("collect " + run + " --config configs/pickup_lstm.yaml --episodes 2 --out " +
            Fresh("conflict"));
    CHECK(r.status == 2);
    CHECK(r.err.find("its own config") != std::string::npos);
  }
}
#endif

TEST_CASE("collect: bad input is one line and exit 2", "[cli][collect]") {
  const std::string out = Fresh("bad");
  // Argument errors that CLI11 catches add its "Run with --help" line; the message comes first.
  const auto one_line_exit_2 = [](const std::string& args, const std::string& expect) {
    const Result r = Run(args);
    INFO(args << "\n" << r.err);
    CHECK(r.status == 2);
    const std::string first = r.err.substr(0, r.err.find('\n'));
    CHECK(first.find(expect) != std::string::npos);
    CHECK((cli_test::Lines(r.err) == 1 || r.err.find("Run with --help") == first.size() + 1));
  };
  one_line_exit_2("collect random --episodes 2 --out " + out, "--config");
  one_line_exit_2("collect no/such/run --episodes 2 --out " + out, "no/such/run");
  one_line_exit_2(
      "collect random --config configs/pickup_lstm.yaml --episodes 2 --epsilon 1.5 "
      "--out " +
          out,
      "epsilon");
  one_line_exit_2("collect random --config configs/pickup_lstm.yaml --episodes 0 --out " + out,
                  "episodes");
  one_line_exit_2(
      "collect random --config configs/pickup_lstm.yaml env.size=-3 --episodes 2 "
      "--out " +
          out,
      "size");
  one_line_exit_2(
      "collect random --config configs/pickup_lstm.yaml --split nosuch --episodes 2 "
      "--out " +
          out,
      "nosuch");
  CHECK_FALSE(fs::exists(out + "/data/main_data.hdf5"));
}

TEST_CASE("collect --out DIR always writes DIR/data, whatever DIR is called", "[cli][collect]") {
  const std::string out = Fresh("named") + "/data";
  const Result r =
      Run("collect random --config configs/pickup_lstm.yaml --episodes 2 --out " + out);
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(fs::exists(out + "/data/main_data.hdf5"));
  CHECK(fs::exists(out + "/data/metadata.json"));
  // Read back from the dataset directory and from its data directory alike.
  CHECK(minari::Reader(out).total_episodes() == 2);
  CHECK(minari::Reader(out + "/data").total_episodes() == 2);
  const Result more =
      Run("collect random --config configs/pickup_lstm.yaml --episodes 1 "
          "--append --out " +
          out);
  INFO(more.err);
  REQUIRE(more.status == 0);
  CHECK(minari::Reader(out).total_episodes() == 3);
}
