// PPO and A2C end to end through the actor pool (runners/train/rl_trainer.h): they learn small tasks
// within a capped number of updates, and checkpoints restore a run exactly.
#include <torch/torch.h>
// LibTorch brings glog, whose CHECK would shadow Catch2's: Catch2 must own it here.
#undef CHECK
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "agents/on_policy.h"
#include "envs/registry.h"
#include "runners/train/checkpoint.h"
#include "runners/train/rl_trainer.h"

namespace {

using rimlab::ActorPool;
using rimlab::OnPolicyTrainer;

struct Setup {
  std::string env = "bandit";
  rimlab::Params env_params;
  std::string algo = "ppo";
  rimlab::Params algo_params;
  std::string core = "lstm";
  int num_envs = 8;
  int threads = 1;
  uint64_t seed = 3;
};

struct Run {
  std::unique_ptr<ActorPool> pool;
  std::unique_ptr<OnPolicyTrainer> trainer;
};

Run Make(const Setup& s, int64_t total_frames = 1 << 20) {
  torch::manual_seed(s.seed);
  Run r;
  rimlab::PoolOptions po;
  po.num_envs = s.num_envs;
  po.num_threads = s.threads;
  po.seed = s.seed;
  const auto env = s.env;
  const auto params = s.env_params;
  r.pool =
      std::make_unique<ActorPool>([env, params](int) { return rimlab::MakeEnv(env, params); }, po);
  rimlab::agents::ActorCriticOptions o;
  o.core.type = s.core;
  o.core.hidden_size = 32;
  o.core.rim.num_units(4).top_k(2).unit_size(8).input_dropout(0.0).comm_dropout(0.0);
  o.mlp_hidden = 32;
  o.head_hidden = 32;
  rimlab::agents::ActorCritic model(r.pool->spec(), o);
  auto algo = rimlab::agents::MakeOnPolicyAlgorithm(s.algo, s.algo_params, model, s.num_envs);
  r.trainer = std::make_unique<OnPolicyTrainer>(r.pool.get(), model, std::move(algo), total_frames);
  return r;
}

/// Trains until the success rate of an iteration's episodes reaches `target` or `max_iterations`
/// pass; returns the best success rate seen over a window of 3 iterations.
double TrainUntil(Run* run, double target, int max_iterations) {
  double best = 0.0;
  std::vector<double> window;
  for (int i = 0; i < max_iterations; ++i) {
    auto s = run->trainer->RunIteration();
    REQUIRE(s.loss.Finite());
    if (s.episodes.empty()) continue;
    window.push_back(s.SuccessRate());
    if (window.size() > 3) window.erase(window.begin());
    double mean = 0.0;
    for (double w : window) mean += w;
    mean /= static_cast<double>(window.size());
    if (window.size() == 3) best = std::max(best, mean);
    if (best >= target) break;
  }
  return best;
}

rimlab::Params P(std::initializer_list<std::pair<const char*, rimlab::ParamValue>> kv) {
  rimlab::Params p;
  for (const auto& [k, v] : kv) p.Set(k, v, "test");
  return p;
}

}  // namespace

TEST_CASE("PPO learns the two-armed bandit, with every core") {
  for (const std::string core : {"lstm", "gru", "rim"}) {
    SECTION(core) {
      Setup s;
      s.core = core;
      s.algo_params = P({{"steps", int64_t{16}},
                         {"batch_size", int64_t{64}},
                         {"recurrence", int64_t{1}},
                         {"lr", 3e-3}});
      auto run = Make(s);
      CHECK(TrainUntil(&run, 0.95, 40) >= 0.95);
    }
  }
}

TEST_CASE("A2C learns the two-armed bandit") {
  Setup s;
  s.algo = "a2c";
  s.algo_params = P({{"steps", int64_t{8}}, {"lr", 3e-3}});
  auto run = Make(s);
  CHECK(TrainUntil(&run, 0.95, 150) >= 0.95);
}

TEST_CASE("PPO with recurrence learns to remember a cue across a delay") {
  Setup s;
  s.env = "memory";
  s.env_params = P({{"delay", int64_t{3}}});
  s.num_envs = 16;
  s.algo_params = P({{"steps", int64_t{32}},
                     {"batch_size", int64_t{128}},
                     {"recurrence", int64_t{8}},
                     {"lr", 3e-3},
                     {"gamma", 0.9}});
  auto run = Make(s);
  CHECK(TrainUntil(&run, 0.95, 150) >= 0.95);
}

TEST_CASE("a checkpoint restores the run exactly") {
  Setup s;
  s.env = "pickup";
  s.env_params = P({{"size", int64_t{5}}, {"num_objects", int64_t{2}}});
  s.num_envs = 4;
  s.threads = 2;
  s.algo_params = P({{"steps", int64_t{16}},
                     {"batch_size", int64_t{32}},
                     {"recurrence", int64_t{4}},
                     {"epochs", int64_t{2}}});
  const auto dir = std::filesystem::temp_directory_path() / "rimlab_test_ckpt";
  std::filesystem::remove_all(dir);
  for (const std::string algo : {"ppo", "a2c"}) {
    s.algo = algo;
    if (algo == "a2c") s.algo_params = P({{"steps", int64_t{5}}});
    auto a = Make(s);
    for (int i = 0; i < 3; ++i) a.trainer->RunIteration();
    const auto path = rimlab::SaveCheckpoint(*a.trainer, dir.string());
    CHECK(std::filesystem::exists(path));
    CHECK_FALSE(std::filesystem::exists(path + ".tmp"));

    // The uninterrupted run goes first: both runs draw from torch's one global generator, which
    // the checkpoint restores.
    std::vector<rimlab::IterationStats> expected;
    for (int i = 0; i < 3; ++i) expected.push_back(a.trainer->RunIteration());

    Setup other = s;
    other.seed = 99;  // other weights, RNG and env seeds until the checkpoint replaces them
    other.threads = 1;
    auto b = Make(other);
    rimlab::LoadCheckpoint(b.trainer.get(), path);
    CHECK(b.trainer->frames() == 3 * a.trainer->frames_per_iteration());
    for (int i = 0; i < 3; ++i) {
      const auto sa = expected[static_cast<size_t>(i)];
      const auto sb = b.trainer->RunIteration();
      CHECK(sa.loss.policy_loss == sb.loss.policy_loss);
      CHECK(sa.loss.value_loss == sb.loss.value_loss);
      CHECK(sa.loss.entropy == sb.loss.entropy);
      REQUIRE(sa.episodes.size() == sb.episodes.size());
      for (size_t e = 0; e < sa.episodes.size(); ++e) {
        CHECK(sa.episodes[e].episode_return == sb.episodes[e].episode_return);
      }
    }
    auto pa = a.trainer->model()->parameters();
    auto pb = b.trainer->model()->parameters();
    for (size_t i = 0; i < pa.size(); ++i) CHECK(torch::equal(pa[i], pb[i]));
    std::filesystem::remove_all(dir);
  }
}

TEST_CASE("a checkpoint of another model is refused with the file named") {
  Setup s;
  auto a = Make(s);
  a.trainer->RunIteration();
  const auto dir = std::filesystem::temp_directory_path() / "rimlab_test_ckpt2";
  std::filesystem::remove_all(dir);
  const auto path = rimlab::SaveCheckpoint(*a.trainer, dir.string());
  Setup t = s;
  t.core = "rim";
  auto b = Make(t);
  CHECK_THROWS_WITH(rimlab::LoadCheckpoint(b.trainer.get(), path), Catch::Contains(path));
  std::filesystem::remove_all(dir);
}

TEST_CASE("PPO and A2C learn a tiny grid", "[.slow][slow]") {
  for (const std::string algo : {"ppo", "a2c"}) {
    SECTION(algo) {
      Setup s;
      s.env = "pickup";
      s.env_params = P({{"size", int64_t{5}}, {"num_objects", int64_t{1}}});
      s.num_envs = 16;
      s.threads = 2;
      s.algo = algo;
      s.algo_params = algo == "ppo" ? P({{"steps", int64_t{64}},
                                         {"batch_size", int64_t{256}},
                                         {"recurrence", int64_t{4}},
                                         {"lr", 1e-3}})
                                    : P({{"steps", int64_t{8}}, {"lr", 1e-3}});
      auto run = Make(s);
      // Random actions succeed on about a quarter of the episodes.
      CHECK(TrainUntil(&run, 0.9, algo == "ppo" ? 300 : 2500) >= 0.9);
    }
  }
}
