// The recurrent actor-critic (agents/actor_critic.h): sizes from specs, Step/Unroll agreement,
// and that the policy reads the core (not the encoder) so the core choice matters.
#include <torch/torch.h>
// LibTorch brings glog, whose CHECK would shadow Catch2's: Catch2 must own it here.
#undef CHECK
#include <catch2/catch.hpp>

#include "agents/actor_critic.h"
#include "common/params.h"
#include "envs/registry.h"

using rimlab::agents::ActorCritic;
using rimlab::agents::ActorCriticOptions;
using rimlab::agents::ObsTensors;

namespace {

rimlab::EnvSpec PickupSpec() {
  return rimlab::MakeEnv("pickup")->Spec();
}

rimlab::EnvSpec VectorSpec() {
  rimlab::EnvSpec spec;
  spec.name = "vector";
  spec.observation.fields.push_back({"obs", {5}, rimlab::DType::kFloat32, -1.0, 1.0});
  spec.action = rimlab::ActionSpec::Discrete(3);
  return spec;
}

/// Random grid observations for a batch of b: object, colour and state indices in range.
ObsTensors GridObs(int64_t b) {
  auto obj = torch::randint(0, 11, {b, 7, 7, 1}, torch::kUInt8);
  auto col = torch::randint(0, 6, {b, 7, 7, 1}, torch::kUInt8);
  auto st = torch::randint(0, 3, {b, 7, 7, 1}, torch::kUInt8);
  return {torch::cat({obj, col, st}, 3), torch::randint(0, 4, {b, 1}, torch::kInt32),
          torch::randint(1, 20, {b, 3}, torch::kInt32)};
}

ActorCriticOptions WithCore(const std::string& type) {
  ActorCriticOptions o;
  o.core.type = type;
  o.core.hidden_size = 32;
  o.core.rim.num_units(4).top_k(2).unit_size(8);
  return o;
}

}  // namespace

TEST_CASE("rl-starter-files-size policy: sizes come from the spec") {
  torch::manual_seed(0);
  ActorCritic model(PickupSpec(), ActorCriticOptions{});
  CHECK(model->num_actions() == 7);
  CHECK(model->core->output_size() == 64);
  auto out = model->Step(GridObs(5), model->InitialState(5), {});
  CHECK(out.logits.sizes() == torch::IntArrayRef({5, 7}));
  CHECK(out.value.sizes() == torch::IntArrayRef({5}));
  // rl-starter-files' network: image convs 16-32-64 -> LSTM(64 -> 64); the mission GRU's 128
  // features join the core's output at the heads (64-wide hidden layers).
  CHECK(model->grid->element_size() == 64);
  CHECK(model->actor->parameters()[0].size(1) == 64 + 128);
}

TEST_CASE("the action distribution depends on the core's output, for every core") {
  for (const std::string type : {"lstm", "gru", "rim"}) {
    SECTION(type) {
      torch::manual_seed(1);
      ActorCritic model(PickupSpec(), WithCore(type));
      model->eval();  // no dropout: the comparisons below must be deterministic
      // Make the heads non-trivial (the policy output layer starts near zero).
      {
        torch::NoGradGuard g;
        for (auto& p : model->actor->parameters()) p.normal_(0.0, 1.0);
      }
      const auto obs = GridObs(4);
      auto zero = model->InitialState(4);
      auto other = zero;
      for (auto& t : other.tensors) t = torch::randn_like(t);
      auto a = model->Step(obs, zero, {});
      auto b = model->Step(obs, other, {});
      // Same observation, different memory: the policy must differ ...
      CHECK((a.logits - b.logits).abs().max().item<float>() > 1e-3f);
      CHECK((a.value - b.value).abs().max().item<float>() > 1e-6f);
      // ... and the memory reaches the heads only through the core: a reset erases it.
      auto c = model->Step(obs, other, torch::ones({4}));
      CHECK(torch::allclose(a.logits, c.logits));
      // The heads read the core's output (and the mission's features, nothing else).
      CHECK(model->actor->parameters()[0].size(1) ==
            model->core->output_size() + model->mission->output_size());
    }
  }
}

TEST_CASE("Unroll equals repeated Step, resets included") {
  for (const std::string type : {"lstm", "rim"}) {
    torch::manual_seed(2);
    ActorCritic model(PickupSpec(), WithCore(type));
    model->eval();
    const int64_t T = 5, B = 3;
    ObsTensors seq(3);
    std::vector<ObsTensors> steps;
    for (int64_t t = 0; t < T; ++t) steps.push_back(GridObs(B));
    for (size_t f = 0; f < 3; ++f) {
      std::vector<torch::Tensor> parts;
      for (auto& s : steps) parts.push_back(s[f]);
      seq[f] = torch::stack(parts);
    }
    auto resets = torch::zeros({T, B});
    resets[2][1] = 1.0;
    auto state = model->InitialState(B);
    for (auto& t : state.tensors) t = torch::randn_like(t);
    auto unrolled = model->Unroll(seq, state, resets);
    auto s = state;
    for (int64_t t = 0; t < T; ++t) {
      auto out = model->Step(steps[static_cast<size_t>(t)], s, resets[t]);
      CHECK(torch::allclose(out.logits, unrolled.logits[t], 1e-4, 1e-5));
      CHECK(torch::allclose(out.value, unrolled.value[t], 1e-4, 1e-5));
      s = out.state;
    }
  }
}

TEST_CASE("vector observations get an MLP encoder; grid encoders refuse them") {
  ActorCritic model(VectorSpec(), ActorCriticOptions{});
  auto out = model->Step({torch::randn({2, 5})}, model->InitialState(2), {});
  CHECK(out.logits.sizes() == torch::IntArrayRef({2, 3}));
  ActorCriticOptions conv;
  conv.encoder = "conv";
  CHECK_THROWS_WITH(ActorCritic(VectorSpec(), conv), Catch::Contains("needs a uint8"));
  auto continuous = VectorSpec();
  continuous.action = rimlab::ActionSpec::Continuous(2, -1.0f, 1.0f);
  CHECK_THROWS_WITH(ActorCritic(continuous, ActorCriticOptions{}), Catch::Contains("continuous"));
}

TEST_CASE("model and core sections: options and errors name the key") {
  rimlab::Params model, core;
  model.Set("encoder", std::string("embed"), "m.yaml:3");
  model.Set("set_input", true, "m.yaml:4");
  core.Set("type", std::string("rim"), "m.yaml:7");
  core.Set("num_units", int64_t{6}, "m.yaml:8");
  core.Set("top_k", int64_t{3}, "m.yaml:9");
  const auto o = rimlab::agents::ActorCriticOptionsFromParams(model, core);
  CHECK(o.grid.set_output());
  CHECK(o.core.rim.num_units() == 6);
  ActorCritic rim(PickupSpec(), o);
  CHECK(rim->grid->set_size() == 49);
  CHECK(rim->Step(GridObs(2), rim->InitialState(2), {}).info.mask.sizes() ==
        torch::IntArrayRef({2, 6}));

  rimlab::Params bad;
  bad.Set("set_input", true, "m.yaml:4");
  CHECK_THROWS_WITH(rimlab::agents::ActorCriticOptionsFromParams(bad, {}),
                    Catch::Contains("m.yaml:4") && Catch::Contains("set_input"));
  rimlab::Params typo;
  typo.Set("head_hiden", int64_t{3}, "m.yaml:5");
  CHECK_THROWS_WITH(rimlab::agents::ActorCriticOptionsFromParams(typo, {}),
                    Catch::Contains("head_hiden"));
}

TEST_CASE("film: the mission modulates the core's input, starting as the identity") {
  for (const bool set_input : {false, true}) {
    SECTION(set_input ? "set input" : "vector input") {
      torch::manual_seed(3);
      auto o = WithCore("rim");
      o.film = true;
      if (set_input) {
        o.encoder = "embed";
        o.set_input = true;
        o.grid.arch("embed").conv_channels({8}).set_output(true);
      }
      ActorCritic model(PickupSpec(), o);
      model->eval();
      REQUIRE(!model->film.is_empty());
      auto obs = GridObs(4);
      auto other_mission = obs;
      other_mission[2] = torch::randint(1, 20, {4, 3}, torch::kInt32);
      while (torch::equal(other_mission[2], obs[2]))
        other_mission[2] = torch::randint(1, 20, {4, 3}, torch::kInt32);
      const torch::Tensor none;
      auto features = model->grid->forward(obs[0], none, none);
      // Zero-initialised: the core sees exactly the grid encoder's features.
      CHECK(torch::equal(model->Encode(obs), features));
      CHECK(torch::equal(model->Encode(other_mission),
                         model->grid->forward(other_mission[0], none, none)));
      {
        torch::NoGradGuard g;
        model->film->weight.normal_(0.0, 0.5);
        model->film->bias.normal_(0.0, 0.5);
      }
      auto x = model->Encode(obs);
      auto y = model->Encode(other_mission);
      CHECK(x.sizes() == features.sizes());
      // Same view, another mission: other core input (rows whose mission changed).
      CHECK((x - y).abs().max().item<float>() > 1e-3f);
      // It is features * (1 + gamma) + beta, gamma and beta from the mission alone.
      auto gb = model->film->forward(model->MissionFeatures(obs)).chunk(2, -1);
      auto gamma = set_input ? gb[0].unsqueeze(1) : gb[0];
      auto beta = set_input ? gb[1].unsqueeze(1) : gb[1];
      CHECK(torch::allclose(x, features * (1 + gamma) + beta, 1e-5, 1e-6));
      // The whole policy differs by the mission, and the gradient reaches the FiLM layer.
      model->train();
      auto out = model->Step(obs, model->InitialState(4), {});
      out.logits.sum().backward();
      REQUIRE(model->film->weight.grad().defined());
      CHECK(model->film->weight.grad().abs().sum().item<float>() > 0.0f);
      model->eval();
      auto s = model->InitialState(4);
      CHECK((model->Step(obs, s, {}).value - model->Step(other_mission, s, {}).value)
                .abs()
                .max()
                .item<float>() > 1e-6f);
      // Unroll, which encodes all steps in one batch, still equals repeated Step.
      ObsTensors seq(3);
      auto obs2 = GridObs(4);
      for (size_t f = 0; f < 3; ++f) seq[f] = torch::stack({obs[f], obs2[f]});
      auto unrolled = model->Unroll(seq, s, torch::zeros({2, 4}));
      auto first = model->Step(obs, s, {});
      auto second = model->Step(obs2, first.state, {});
      CHECK(torch::allclose(first.logits, unrolled.logits[0], 1e-4, 1e-5));
      CHECK(torch::allclose(second.logits, unrolled.logits[1], 1e-4, 1e-5));
    }
  }
}

TEST_CASE("film: refused without a mission to condition on, naming the key") {
  rimlab::Params none_mission;
  none_mission.Set("film", true, "f.yaml:2");
  none_mission.Set("mission", std::string("none"), "f.yaml:3");
  CHECK_THROWS_WITH(
      rimlab::agents::ActorCriticOptionsFromParams(none_mission, {}),
      Catch::Contains("f.yaml:2") && Catch::Contains("film") && Catch::Contains("mission"));
  rimlab::Params to_core;
  to_core.Set("film", true, "f.yaml:2");
  to_core.Set("mission_to", std::string("core"), "f.yaml:4");
  CHECK_THROWS_WITH(rimlab::agents::ActorCriticOptionsFromParams(to_core, {}),
                    Catch::Contains("film") && Catch::Contains("mission_to: heads"));
  rimlab::Params wrong_type;
  wrong_type.Set("film", std::string("yes please"), "f.yaml:2");
  CHECK_THROWS_WITH(rimlab::agents::ActorCriticOptionsFromParams(wrong_type, {}),
                    Catch::Contains("f.yaml:2") && Catch::Contains("film"));
  ActorCriticOptions mlp;
  mlp.film = true;
  CHECK_THROWS_WITH(ActorCritic(VectorSpec(), mlp), Catch::Contains("film"));
  ActorCriticOptions no_field;  // a grid env without a mission field
  no_field.film = true;
  auto spec = PickupSpec();
  spec.observation.fields.erase(spec.observation.fields.begin() +
                                spec.observation.IndexOf("mission"));
  CHECK_THROWS_WITH(ActorCritic(spec, no_field), Catch::Contains("no mission field"));
  ActorCriticOptions no_encoder;  // the field is there, the model ignores it
  no_encoder.film = true;
  no_encoder.mission = "none";
  CHECK_THROWS_WITH(ActorCritic(PickupSpec(), no_encoder), Catch::Contains("mission: none"));
}

TEST_CASE("objects: one network shared by every row, each row beside the other fields") {
  rimlab::EnvSpec spec;
  spec.name = "objects";
  spec.observation.fields.push_back({"context", {3}, rimlab::DType::kFloat32, -1.0, 1.0});
  spec.observation.fields.push_back({"objects", {4, 2}, rimlab::DType::kFloat32, -1.0, 1.0});
  spec.action = rimlab::ActionSpec::Discrete(3);
  for (const std::string type : {"lstm", "rim"}) {
    torch::manual_seed(5);
    auto options = WithCore(type);
    options.mlp_hidden = 6;
    ActorCritic model(spec, options);
    REQUIRE_FALSE(model->objects.is_empty());
    const auto context = torch::randn({2, 3});
    const auto rows = torch::randn({2, 4, 2});
    const auto x = model->Encode({context, rows});
    REQUIRE(x.sizes() == torch::IntArrayRef({2, 4, 6}));
    // By hand: row j of sample i through the two layers, with that sample's context beside it.
    auto* l1 = model->objects[0]->as<torch::nn::Linear>();
    auto* l2 = model->objects[2]->as<torch::nn::Linear>();
    for (int64_t i = 0; i < 2; ++i) {
      for (int64_t j = 0; j < 4; ++j) {
        const auto in = torch::cat({rows[i][j], context[i]});
        const auto want = torch::relu(
            torch::mv(l2->weight, torch::relu(torch::mv(l1->weight, in) + l1->bias)) + l2->bias);
        CHECK(torch::allclose(x[i][j], want, 1e-5, 1e-6));
      }
    }
    // Swapping two rows swaps their elements.
    const auto swapped = rows.index_select(1, torch::tensor({1, 0, 2, 3}));
    const auto y = model->Encode({context, swapped});
    CHECK(torch::allclose(y.select(1, 0), x.select(1, 1)));
    CHECK(torch::allclose(y.select(1, 1), x.select(1, 0)));
    auto out = model->Step({context, rows}, model->InitialState(2), {});
    CHECK(out.logits.sizes() == torch::IntArrayRef({2, 3}));
    // Max pooling: one vector, each feature its largest over the rows.
    options.objects_pool = "max";
    torch::manual_seed(5);
    ActorCritic pooled(spec, options);
    const auto p = pooled->Encode({context, rows});
    REQUIRE(p.sizes() == torch::IntArrayRef({2, 6}));
    const auto elements = pooled->Encode({context, swapped});
    for (int64_t i = 0; i < 2; ++i) {
      for (int64_t k = 0; k < 6; ++k) {
        float want = -1.0f;
        for (int64_t j = 0; j < 4; ++j) want = std::max(want, x[i][j][k].item<float>());
        CHECK(p[i][k].item<float>() == Approx(want));
        CHECK(elements[i][k].item<float>() == Approx(want));
      }
    }
  }
  ActorCriticOptions frame;
  frame.encoder = "objects";
  CHECK_THROWS_WITH(ActorCritic(VectorSpec(), frame), Catch::Contains("field 'objects'"));
}
