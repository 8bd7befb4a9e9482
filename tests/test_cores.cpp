// LSTM and GRU cores against torch::nn::LSTM/GRU, the RecurrentCore contract shared by all three
// cores (Unroll == Step, resets, state helpers, save/load), the factory and its options.
#include <torch/torch.h>
// LibTorch brings glog, whose CHECK would shadow Catch2's: Catch2 must own it here.
#undef CHECK
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <string>

#include "models/cores.h"

using namespace rimlab::models;  // NOLINT: test file

namespace {

CoreOptions Options(const std::string& type) {
  CoreOptions o;
  o.type = type;
  o.hidden_size = 7;
  o.rim = RIMCellOptions().num_units(3).top_k(2).unit_size(4).input_key_size(3).input_value_size(5);
  return o;
}

RecurrentCore Build(const std::string& type, int64_t input = 6, int64_t set = 1) {
  torch::manual_seed(7);
  auto core = MakeCore(Options(type), input, set);
  core->to(torch::kFloat64);
  core->eval();
  return core;
}

State RandomState(const RecurrentCore& core, int64_t batch) {
  State s = core->InitialState(batch);
  for (auto& t : s.tensors) t = torch::randn_like(t);
  return s;
}

}  // namespace

TEST_CASE("LSTM core equals torch::nn::LSTM with the same weights", "[cores]") {
  auto core = Build("lstm");
  auto& impl = dynamic_cast<LSTMCoreImpl&>(*core);
  torch::nn::LSTM ref(torch::nn::LSTMOptions(6, 7));
  ref->to(torch::kFloat64);
  {
    torch::NoGradGuard no_grad;
    ref->named_parameters()["weight_ih_l0"].copy_(impl.weight_ih);
    ref->named_parameters()["weight_hh_l0"].copy_(impl.weight_hh);
    ref->named_parameters()["bias_ih_l0"].copy_(impl.bias_ih);
    ref->named_parameters()["bias_hh_l0"].copy_(impl.bias_hh);
  }
  auto x = torch::randn({9, 4, 6}, torch::kFloat64);
  State s = RandomState(core, 4);
  auto out = core->Unroll(x, s, {});
  auto expect = ref(x, std::make_tuple(s.tensors[0].unsqueeze(0), s.tensors[1].unsqueeze(0)));
  CHECK(torch::allclose(out.outputs, std::get<0>(expect), 1e-10, 1e-12));
  CHECK(torch::allclose(out.state.tensors[0], std::get<0>(std::get<1>(expect))[0], 1e-10, 1e-12));
  CHECK(torch::allclose(out.state.tensors[1], std::get<1>(std::get<1>(expect))[0], 1e-10, 1e-12));
  CHECK_FALSE(out.info.mask.defined());
}

TEST_CASE("GRU core equals torch::nn::GRU with the same weights", "[cores]") {
  auto core = Build("gru");
  auto& impl = dynamic_cast<GRUCoreImpl&>(*core);
  torch::nn::GRU ref(torch::nn::GRUOptions(6, 7));
  ref->to(torch::kFloat64);
  {
    torch::NoGradGuard no_grad;
    ref->named_parameters()["weight_ih_l0"].copy_(impl.weight_ih);
    ref->named_parameters()["weight_hh_l0"].copy_(impl.weight_hh);
    ref->named_parameters()["bias_ih_l0"].copy_(impl.bias_ih);
    ref->named_parameters()["bias_hh_l0"].copy_(impl.bias_hh);
  }
  auto x = torch::randn({9, 4, 6}, torch::kFloat64);
  State s = RandomState(core, 4);
  auto out = core->Unroll(x, s, {});
  auto expect = ref(x, s.tensors[0].unsqueeze(0));
  CHECK(torch::allclose(out.outputs, std::get<0>(expect), 1e-10, 1e-12));
  CHECK(torch::allclose(out.state.tensors[0], std::get<1>(expect)[0], 1e-10, 1e-12));
}

TEST_CASE("every core: Unroll equals repeated Step, resets zero flagged samples", "[cores]") {
  for (const std::string type : {"lstm", "gru", "rim"}) {
    INFO(type);
    // A set of 2 elements of width 3: LSTM and GRU see it flattened.
    auto core = Build(type, 3, 2);
    auto x = torch::randn({6, 5, 2, 3}, torch::kFloat64);
    auto resets = torch::rand({6, 5}) < 0.3;
    resets[2][1] = true;
    State s = RandomState(core, 5);
    auto unrolled = core->Unroll(x, s, resets);
    CHECK(unrolled.outputs.sizes() == torch::IntArrayRef({6, 5, core->output_size()}));
    State cur = s;
    for (int64_t t = 0; t < 6; ++t) {
      auto step = core->Step(x[t], cur, resets[t]);
      CHECK(torch::allclose(step.output, unrolled.outputs[t], 0, 1e-12));
      // The reset semantics: the same as stepping from a state zeroed for those samples.
      auto manual = core->Step(x[t], ResetState(cur, resets[t]), {});
      CHECK(torch::equal(step.output, manual.output));
      cur = step.state;
    }
    for (size_t i = 0; i < cur.tensors.size(); ++i) {
      CHECK(torch::allclose(cur.tensors[i], unrolled.state.tensors[i], 0, 1e-12));
    }
  }
}

TEST_CASE("state helpers index, concatenate, stack, detach and reset along the batch", "[cores]") {
  auto core = Build("rim");
  State s = RandomState(core, 5);
  auto a = IndexState(s, torch::tensor({0, 1, 2}));
  auto b = IndexState(s, torch::tensor({3, 4}));
  auto back = CatStates({a, b});
  for (size_t i = 0; i < s.tensors.size(); ++i) CHECK(torch::equal(back.tensors[i], s.tensors[i]));
  auto stacked = StackStates({s, a.batch_size() == 3 ? s : a});
  CHECK(stacked.tensors[0].size(0) == 2);
  CHECK(torch::equal(SelectState(stacked, 1).tensors[1], s.tensors[1]));
  auto r = ResetState(s, torch::tensor({0.0, 1.0, 0.0, 0.0, 1.0}));
  CHECK(r.tensors[0][1].abs().sum().item<double>() == 0.0);
  CHECK(torch::equal(r.tensors[0][2], s.tensors[0][2]));
  auto req = s;
  req.tensors[0] = req.tensors[0].clone().requires_grad_(true) * 2;
  CHECK_FALSE(DetachState(req).tensors[0].requires_grad());
  CHECK(s.batch_size() == 5);
}

TEST_CASE("every core: save and load round trip", "[cores]") {
  for (const std::string type : {"lstm", "gru", "rim"}) {
    auto core = Build(type);
    const std::string path = "/tmp/rimlab_test_cores_" + type + std::to_string(::getpid()) + ".pt";
    torch::save(core, path);
    torch::manual_seed(123);
    auto loaded = MakeCore(Options(type), 6);
    loaded->to(torch::kFloat64);
    torch::load(loaded, path);
    std::remove(path.c_str());
    loaded->eval();
    auto x = torch::randn({4, 3, 6}, torch::kFloat64);
    auto s = RandomState(core, 3);
    CHECK(torch::equal(core->Unroll(x, s, {}).outputs, loaded->Unroll(x, s, {}).outputs));
  }
}

TEST_CASE("parameter counts, and the sizes the benchmark compares", "[cores]") {
  for (const std::string type : {"lstm", "gru", "rim"}) {
    auto core = Build(type, 3, 2);
    CHECK(core->NumParameters() == CoreParameterCount(Options(type), 3, 2));
    CHECK(core->type() == type);
  }
  CoreOptions lstm;  // hidden 600
  CoreOptions rim;
  rim.type = "rim";
  // With a 64-wide input: LSTM-600 ~1.59M, GRU-600 ~1.19M, RIM(6,4,100) ~1.54M trainable scalars.
  CHECK(CoreParameterCount(lstm, 64) == 4 * 600 * (64 + 600 + 2));
  CHECK(CoreParameterCount(rim, 64) == 1511848 + 32 * 464);
  lstm.type = "gru";
  CHECK(CoreParameterCount(lstm, 64) == 3 * 600 * (64 + 600 + 2));
}

TEST_CASE("core options from params: defaults, ranges, unknown keys", "[cores]") {
  rimlab::Params p;
  CHECK(CoreOptionsFromParams(p).type == "lstm");
  p.Set("type", std::string("rim"), "t.yaml:1");
  p.Set("num_units", int64_t{8}, "t.yaml:2");
  p.Set("top_k", int64_t{3}, "t.yaml:3");
  p.Set("unit_cell", std::string("gru"), "t.yaml:4");
  p.Set("communication", false, "t.yaml:5");
  auto o = CoreOptionsFromParams(p);
  CHECK(o.rim.num_units() == 8);
  CHECK(o.rim.top_k() == 3);
  CHECK(o.rim.unit_cell() == "gru");
  CHECK_FALSE(o.rim.communication());
  p.Set("top_k", int64_t{9}, "t.yaml:3");
  CHECK_THROWS_AS(CoreOptionsFromParams(p), rimlab::OptionError);
  p.Set("top_k", int64_t{3}, "t.yaml:3");
  p.Set("hidden_size", int64_t{3}, "t.yaml:6");  // an LSTM key in a RIM section
  CHECK_THROWS_WITH(CoreOptionsFromParams(p),
                    Catch::Contains("t.yaml:6") && Catch::Contains("hidden_size"));
  rimlab::Params bad;
  bad.Set("type", std::string("transformer"), "t.yaml:1");
  CHECK_THROWS_AS(CoreOptionsFromParams(bad), rimlab::OptionError);
  CoreOptions nope;
  nope.type = "nope";
  CHECK_THROWS(MakeCore(nope, 3));
}
