// The fused actor-critic loss (agents/fused_loss.h) against the same loss written operator by
// operator: value, logged terms and the gradients of logits and values, for PPO with and without
// value clipping and for A2C, with masked rows, ratios on both sides of the clip, saturated
// policies, a NaN and bad actions; and a whole policy's minibatch gradient with every fused node
// on against every one off.
#include <torch/torch.h>
// LibTorch brings glog, whose CHECK would shadow Catch2's: Catch2 must own it here.
#undef CHECK
#include <catch2/catch.hpp>

#include <cmath>

#include "agents/actor_critic.h"
#include "agents/fused_loss.h"
#include "agents/parallel_gradient.h"
#include "agents/rollout.h"
#include "envs/registry.h"
#include "models/rnn_cores.h"

using namespace rimlab::agents;  // NOLINT: test file

namespace {

LossInputs Random(uint64_t seed, double logit_scale = 1.0) {
  torch::manual_seed(seed);
  const int64_t t = 4, b = 16, a = 7;
  LossInputs in;
  in.logits = (logit_scale * torch::randn({t, b, a})).requires_grad_();
  in.value = torch::randn({t, b}).requires_grad_();
  in.actions = torch::randint(0, a, {t, b}, torch::kInt64);
  {
    torch::NoGradGuard no_grad;
    // The acting policy's log-probabilities: the current ones moved by up to +-0.5, so ratios
    // fall inside and outside [0.8, 1.2]; a quarter unchanged (ratio 1, surrogates tied).
    auto logp = torch::log_softmax(in.logits, -1).gather(-1, in.actions.unsqueeze(-1)).squeeze(-1);
    auto shift = 0.5 * (2 * torch::rand({t, b}) - 1) * (torch::rand({t, b}) > 0.25);
    in.log_probs = logp + shift;
    in.values = in.value + 0.4 * torch::randn({t, b});
  }
  in.advantages = torch::randn({t, b});
  in.advantages.view({-1}).narrow(0, 0, 5).zero_();
  in.returns = torch::randn({t, b});
  in.mask = (torch::rand({t, b}) > 0.2).to(torch::kFloat32);
  return in;
}

void CheckSame(const LossInputs& in, const LossOptions& o, double rows) {
  LossOptions ref_options = o;
  ref_options.fused = false;
  const auto ref = OperatorActorCriticLoss(in, ref_options, rows);
  const auto fused = FusedActorCriticLoss(in, o, rows);
  CHECK(fused.loss.item<double>() == Approx(ref.loss.item<double>()).margin(1e-5));
  CHECK(fused.policy_loss == Approx(ref.policy_loss).margin(1e-5));
  CHECK(fused.value_loss == Approx(ref.value_loss).margin(1e-5));
  CHECK(fused.entropy == Approx(ref.entropy).margin(1e-5));
  CHECK(fused.approx_kl == Approx(ref.approx_kl).margin(1e-5));
  CHECK(fused.clipfrac == Approx(ref.clipfrac).margin(1e-5));
  const auto g_ref = torch::autograd::grad({ref.loss}, {in.logits, in.value});
  const auto g_fused = torch::autograd::grad({fused.loss}, {in.logits, in.value});
  CHECK(torch::allclose(g_fused[0], g_ref[0], 1e-4, 1e-6));
  CHECK(torch::allclose(g_fused[1], g_ref[1], 1e-4, 1e-6));
}

}  // namespace

TEST_CASE("fused loss equals the operator loss for PPO", "[fused_loss]") {
  LossOptions o;
  o.clip = 0.2;
  o.entropy_coef = 0.05;
  for (bool clip_value : {false, true}) {
    for (double rows : {0.0, 50.0}) {
      INFO("clip_value " << clip_value << ", rows " << rows);
      o.clip_value = clip_value;
      CheckSame(Random(1), o, rows);
      CheckSame(Random(2, 3.0), o, rows);
    }
  }
}

TEST_CASE("fused loss equals the operator loss for A2C", "[fused_loss]") {
  LossOptions o;
  o.clip = 0.0;
  o.entropy_coef = 0.5;
  o.value_coef = 0.25;
  CheckSame(Random(3), o, 0.0);
  CheckSame(Random(4), o, 40.0);
}

TEST_CASE("fused loss stays finite on saturated policies", "[fused_loss]") {
  // exp underflows to 0 for the other actions: p log p must be 0 in the gradient, not NaN.
  auto in = Random(5);
  {
    torch::NoGradGuard no_grad;
    in.logits.mul_(0).select(2, 0).fill_(200.0f);
  }
  LossOptions o;
  o.clip = 0.2;
  const auto fused = FusedActorCriticLoss(in, o, 0.0);
  const auto g = torch::autograd::grad({fused.loss}, {in.logits, in.value});
  CHECK(std::isfinite(fused.loss.item<double>()));
  CHECK(torch::isfinite(g[0]).all().item<bool>());
  CheckSame(in, o, 0.0);
}

TEST_CASE("fused loss passes a NaN on and rejects bad actions", "[fused_loss]") {
  auto in = Random(6);
  {
    torch::NoGradGuard no_grad;
    in.logits.view({-1})[3] = std::nan("");
  }
  LossOptions o;
  o.clip = 0.2;
  CHECK(std::isnan(FusedActorCriticLoss(in, o, 0.0).loss.item<double>()));

  auto bad = Random(7);
  bad.actions.view({-1})[2] = 7;
  CHECK_THROWS_AS(FusedActorCriticLoss(bad, o, 0.0), std::out_of_range);
  auto short_mask = Random(8);
  short_mask.mask = short_mask.mask.narrow(0, 0, 2);
  CHECK_THROWS_AS(FusedActorCriticLoss(short_mask, o, 0.0), std::invalid_argument);
}

namespace {

/// rl-starter-files' policy on pickup 6x6 N2 with every fused node on or off.
ActorCritic MakePolicy(const rimlab::EnvSpec& spec, bool fused, const std::string& core) {
  torch::manual_seed(21);
  ActorCriticOptions o;
  o.core.type = core;
  o.core.rim.num_units(6).top_k(4).unit_size(16).input_dropout(0.0).comm_dropout(0.0);
  o.core.rim.fused(fused);
  o.grid.fused(fused);
  ActorCritic model(spec, o);
  for (auto& m : model->modules()) {
    if (auto* rnn = m->as<rimlab::models::GatedRNNCoreImpl>()) rnn->fused = fused;
  }
  return model;
}

/// A minibatch of T x chunks rows with observations drawn within the env's specs.
ChunkBatch RandomBatch(const rimlab::EnvSpec& spec, ActorCritic& model, int64_t t, int64_t chunks) {
  torch::manual_seed(22);
  ChunkBatch mb;
  for (const auto& f : spec.observation.fields) {
    std::vector<int64_t> shape = {t, chunks};
    shape.insert(shape.end(), f.shape.begin(), f.shape.end());
    mb.obs.push_back(
        torch::randint(static_cast<int64_t>(f.minimum), static_cast<int64_t>(f.maximum) + 1, shape)
            .to(TorchDType(f.dtype)));
  }
  mb.first = (torch::rand({t, chunks}) < 0.1).to(torch::kFloat32);
  mb.mask = (torch::rand({t, chunks}) > 0.1).to(torch::kFloat32);
  mb.actions = torch::randint(0, model->num_actions(), {t, chunks}, torch::kInt64);
  mb.log_probs = -2.0 * torch::rand({t, chunks});
  mb.values = torch::randn({t, chunks});
  mb.advantages = torch::randn({t, chunks});
  mb.returns = torch::randn({t, chunks});
  mb.state = model->InitialState(chunks);
  for (auto& s : mb.state.tensors) s.normal_();
  return mb;
}

}  // namespace

TEST_CASE("a policy's minibatch gradient is the same with and without the fused nodes",
          "[fused_loss]") {
  // The integration check behind the unit ones: conv, cells, mission GRU, heads and loss
  // together, on one and on two learner threads, for each core.
  rimlab::Params params;
  params.Set("size", int64_t{6});
  params.Set("num_objects", int64_t{2});
  const auto spec = rimlab::MakeEnv("pickup", params)->Spec();
  for (const std::string core : {"lstm", "gru", "rim"}) {
    for (int threads : {1, 2}) {
      INFO(core << ", learner threads " << threads);
      auto fused = MakePolicy(spec, true, core);
      auto plain = MakePolicy(spec, false, core);
      const auto mb = RandomBatch(spec, fused, 4, 64);
      LossOptions o;
      o.clip = 0.2;
      LossOptions o_plain = o;
      o_plain.fused = false;
      ParallelGradient pf(fused, threads), pp(plain, threads);
      const auto lf = pf.Compute(mb, o);
      const auto lp = pp.Compute(mb, o_plain);
      CHECK(lf.policy_loss == Approx(lp.policy_loss).margin(1e-5));
      CHECK(lf.value_loss == Approx(lp.value_loss).margin(1e-5));
      CHECK(lf.entropy == Approx(lp.entropy).margin(1e-5));
      const auto gf = fused->named_parameters();
      const auto gp = plain->named_parameters();
      REQUIRE(gf.size() == gp.size());
      for (const auto& p : gf) {
        INFO(p.key());
        const auto& a = p.value().grad();
        const auto& b = gp[p.key()].grad();
        REQUIRE(a.defined() == b.defined());
        if (!a.defined()) continue;
        const double scale = b.abs().max().item<double>();
        CHECK((a - b).abs().max().item<double>() <= 1e-4 * std::max(scale, 1e-2));
      }
    }
  }
}
