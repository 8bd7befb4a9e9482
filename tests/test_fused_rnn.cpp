// The fused LSTM and GRU unrolls against the same cells written operator by operator: outputs,
// final state and every gradient, with resets; and the LSTM and GRU cores with and without them.
#include <torch/torch.h>
// LibTorch brings glog, whose CHECK would shadow Catch2's: Catch2 must own it here.
#undef CHECK
#include <catch2/catch.hpp>

#include <vector>

#include "models/cores.h"
#include "models/fused_rnn.h"
#include "models/rnn_cores.h"
#include "tests/gemm_mode.h"

using namespace rimlab::models;  // NOLINT: test file

namespace {

struct Inputs {
  torch::Tensor xg, h0, c0, w, b, keep;
  std::vector<torch::Tensor> Differentiable() const { return {xg, h0, c0, w, b}; }
};

Inputs Random(int64_t steps, int64_t batch, int64_t hidden, bool resets, int64_t gates = 4) {
  torch::manual_seed(3);
  Inputs in;
  in.xg = torch::randn({steps, batch, gates * hidden}).requires_grad_();
  in.h0 = torch::randn({batch, hidden}).requires_grad_();
  in.c0 = torch::randn({batch, hidden}).requires_grad_();
  in.w = (0.5 * torch::randn({gates * hidden, hidden})).requires_grad_();
  in.b = torch::randn({gates * hidden}).requires_grad_();
  if (resets) in.keep = (torch::rand({steps, batch}) > 0.3).to(torch::kFloat32);
  return in;
}

/// The textbook cell, one operator at a time.
FusedRnnOutput Reference(const Inputs& in) {
  auto h = in.h0, c = in.c0;
  std::vector<torch::Tensor> outs;
  for (int64_t t = 0; t < in.xg.size(0); ++t) {
    if (in.keep.defined()) {
      h = h * in.keep[t].unsqueeze(1);
      c = c * in.keep[t].unsqueeze(1);
    }
    auto g = (in.xg[t] + in.b + torch::mm(h, in.w.t())).chunk(4, 1);
    c = torch::sigmoid(g[1]) * c + torch::sigmoid(g[0]) * torch::tanh(g[2]);
    h = torch::sigmoid(g[3]) * torch::tanh(c);
    outs.push_back(h);
  }
  return {torch::stack(outs), h, c};
}

/// The textbook GRU cell (PyTorch's), one operator at a time; c stays undefined.
FusedRnnOutput GruReference(const Inputs& in) {
  auto h = in.h0;
  std::vector<torch::Tensor> outs;
  for (int64_t t = 0; t < in.xg.size(0); ++t) {
    if (in.keep.defined()) h = h * in.keep[t].unsqueeze(1);
    auto x = in.xg[t].chunk(3, 1);
    auto g = (in.b + torch::mm(h, in.w.t())).chunk(3, 1);
    auto r = torch::sigmoid(x[0] + g[0]);
    auto z = torch::sigmoid(x[1] + g[1]);
    auto n = torch::tanh(x[2] + r * g[2]);
    h = (1 - z) * n + z * h;
    outs.push_back(h);
  }
  return {torch::stack(outs), h, torch::Tensor()};
}

/// Gradients of a random linear function of the outputs (and of the final state if asked).
std::vector<torch::Tensor> Grads(const FusedRnnOutput& out, const Inputs& in, bool use_outputs,
                                 bool use_state) {
  torch::manual_seed(11);
  auto r1 = torch::randn_like(out.outputs), r2 = torch::randn_like(out.h);
  auto r3 = out.c.defined() ? torch::randn_like(out.c) : torch::Tensor();
  auto loss = torch::zeros({});
  if (use_outputs) loss = loss + (out.outputs * r1).sum();
  if (use_state) loss = loss + (out.h * r2).sum();
  if (use_state && out.c.defined()) loss = loss + (out.c * r3).sum();
  auto wrt = in.Differentiable();
  if (!out.c.defined()) wrt.erase(wrt.begin() + 2);  // a GRU has no c0
  return torch::autograd::grad({loss}, wrt);
}

void RequireClose(const torch::Tensor& a, const torch::Tensor& b, const char* what) {
  INFO(what << ": max difference " << (a - b).abs().max().item<double>());
  REQUIRE(a.sizes() == b.sizes());
  REQUIRE(torch::allclose(a, b, 1e-4, 1e-5));
}

}  // namespace

TEST_CASE("Fused LSTM: outputs, state and gradients match the operator-by-operator cell",
          "[fused_rnn]") {
  const bool resets = GENERATE(false, true);
  const int use = GENERATE(0, 1, 2);  // outputs only, final state only, both
  const int gemm = GENERATE(0, 1, 2);
  gemm_test::GemmMode mode(gemm);
  CAPTURE(gemm);
  const auto in = Random(5, 3, 8, resets);
  const auto ref = Reference(in);
  const auto fused = FusedLstmUnroll(in.xg, in.h0, in.c0, in.w, in.b, in.keep);
  INFO("resets " << resets << " use " << use);
  RequireClose(fused.outputs, ref.outputs, "outputs");
  RequireClose(fused.h, ref.h, "h");
  RequireClose(fused.c, ref.c, "c");
  const auto g_ref = Grads(ref, in, use != 1, use != 0);
  const auto g_fused = Grads(fused, in, use != 1, use != 0);
  const char* names[] = {"d xg", "d h0", "d c0", "d weight_hh", "d bias_hh"};
  for (size_t i = 0; i < g_ref.size(); ++i) RequireClose(g_fused[i], g_ref[i], names[i]);
}

TEST_CASE("Fused GRU: outputs, state and gradients match the operator-by-operator cell",
          "[fused_rnn]") {
  const bool resets = GENERATE(false, true);
  const int use = GENERATE(0, 1, 2);  // outputs only, final state only, both
  const int gemm = GENERATE(0, 1, 2);
  gemm_test::GemmMode mode(gemm);
  CAPTURE(gemm);
  const auto in = Random(5, 3, 8, resets, 3);
  const auto ref = GruReference(in);
  const auto fused = FusedGruUnroll(in.xg, in.h0, in.w, in.b, in.keep);
  INFO("resets " << resets << " use " << use);
  RequireClose(fused.outputs, ref.outputs, "outputs");
  RequireClose(fused.h, ref.h, "h");
  CHECK_FALSE(fused.c.defined());
  const auto g_ref = Grads(ref, in, use != 1, use != 0);
  const auto g_fused = Grads(fused, in, use != 1, use != 0);
  const char* names[] = {"d xg", "d h0", "d weight_hh", "d bias_hh"};
  for (size_t i = 0; i < g_ref.size(); ++i) RequireClose(g_fused[i], g_ref[i], names[i]);
}

TEST_CASE("Fused LSTM: a reset step cuts every gradient to the state before it", "[fused_rnn]") {
  auto in = Random(3, 2, 4, true);
  in.keep = torch::ones({3, 2});
  in.keep[1][0] = 0.0f;  // sample 0 starts an episode at step 1
  const auto out = FusedLstmUnroll(in.xg, in.h0, in.c0, in.w, in.b, in.keep);
  auto later = out.outputs.slice(0, 1).select(1, 0).sum();
  const auto g = torch::autograd::grad({later}, {in.h0, in.c0, in.xg});
  CHECK(g[0][0].abs().max().item<float>() == 0.0f);
  CHECK(g[1][0].abs().max().item<float>() == 0.0f);
  CHECK(g[2][0][0].abs().max().item<float>() == 0.0f);  // step 0 of sample 0
  CHECK(g[2][1][0].abs().max().item<float>() > 0.0f);
}

TEST_CASE(
    "Fused RNNs: the LSTM and GRU cores give the same steps, unrolls and gradients fused "
    "or not",
    "[fused_rnn]") {
  const std::string type = GENERATE("lstm", "gru");
  CoreOptions o;
  o.type = type;
  o.hidden_size = 16;
  torch::manual_seed(5);
  auto core = MakeCore(o, 6, 1);
  auto set_fused = [&](bool f) {
    if (type == "lstm") {
      dynamic_cast<LSTMCoreImpl&>(*core).fused = f;
    } else {
      dynamic_cast<GRUCoreImpl&>(*core).fused = f;
    }
  };
  INFO(type);
  const auto x = torch::randn({4, 3, 6});
  auto resets = torch::zeros({4, 3}, torch::kBool);
  resets[2][1] = true;
  State s0 = core->InitialState(3);
  for (auto& t : s0.tensors) t = torch::randn_like(t);

  auto run = [&](bool fused) {
    set_fused(fused);
    core->zero_grad();
    auto out = core->Unroll(x, s0, resets);
    auto step = core->Step(x[0], s0, resets[0]);
    (out.outputs.pow(2).sum() + out.state.tensors.back().sum() + step.output.sum()).backward();
    std::vector<torch::Tensor> r = {out.outputs, out.state.tensors.back(), step.output,
                                    step.state.tensors.back()};
    for (const auto& p : core->parameters()) r.push_back(p.grad().clone());
    return r;
  };
  const auto plain = run(false);
  const auto fused = run(true);
  REQUIRE(plain.size() == fused.size());
  for (size_t i = 0; i < plain.size(); ++i) {
    INFO("tensor " << i);
    RequireClose(fused[i], plain[i], "core");
  }
}

TEST_CASE("Fused RNNs: mismatched shapes and unsupported types are refused", "[fused_rnn]") {
  const auto in = Random(2, 3, 4, false);
  CHECK_THROWS_WITH(FusedLstmUnroll(in.xg, in.h0.slice(1, 0, 3), in.c0, in.w, in.b, {}),
                    Catch::Contains("shapes"));
  CHECK_THROWS_WITH(FusedLstmUnroll(in.xg, in.h0, in.c0, in.w, in.b, torch::ones({2, 2})),
                    Catch::Contains("shapes"));
  CHECK_THROWS_WITH(FusedLstmUnroll(in.xg.to(torch::kFloat64), in.h0, in.c0, in.w, in.b, {}),
                    Catch::Contains("float32"));
  CHECK_FALSE(FusedRnnSupported(in.xg.to(torch::kFloat64), in.w));
  CHECK_THROWS_WITH(FusedGruUnroll(in.xg, in.h0, in.w, in.b, {}), Catch::Contains("shapes"));
}
