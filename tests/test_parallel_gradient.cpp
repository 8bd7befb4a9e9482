// Data-parallel minibatch gradients (agents/parallel_gradient.h): splitting a minibatch's chunks
// over threads and model replicas gives the one-thread gradient and metrics, the same bits on
// every run (with dropout too, each part seeded in a fixed order), and survives checkpoint loads
// and worker failures.
#include <torch/torch.h>
// LibTorch brings glog, whose CHECK would shadow Catch2's: Catch2 must own it here.
#undef CHECK
#include <catch2/catch.hpp>

#include <ATen/CPUGeneratorImpl.h>

#include <sstream>
#include <string>
#include <vector>

#include "agents/parallel_gradient.h"
#include "envs/registry.h"
#include "models/dropout_noise.h"

using rimlab::agents::ActorCritic;
using rimlab::agents::ActorCriticOptions;
using rimlab::agents::ChunkBatch;
using rimlab::agents::LossOptions;
using rimlab::agents::ParallelGradient;

namespace {

ActorCriticOptions Options(const std::string& core) {
  ActorCriticOptions o;
  o.core.type = core;
  o.core.hidden_size = 32;
  o.core.rim.num_units(4).top_k(2).unit_size(8).input_dropout(0.0).comm_dropout(0.0);
  o.head_hidden = 32;
  return o;
}

/// A minibatch of `chunks` chunks of `rows` steps of pickup observations, with episode starts,
/// LAST rows and a non-zero stored core state, as GatherChunks would hand it over.
ChunkBatch RandomBatch(const rimlab::EnvSpec& spec, ActorCritic& model, int64_t rows,
                       int64_t chunks) {
  ChunkBatch b;
  for (const auto& f : spec.observation.fields) {
    std::vector<int64_t> shape = {rows, chunks};
    shape.insert(shape.end(), f.shape.begin(), f.shape.end());
    const auto hi = static_cast<int64_t>(f.maximum) + 1;
    b.obs.push_back(torch::randint(static_cast<int64_t>(f.minimum), hi, shape)
                        .to(rimlab::agents::TorchDType(f.dtype)));
  }
  b.first = (torch::rand({rows, chunks}) < 0.2).to(torch::kFloat32);
  b.mask = (torch::rand({rows, chunks}) > 0.15).to(torch::kFloat32);
  b.actions = torch::randint(0, model->num_actions(), {rows, chunks}, torch::kInt64);
  b.log_probs = -torch::rand({rows, chunks}) * 2.0;
  b.values = torch::randn({rows, chunks});
  b.advantages = torch::randn({rows, chunks});
  b.returns = b.values + b.advantages;
  b.state = model->InitialState(chunks);
  for (auto& t : b.state.tensors) t = torch::randn_like(t) * 0.5;
  return b;
}

LossOptions Ppo() {
  LossOptions o;
  o.clip = 0.2;
  o.clip_value = true;
  o.entropy_coef = 0.01;
  o.value_coef = 0.5;
  o.norm_adv = true;
  return o;
}

std::vector<torch::Tensor> Grads(ActorCritic& model) {
  std::vector<torch::Tensor> out;
  for (const auto& p : model->parameters()) {
    out.push_back(p.grad().defined() ? p.grad().clone() : torch::zeros_like(p));
  }
  return out;
}

}  // namespace

TEST_CASE("a split minibatch gives the one-thread gradient and metrics, for every core") {
  const auto spec = rimlab::MakeEnv("pickup")->Spec();
  for (const std::string core : {"lstm", "gru", "rim"}) {
    for (const int threads : {2, 3}) {
      for (const bool norm_adv : {true, false}) {
        DYNAMIC_SECTION(core << " on " << threads << " threads, norm_adv " << norm_adv) {
          torch::manual_seed(7);
          ActorCritic model(spec, Options(core));
          model->train();
          // 13 chunks: parts of unequal size.
          const auto batch = RandomBatch(spec, model, 4, 13);
          auto options = Ppo();
          options.norm_adv = norm_adv;
          ParallelGradient one(model, 1);
          const auto a = one.Compute(batch, options);
          const auto ga = Grads(model);
          ParallelGradient many(model, threads);
          REQUIRE(many.threads() == threads);
          const auto b = many.Compute(batch, options);
          const auto gb = Grads(model);
          REQUIRE(ga.size() == gb.size());
          for (size_t i = 0; i < ga.size(); ++i) {
            INFO("parameter " << i);
            CHECK(ga[i].abs().sum().item<double>() > 0.0);
            CHECK(torch::allclose(ga[i], gb[i], 1e-4, 1e-6));
          }
          CHECK(b.policy_loss == Approx(a.policy_loss).margin(1e-6));
          CHECK(b.value_loss == Approx(a.value_loss).margin(1e-6));
          CHECK(b.entropy == Approx(a.entropy).margin(1e-6));
          CHECK(b.approx_kl == Approx(a.approx_kl).margin(1e-6));
          CHECK(b.clipfrac == Approx(a.clipfrac).margin(1e-6));
        }
      }
    }
  }
}

TEST_CASE("split gradients are the same bits on every run") {
  const auto spec = rimlab::MakeEnv("pickup")->Spec();
  torch::manual_seed(3);
  ActorCritic model(spec, Options("rim"));
  model->train();
  const auto batch = RandomBatch(spec, model, 4, 16);
  ParallelGradient pg(model, 2);
  pg.Compute(batch, Ppo());
  const auto first = Grads(model);
  for (int run = 0; run < 5; ++run) {
    pg.Compute(batch, Ppo());
    const auto again = Grads(model);
    for (size_t i = 0; i < first.size(); ++i) REQUIRE(torch::equal(first[i], again[i]));
  }
}

TEST_CASE("dropout on split minibatches: a seed per part, the same bits on every run") {
  const auto spec = rimlab::MakeEnv("pickup")->Spec();
  auto o = Options("rim");
  o.core.rim.input_dropout(0.1).comm_dropout(0.1);
  torch::manual_seed(3);
  ActorCritic model(spec, o);
  model->train();
  const auto batch = RandomBatch(spec, model, 4, 16);
  ParallelGradient pg(model, 2);
  REQUIRE(pg.threads() == 2);
  auto gen = at::detail::getDefaultCPUGenerator();
  torch::manual_seed(21);
  pg.Compute(batch, Ppo());
  const auto first = Grads(model);
  const auto after = gen.get_state();
  // The parts draw no numbers of their own from torch's generator: it moved by the two seeds
  // drawn before the threads started, whatever their timing.
  torch::manual_seed(21);
  rimlab::models::NextDropoutSeed();
  rimlab::models::NextDropoutSeed();
  CHECK(torch::equal(gen.get_state(), after));
  for (int run = 0; run < 5; ++run) {
    torch::manual_seed(21);
    pg.Compute(batch, Ppo());
    const auto again = Grads(model);
    for (size_t i = 0; i < first.size(); ++i) REQUIRE(torch::equal(first[i], again[i]));
  }
  // Other seeds, other masks: the dropout is really on.
  torch::manual_seed(22);
  pg.Compute(batch, Ppo());
  const auto other = Grads(model);
  bool differs = false;
  for (size_t i = 0; i < first.size(); ++i) differs = differs || !torch::equal(first[i], other[i]);
  CHECK(differs);
}

TEST_CASE("replicas follow optimiser steps and checkpoint loads of the model") {
  const auto spec = rimlab::MakeEnv("pickup")->Spec();
  torch::manual_seed(5);
  ActorCritic model(spec, Options("lstm"));
  model->train();
  const auto batch = RandomBatch(spec, model, 4, 8);
  ParallelGradient pg(model, 2);
  ParallelGradient one(model, 1);
  torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(1e-2));
  pg.Compute(batch, Ppo());
  adam.step();

  // A checkpoint of other weights, loaded into the model: load() gives parameters new storage.
  torch::manual_seed(99);
  ActorCritic other(spec, Options("lstm"));
  std::stringstream saved;
  torch::save(other, saved);
  torch::load(model, saved);

  for (int step = 0; step < 2; ++step) {
    one.Compute(batch, Ppo());
    const auto expected = Grads(model);
    pg.Compute(batch, Ppo());
    const auto got = Grads(model);
    for (size_t i = 0; i < expected.size(); ++i) {
      REQUIRE(torch::allclose(expected[i], got[i], 1e-4, 1e-6));
    }
    adam.step();
  }
}

TEST_CASE("building a replica leaves torch's generator where it was") {
  const auto spec = rimlab::MakeEnv("pickup")->Spec();
  torch::manual_seed(11);
  ActorCritic model(spec, Options("rim"));
  const auto before = at::detail::getDefaultCPUGenerator().get_state();
  ParallelGradient pg(model, 2);
  const auto after = at::detail::getDefaultCPUGenerator().get_state();
  CHECK(torch::equal(before, after));
}

TEST_CASE("units drawn at random use one thread; fewer chunks than threads still work") {
  const auto spec = rimlab::MakeEnv("pickup")->Spec();
  auto o = Options("rim");
  o.core.rim.input_attention(false);
  ActorCritic drawn(spec, o);
  CHECK(ParallelGradient(drawn, 2).threads() == 1);
  o = Options("rim");
  o.core.rim.input_dropout(0.1);
  CHECK(ParallelGradient(ActorCritic(spec, o), 2).threads() == 2);
  CHECK(ParallelGradient(ActorCritic(spec, Options("rim")), 2).threads() == 2);
  CHECK_THROWS_AS(ParallelGradient(ActorCritic(spec, Options("lstm")), 0), std::invalid_argument);

  torch::manual_seed(2);
  ActorCritic model(spec, Options("gru"));
  const auto batch = RandomBatch(spec, model, 4, 1);
  ParallelGradient pg(model, 2);
  const auto loss = pg.Compute(batch, Ppo());
  CHECK(std::isfinite(loss.policy_loss));
}

TEST_CASE("an error on a worker thread reaches the caller, and the gradient stays usable") {
  const auto spec = rimlab::MakeEnv("pickup")->Spec();
  torch::manual_seed(4);
  ActorCritic model(spec, Options("lstm"));
  model->train();
  auto batch = RandomBatch(spec, model, 4, 8);
  ParallelGradient pg(model, 2);
  auto bad = batch;
  // Out-of-range actions in the second half only: the worker's part throws.
  bad.actions = batch.actions.clone();
  bad.actions.slice(1, 4, 8).fill_(1000);
  CHECK_THROWS(pg.Compute(bad, Ppo()));
  const auto loss = pg.Compute(batch, Ppo());
  CHECK(std::isfinite(loss.policy_loss));
}
