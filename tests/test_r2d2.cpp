// Recurrent DQN (agents/r2d2.h, runners/train/dqn_trainer.h): value rescaling and n-step targets
// against hand-computed values, the Ape-X epsilons, the stored start states against a fresh
// unroll of the actor's network, priorities after a learner step, the epsilon-greedy policy the
// Q-network exports, and exact resume of a trainer from its checkpoint archive.
#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <set>
#include <vector>

#include "agents/r2d2.h"
#include "envs/registry.h"
#include "runners/train/dqn_trainer.h"

using namespace rimlab;
using namespace rimlab::agents;

namespace {

ActorCriticOptions Options(const std::string& core) {
  ActorCriticOptions o;
  o.core.type = core;
  o.core.hidden_size = 16;
  o.core.rim.num_units(4).top_k(2).unit_size(8);
  o.q_head = true;
  o.q_policy = true;
  return o;
}

std::unique_ptr<Environment> Pickup() {
  Params p;
  p.Set("size", int64_t{5});
  p.Set("num_objects", int64_t{2});
  return MakeEnv("pickup", p);
}

PoolOptions Pool(int envs) {
  PoolOptions o;
  o.num_envs = envs;
  o.num_threads = 1;
  o.seed = 3;
  return o;
}

R2d2Config Small() {
  R2d2Config c;
  c.batch_size = 8;
  c.sequence_length = 8;
  c.burn_in = 2;
  c.period = 4;
  c.n_step = 3;
  c.replay_capacity = 4000;
  c.learning_starts = 200;
  c.frames_per_update = 16;
  c.target_period = 5;
  return c;
}

}  // namespace

TEST_CASE("value rescaling and its inverse, by hand") {
  const auto x = torch::tensor({3.0, -8.0, 0.0}, torch::kFloat64);
  const auto h = ValueRescale(x, 1e-3);
  CHECK(h[0].item<double>() == Approx(1.0 + 0.003));   // sqrt(4) - 1 + eps * 3
  CHECK(h[1].item<double>() == Approx(-2.0 - 0.008));  // -(sqrt(9) - 1) - eps * 8
  CHECK(h[2].item<double>() == 0.0);
  const auto many = torch::linspace(-500.0, 500.0, 1001, torch::kFloat64);
  const auto back = ValueRescaleInverse(ValueRescale(many, 1e-3), 1e-3);
  CHECK(torch::allclose(back, many, 1e-9, 1e-7));
}

TEST_CASE("n-step double-Q targets, by hand: termination cuts the bootstrap, truncation keeps it") {
  // Column 0: five timesteps, the last terminal. Column 1: three, the episode truncated there.
  const auto rewards =
      torch::tensor({{0.0f, 0.0f}, {1.0f, 1.0f}, {2.0f, 1.0f}, {3.0f, 0.0f}, {4.0f, 0.0f}});
  const auto discounts =
      torch::tensor({{1.0f, 1.0f}, {1.0f, 1.0f}, {1.0f, 1.0f}, {1.0f, 0.0f}, {0.0f, 0.0f}});
  const auto valid =
      torch::tensor({{1.0f, 1.0f}, {1.0f, 1.0f}, {1.0f, 1.0f}, {1.0f, 0.0f}, {1.0f, 0.0f}});
  const auto q =
      torch::tensor({{10.0f, 1.0f}, {20.0f, 2.0f}, {30.0f, 3.0f}, {40.0f, 9.0f}, {50.0f, 9.0f}});
  const auto y = NStepTargets(rewards, discounts, valid, q, 2, 0.5);
  const std::vector<std::vector<float>> expected = {
      {1 + 0.5f * 2 + 0.25f * 30, 1 + 0.5f * 1 + 0.25f * 3},  // 9.5, 2.25
      {2 + 0.5f * 3 + 0.25f * 40, 1 + 0.5f * 3},              // 13.5, 2.5 (one step left)
      {3 + 0.5f * 4 + 0.0f, 0},                               // 5: the terminal's discount 0
      {4 + 0.0f, 0},                                          // 4: one step, no bootstrap
      {0, 0}};
  for (int t = 0; t < 5; ++t) {
    for (int b = 0; b < 2; ++b) {
      INFO("t " << t << " b " << b);
      CHECK(y[t][b].item<float>() ==
            Approx(expected[static_cast<size_t>(t)][static_cast<size_t>(b)]));
    }
  }
}

TEST_CASE("Ape-X epsilons: eps^(1 + alpha i / (N - 1))") {
  R2d2Config c;
  c.epsilon = 0.4;
  c.epsilon_alpha = 7.0;
  CHECK(ActorEpsilon(c, 0, 16) == Approx(0.4));
  CHECK(ActorEpsilon(c, 15, 16) == Approx(std::pow(0.4, 8.0)));
  CHECK(ActorEpsilon(c, 5, 16) == Approx(std::pow(0.4, 1.0 + 7.0 * 5 / 15)));
  CHECK(ActorEpsilon(c, 0, 1) == Approx(0.4));
}

TEST_CASE("the Q-network's exported policy is epsilon-greedy on Q") {
  torch::manual_seed(1);
  auto env = Pickup();
  ActorCritic model(env->Spec(), Options("lstm"));
  Observation obs(env->Spec().observation);
  env->Seed(1);
  env->Reset(obs.Ref());
  ObsTensors x = SingleObservation(obs, env->Spec().observation);
  const auto out = model->Step(x, model->InitialState(1), {});
  const auto p = torch::softmax(out.logits, -1)[0];
  const int64_t best = out.q[0].argmax().item<int64_t>();
  const double eps = model->options().q_policy_epsilon;
  const int64_t A = out.q.size(1);
  for (int64_t a = 0; a < A; ++a) {
    CHECK(p[a].item<double>() == Approx((a == best ? 1 - eps : 0.0) + eps / A));
  }
  CHECK(out.value[0].item<float>() == Approx(out.q[0].max().item<float>()));
}

TEST_CASE("stored start states equal a fresh unroll from the episode's start", "[r2d2]") {
  for (const std::string core : {"lstm", "rim"}) {
    INFO(core);
    torch::manual_seed(2);
    ActorPool pool([](int) { return Pickup(); }, Pool(3));
    ActorCritic model(pool.spec(), Options(core));
    R2d2Config c = Small();
    c.learning_starts = 1 << 30;  // no updates: the network the actors used stays the same
    DqnTrainer trainer(&pool, model, c, 3000, 7);
    while (!trainer.done()) trainer.RunIteration();
    // Every sequence, gathered; index them by (env, start).
    Rng rng(1);
    std::set<int64_t> ids;
    for (int k = 0; k < 200; ++k) {
      for (int64_t id : trainer.replay().Draw(32, &rng).ids) ids.insert(id);
    }
    SequenceReplay::Batch all;
    trainer.replay().Gather(std::vector<int64_t>(ids.begin(), ids.end()), &all);
    std::map<std::pair<int, int64_t>, int> at;
    for (int b = 0; b < all.size; ++b)
      at[{all.env[static_cast<size_t>(b)], all.start[static_cast<size_t>(b)]}] = b;
    const auto& fields = pool.spec().observation.fields;
    int checked = 0;
    for (int b = 0; b < all.size; ++b) {
      if (all.first[static_cast<size_t>(b)] == 0) continue;
      // Unroll this episode's opening sequence from zeros; each later sequence of the same
      // episode that starts within it must have stored the state reached there.
      torch::NoGradGuard no_grad;
      auto state = model->InitialState(1);
      for (int t = 0; t < all.steps; ++t) {
        if (all.valid[static_cast<size_t>(t) * static_cast<size_t>(all.size) +
                      static_cast<size_t>(b)] == 0)
          break;
        const auto it =
            at.find({all.env[static_cast<size_t>(b)], all.start[static_cast<size_t>(b)] + t});
        if (t > 0 && it != at.end()) {
          const int s = it->second;
          int64_t offset = 0;
          for (const auto& tensor : state.tensors) {
            const auto flat = tensor.reshape({-1});
            for (int64_t i = 0; i < flat.numel(); ++i) {
              CHECK(all.start_state[static_cast<size_t>(s) *
                                        (all.start_state.size() / static_cast<size_t>(all.size)) +
                                    static_cast<size_t>(offset + i)] ==
                    Approx(flat[i].item<float>()).epsilon(0.004).margin(1e-6));  // kept as bfloat16
            }
            offset += flat.numel();
          }
          ++checked;
        }
        ObsTensors x;
        for (size_t f = 0; f < fields.size(); ++f) {
          std::vector<int64_t> shape = {1};
          shape.insert(shape.end(), fields[f].shape.begin(), fields[f].shape.end());
          const size_t bytes = fields[f].NumBytes();
          x.push_back(torch::from_blob(const_cast<uint8_t*>(all.obs[f].data()) +
                                           (static_cast<size_t>(t) * static_cast<size_t>(all.size) +
                                            static_cast<size_t>(b)) *
                                               bytes,
                                       shape, TorchDType(fields[f].dtype))
                          .clone());
        }
        state = model->Step(x, state, {}).state;
      }
    }
    CHECK(checked > 5);
  }
}

TEST_CASE("a learner step updates the sampled sequences' priorities") {
  torch::manual_seed(3);
  ActorPool pool([](int) { return Pickup(); }, Pool(2));
  ActorCritic model(pool.spec(), Options("lstm"));
  DqnTrainer trainer(&pool, model, Small(), 100000, 1);
  DqnIterationStats s;
  while (!s.updated) {
    // Before the first update every sequence has the initial priority: uniform weights.
    Rng rng(5);
    if (trainer.replay().size() > 0) {
      for (float w : trainer.replay().Draw(16, &rng).weights) CHECK(w == Approx(1.0f));
    }
    s = trainer.RunIteration();
  }
  REQUIRE(s.update.loss.priorities.size() == 8);
  Rng rng(5);
  const auto weights = trainer.replay().Draw(256, &rng).weights;
  const float lo = *std::min_element(weights.begin(), weights.end());
  CHECK(lo < 0.999f);  // no longer all equal
  CHECK(s.update.loss.steps > 0);
  CHECK(std::isfinite(s.update.loss.loss.item<double>()));
}

TEST_CASE("a trainer restored from its archive continues exactly") {
  const auto run = [](bool split) {
    torch::manual_seed(4);
    ActorPool pool([](int) { return Pickup(); }, Pool(2));
    ActorCritic model(pool.spec(), Options("rim"));
    DqnTrainer trainer(&pool, model, Small(), 1600, 9);
    for (int i = 0; i < 30; ++i) trainer.RunIteration();
    if (split) {
      torch::serialize::OutputArchive out;
      trainer.Save(&out);
      std::ostringstream bytes;
      out.save_to(bytes);
      torch::manual_seed(99);  // a different process's generator state
      ActorPool pool2([](int) { return Pickup(); }, Pool(2));
      ActorCritic model2(pool2.spec(), Options("rim"));
      DqnTrainer restored(&pool2, model2, Small(), 1600, 9);
      torch::serialize::InputArchive in;
      std::istringstream read(bytes.str());
      in.load_from(read);
      restored.Load(&in);
      std::vector<double> losses;
      while (!restored.done()) {
        const auto s = restored.RunIteration();
        losses.push_back(s.updated ? s.update.loss.loss.item<double>() : -1.0);
      }
      return losses;
    }
    std::vector<double> losses;
    while (!trainer.done()) {
      const auto s = trainer.RunIteration();
      losses.push_back(s.updated ? s.update.loss.loss.item<double>() : -1.0);
    }
    return losses;
  };
  const auto whole = run(false);
  const auto resumed = run(true);
  REQUIRE(whole.size() == resumed.size());
  REQUIRE(whole.size() > 30);
  for (size_t i = 0; i < whole.size(); ++i) CHECK(whole[i] == resumed[i]);
}

namespace {

// Trains with the shipped defaults (R2d2Config{}) but `changes`, then plays `episodes` greedy
// episodes on fresh envs and returns the success rate.
double TrainAndEvaluate(const std::string& env_name, const Params& env_params,
                        const ActorCriticOptions& options, const R2d2Config& config, int64_t frames,
                        int episodes) {
  torch::manual_seed(1);
  PoolOptions po = Pool(16);
  po.num_threads = 2;
  ActorPool pool([&](int) { return MakeEnv(env_name, env_params); }, po);
  ActorCritic model(pool.spec(), options);
  DqnTrainer trainer(&pool, model, config, frames, 1);
  while (!trainer.done()) trainer.RunIteration();
  // Greedy on Q, with the core state carried through each episode.
  auto env = MakeEnv(env_name, env_params);
  env->Seed(12345);
  Observation obs(env->Spec().observation);
  int successes = 0;
  torch::NoGradGuard no_grad;
  for (int e = 0; e < episodes; ++e) {
    TimeStep ts = env->Reset(obs.Ref());
    auto state = model->InitialState(1);
    while (!ts.last()) {
      const auto out = model->Step(SingleObservation(obs, env->Spec().observation), state, {});
      state = out.state;
      Action a;
      a.index = static_cast<int32_t>(out.q.argmax(-1).item<int64_t>());
      ts = env->Step(a, obs.Ref());
    }
    successes += ts.success ? 1 : 0;
  }
  return static_cast<double>(successes) / episodes;
}

}  // namespace

TEST_CASE("DQN learns to recall a cue across a delay (the core's memory is needed)") {
  Params p;
  p.Set("num_cues", int64_t{2});
  p.Set("delay", int64_t{3});
  ActorCriticOptions o;
  o.core.hidden_size = 32;
  o.mlp_hidden = 32;
  o.head_hidden = 32;
  o.q_head = true;
  o.q_policy = true;
  R2d2Config c;
  c.sequence_length = 10;
  c.burn_in = 2;
  c.period = 5;
  c.learning_starts = 2000;
  c.frames_per_update = 32;
  c.target_period = 100;
  // A memoryless policy scores 0.5.
  CHECK(TrainAndEvaluate("memory", p, o, c, 40000, 200) >= 0.95);
}
