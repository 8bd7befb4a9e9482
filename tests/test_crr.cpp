// CRR (agents/crr.h): the weights on hand-computed values, the loss against a plain loop that
// steps the policy and its target network one observation at a time through each episode, the
// Q head's value, the target network's copy and its refresh period.
#include <torch/torch.h>

#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "agents/crr.h"
#include "agents/rollout.h"
#include "envs/core/env.h"
#include "envs/registry.h"
#include "tests/offline_episodes.h"

using namespace rimlab;
using namespace rimlab::agents;

namespace {

EnvSpec Pickup() {
  Params p;
  p.Set("size", int64_t{6});
  p.Set("num_objects", int64_t{2});
  p.Set("max_steps", int64_t{9});
  return MakeEnv("pickup", p)->Spec();
}

ActorCriticOptions QPolicy(const std::string& core) {
  ActorCriticOptions o;
  o.core.type = core;
  o.core.hidden_size = 16;
  o.core.rim.num_units(4).top_k(2).unit_size(8);
  o.q_head = true;
  return o;
}

/// Random episodes of pickup 6x6 with a 9-step limit (some truncated, some terminated): mostly
/// pick-ups (action 3), so that episodes end both ways.
EpisodeStore Recorded(int episodes, uint64_t seed) {
  auto rng = std::make_shared<std::mt19937_64>(seed);
  return offline_test::Record(episodes, seed, 9, [rng](const Observation&) {
    return (*rng)() % 3 == 0 ? 3 : static_cast<int>((*rng)() % 3);
  });
}

using offline_test::Row;

}  // namespace

TEST_CASE("CRR weights: exponential with its ceiling, and binary", "[crr]") {
  const auto a = torch::tensor({-1.0f, 0.0f, 1.0f, 5.0f});
  CrrConfig c;
  auto w = CrrWeights(a, c);
  CHECK(w[0].item<float>() == Approx(std::exp(-1.0)));
  CHECK(w[1].item<float>() == Approx(1.0));
  CHECK(w[2].item<float>() == Approx(std::exp(1.0)));
  CHECK(w[3].item<float>() == Approx(20.0));  // exp(5) = 148 capped
  c.beta = 2.0;
  c.max_weight = 100.0;
  w = CrrWeights(a, c);
  CHECK(w[3].item<float>() == Approx(std::exp(2.5)));
  c.weighting = "binary";
  w = CrrWeights(a, c);
  CHECK(w[0].item<float>() == 0.0f);
  CHECK(w[1].item<float>() == 0.0f);  // A > 0 strictly
  CHECK(w[2].item<float>() == 1.0f);
  CHECK(w[3].item<float>() == 1.0f);
}

TEST_CASE("the Q head: value is the policy's expectation of Q; a copy is its own", "[crr]") {
  torch::manual_seed(1);
  ActorCritic model(Pickup(), QPolicy("lstm"));
  const EpisodeStore store = Recorded(1, 2);
  const auto out = model->Step(Row(store, store.episode(0), 0), model->InitialState(1), {});
  REQUIRE(out.q.sizes() == torch::IntArrayRef({1, 7}));
  CHECK(out.value.item<float>() ==
        Approx((torch::softmax(out.logits, -1) * out.q).sum().item<float>()));
  ActorCritic copy(model->Copy());
  const auto again = copy->Step(Row(store, store.episode(0), 0), copy->InitialState(1), {});
  CHECK(torch::equal(again.q, out.q));
  {
    torch::NoGradGuard no_grad;
    for (auto& p : model->parameters()) p.add_(1.0);
  }
  const auto after = copy->Step(Row(store, store.episode(0), 0), copy->InitialState(1), {});
  CHECK(torch::equal(after.q, out.q));  // the copy did not move with the original
}

TEST_CASE("the CRR loss equals a step-by-step plain loop", "[crr]") {
  const std::string core = GENERATE(as<std::string>(), "lstm", "rim");
  const std::string weighting = GENERATE(as<std::string>(), "exp", "binary");
  const double cql = GENERATE(0.0, 0.3);
  CAPTURE(core, weighting, cql);
  torch::manual_seed(5);
  const EpisodeStore store = Recorded(4, 31);
  ActorCritic model(Pickup(), QPolicy(core));
  ActorCritic target(Pickup(), QPolicy(core));  // another network: the targets come from it
  model->eval();
  target->eval();
  CrrConfig c;
  c.weighting = weighting;
  c.beta = 0.5;
  c.gamma = 0.9;
  c.cql_alpha = cql;
  const std::vector<int64_t> ids = {0, 1, 2, 3};
  const CrrLoss loss =
      CriticRegularizedRegressionLoss(model, target, MakeEpisodeBatch(store, ids), c);

  torch::NoGradGuard no_grad;
  double policy = 0.0, critic = 0.0, weights = 0.0;
  int64_t n = 0;
  for (int64_t id : ids) {
    const StoredEpisode& e = store.episode(id);
    auto s = model->InitialState(1);
    auto s_target = target->InitialState(1);
    // The target's value of every observation row, the final one included.
    std::vector<double> v_target;
    for (int64_t t = 0; t <= e.steps(); ++t) {
      const auto out = target->Step(Row(store, e, t), s_target, {});
      s_target = out.state;
      v_target.push_back(out.value.item<double>());
    }
    for (int64_t t = 0; t < e.steps(); ++t) {
      const auto out = model->Step(Row(store, e, t), s, {});
      s = out.state;
      const auto a = e.actions[static_cast<size_t>(t)];
      const auto pi = torch::softmax(out.logits[0], -1);
      const double q_a = out.q[0][a].item<double>();
      const double adv = q_a - (pi * out.q[0]).sum().item<double>();
      const double f = weighting == "binary" ? (adv > 0 ? 1.0 : 0.0)
                                             : std::min(std::exp(adv / c.beta), c.max_weight);
      const double y = e.rewards[static_cast<size_t>(t)] +
                       c.gamma * (e.terminations[static_cast<size_t>(t)] ? 0.0 : 1.0) *
                           v_target[static_cast<size_t>(t + 1)];
      policy -= f * std::log(pi[a].item<double>());
      critic +=
          0.5 * (q_a - y) * (q_a - y) + cql * (torch::logsumexp(out.q[0], 0).item<double>() - q_a);
      weights += f;
      ++n;
    }
  }
  const double dn = static_cast<double>(n);
  CHECK(loss.policy_loss == Approx(policy / dn).epsilon(1e-4));
  CHECK(loss.critic_loss == Approx(critic / dn).epsilon(1e-4));
  CHECK(loss.weight_mean == Approx(weights / dn).epsilon(1e-4));
  CHECK(loss.loss.item<double>() ==
        Approx(loss.policy_loss + c.critic_coef * loss.critic_loss).epsilon(1e-5));
}

TEST_CASE("the target network follows every target_period updates", "[crr]") {
  torch::manual_seed(6);
  const EpisodeStore store = Recorded(3, 41);
  ActorCritic model(Pickup(), QPolicy("lstm"));
  CrrConfig c;
  c.target_period = 3;
  c.lr = 1e-2;
  CriticRegularizedRegression crr(model, c);
  const auto batch = MakeEpisodeBatch(store, {0, 1, 2});
  const auto same = [&] {
    const auto a = model->parameters(), b = crr.target()->parameters();
    for (size_t i = 0; i < a.size(); ++i) {
      if (!torch::equal(a[i], b[i])) return false;
    }
    return true;
  };
  CHECK(same());
  crr.Update(batch, 1);
  CHECK_FALSE(same());
  crr.Update(batch, 2);
  CHECK_FALSE(same());
  crr.Update(batch, 3);
  CHECK(same());
  CHECK_THROWS_WITH(CriticRegularizedRegression(ActorCritic(Pickup(), ActorCriticOptions{}), c),
                    Catch::Contains("q_head"));
}
