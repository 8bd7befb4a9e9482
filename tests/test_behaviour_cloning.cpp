// Offline data and behaviour cloning (agents/offline_data.h, agents/behaviour_cloning.h): the
// episode batch against the stored episodes element by element, the store's checks, the sampler's
// epochs and its saved state, and the loss against a plain loop that steps the policy one
// observation at a time through each episode (Step, not Unroll) with the state carried.
#include <torch/torch.h>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <set>
#include <vector>

#include "agents/behaviour_cloning.h"
#include "agents/offline_data.h"
#include "agents/rollout.h"
#include "envs/core/env.h"
#include "envs/grid/view_features.h"
#include "envs/registry.h"
#include "tests/offline_episodes.h"

using namespace rimlab;
using namespace rimlab::agents;

namespace {

/// Random actions drawn from `seed`.
EpisodeStore Recorded(int episodes, uint64_t seed) {
  auto rng = std::make_shared<std::mt19937_64>(seed);
  return offline_test::Record(episodes, seed, 12,
                              [rng](const Observation&) { return static_cast<int>((*rng)() % 7); });
}

ActorCriticOptions SmallPolicy(const std::string& core) {
  ActorCriticOptions o;
  o.core.type = core;
  o.core.hidden_size = 16;
  o.core.rim.num_units(4).top_k(2).unit_size(8);
  return o;
}

}  // namespace

TEST_CASE("an episode batch holds each episode's rows, padded with its final observation",
          "[offline]") {
  const EpisodeStore store = Recorded(6, 11);
  const std::vector<int64_t> ids = {4, 0, 2};
  const EpisodeBatch batch = MakeEpisodeBatch(store, ids);
  int64_t T = 0, steps = 0;
  for (int64_t id : ids) {
    T = std::max(T, store.episode(id).steps());
    steps += store.episode(id).steps();
  }
  REQUIRE(batch.actions.sizes() == torch::IntArrayRef({T, 3}));
  CHECK(batch.steps == steps);
  CHECK(batch.mask.sum().item<double>() == static_cast<double>(steps));
  const auto& fields = store.spec().fields;
  for (size_t b = 0; b < ids.size(); ++b) {
    const StoredEpisode& e = store.episode(ids[b]);
    const int64_t n = e.steps();
    for (int64_t t = 0; t < T; ++t) {
      const auto bi = static_cast<int64_t>(b);
      const bool real = t < n;
      REQUIRE(batch.mask[t][bi].item<float>() == (real ? 1.0f : 0.0f));
      REQUIRE(batch.actions[t][bi].item<int64_t>() == (real ? e.actions[t] : 0));
      REQUIRE(batch.rewards[t][bi].item<float>() == (real ? e.rewards[t] : 0.0f));
      REQUIRE(batch.done[t][bi].item<float>() == (real && e.terminations[t] ? 1.0f : 0.0f));
    }
    for (size_t f = 0; f < fields.size(); ++f) {
      const size_t row = fields[f].NumBytes();
      const auto field = batch.obs[f].contiguous();
      const auto* data = static_cast<const uint8_t*>(field.data_ptr());
      for (int64_t t = 0; t <= T; ++t) {
        const int64_t src = std::min(t, n);
        REQUIRE(std::memcmp(data + (t * 3 + static_cast<int64_t>(b)) * static_cast<int64_t>(row),
                            e.observations[f].data() + src * static_cast<int64_t>(row), row) == 0);
      }
    }
  }
}

TEST_CASE("the store refuses episodes that do not fit its spec", "[offline]") {
  EpisodeStore good = Recorded(1, 3);
  StoredEpisode e = good.episode(0);
  EpisodeStore store(good.spec(), good.num_actions());
  SECTION("an action outside the action space") {
    e.actions[0] = 7;
    CHECK_THROWS_WITH(store.Add(e), Catch::Contains("action 7 outside [0, 7)"));
  }
  SECTION("a field one row short") {
    e.observations[0].resize(e.observations[0].size() - good.spec().fields[0].NumBytes());
    CHECK_THROWS_WITH(store.Add(e), Catch::Contains("steps + 1 rows"));
  }
  SECTION("rewards missing") {
    e.rewards.pop_back();
    CHECK_THROWS_WITH(store.Add(e), Catch::Contains("one entry a step"));
  }
  CHECK(store.num_episodes() == 0);
}

TEST_CASE("the sampler visits every episode once an epoch and resumes its sequence", "[offline]") {
  EpisodeSampler sampler(10, 4, 5);
  std::multiset<int64_t> seen;
  std::vector<int64_t> first;
  for (int i = 0; i < 5; ++i) {  // 20 ids: two epochs
    for (int64_t id : sampler.Next()) {
      seen.insert(id);
      first.push_back(id);
    }
  }
  for (int64_t id = 0; id < 10; ++id) CHECK(seen.count(id) == 2);
  EpisodeSampler a(10, 4, 5);
  a.Next();
  const std::string saved = a.Save();
  EpisodeSampler b(10, 4, 99);
  b.Load(saved);
  for (int i = 0; i < 4; ++i) CHECK(a.Next() == b.Next());
  CHECK_THROWS(EpisodeSampler(11, 4, 5).Load(saved));
}

TEST_CASE("the behaviour-cloning loss equals a step-by-step plain loop", "[offline]") {
  const std::string core = GENERATE(as<std::string>(), "lstm", "rim");
  CAPTURE(core);
  torch::manual_seed(3);
  const EpisodeStore store = Recorded(5, 21);
  Params p;
  p.Set("size", int64_t{6});
  p.Set("num_objects", int64_t{2});
  ActorCritic model(MakeEnv("pickup", p)->Spec(), SmallPolicy(core));
  model->eval();
  const std::vector<int64_t> ids = {0, 1, 2, 3, 4};
  const EpisodeBatch batch = MakeEpisodeBatch(store, ids);
  const BcLoss loss = BehaviourCloningLoss(model, batch, 0.0);

  torch::NoGradGuard no_grad;
  double nll = 0.0, hits = 0.0;
  int64_t decisions = 0;
  for (int64_t id : ids) {
    const StoredEpisode& e = store.episode(id);
    auto state = model->InitialState(1);
    for (int64_t t = 0; t < e.steps(); ++t) {
      const ObsTensors obs = offline_test::Row(store, e, t);
      const auto out = model->Step(obs, state, {});
      state = out.state;
      const auto log_p = torch::log_softmax(out.logits[0], -1);
      nll -= log_p[e.actions[static_cast<size_t>(t)]].item<double>();
      hits += out.logits[0].argmax().item<int64_t>() == e.actions[static_cast<size_t>(t)] ? 1 : 0;
      ++decisions;
    }
  }
  CHECK(loss.nll == Approx(nll / static_cast<double>(decisions)).epsilon(1e-5));
  CHECK(loss.accuracy == Approx(hits / static_cast<double>(decisions)));
  CHECK(loss.loss.item<double>() == Approx(loss.nll).epsilon(1e-6));
}

TEST_CASE("behaviour cloning fits a recorded policy", "[offline]") {
  // A scripted teacher that reads its view: forward, or turn left when a wall is ahead. A clone
  // must read the view too to get beyond guessing; a few hundred updates suffice.
  torch::manual_seed(4);
  const EpisodeStore store = offline_test::Record(40, 100, 12, [](const Observation& obs) {
    // Fields in the gridworld's order: image, direction, mission.
    uint8_t features[5];
    grid::ViewFeatures(static_cast<const uint8_t*>(obs.data(0)),
                       static_cast<const int32_t*>(obs.data(2)), features);
    return features[3] != 0 ? 0 : 2;  // "wall ahead": left; otherwise forward
  });
  const EnvSpec spec = [] {
    Params p;
    p.Set("size", int64_t{6});
    p.Set("num_objects", int64_t{2});
    return MakeEnv("pickup", p)->Spec();
  }();
  REQUIRE(spec.observation.IndexOf("image") == 0);
  REQUIRE(spec.observation.IndexOf("mission") == 2);
  ActorCritic model(spec, SmallPolicy("lstm"));
  BcConfig c;
  c.lr = 3e-3;
  c.batch_episodes = 8;
  BehaviourCloning bc(model, c);
  EpisodeSampler sampler(store.num_episodes(), c.batch_episodes, 1);
  BcStats s;
  for (int i = 0; i < 300; ++i) s = bc.Update(MakeEpisodeBatch(store, sampler.Next()));
  model->eval();
  const BcLoss all = BehaviourCloningLoss(
      model,
      MakeEpisodeBatch(store,
                       [&] {
                         std::vector<int64_t> ids(static_cast<size_t>(store.num_episodes()));
                         for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int64_t>(i);
                         return ids;
                       }()),
      0.0);
  CHECK(all.accuracy > 0.95);
  CHECK(all.nll < 0.2);
}
