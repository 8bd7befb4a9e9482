// The fused RIM unroll (models/fused_rim.h) against the same cell run operator by operator
// (RIMCellOptions::fused(false)), which the independent reference in test_rim_reference.cpp pins
// to RIM_SPEC.md: outputs, state, the active mask and both attentions, and the gradients of a
// random loss with respect to the inputs, the state and every parameter, over the configurations
// the cell supports; dropout included, since both paths draw the same masks.
#include <torch/torch.h>
// LibTorch brings glog, whose CHECK would shadow Catch2's: Catch2 must own it here.
#undef CHECK
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "models/rim.h"
#include "tests/gemm_mode.h"

using namespace rimlab::models;  // NOLINT: test file

namespace {

struct Case {
  std::string cell = "lstm";
  int64_t elements = 1;  // M; 1 means a [B, d_in] input
  int64_t input_heads = 1, comm_heads = 2, top_k = 2;
  bool communication = true, resets = true, dropout = false;
};

RIMCellOptions Options(const Case& c) {
  return RIMCellOptions(6)
      .num_units(4)
      .top_k(c.top_k)
      .unit_size(5)
      .unit_cell(c.cell)
      .input_key_size(4)
      .input_value_size(7)
      .input_heads(c.input_heads)
      .comm_key_size(3)
      .comm_value_size(4)
      .comm_heads(c.comm_heads)
      .communication(c.communication)
      .input_dropout(c.dropout ? 0.3 : 0.0)
      .comm_dropout(c.dropout ? 0.3 : 0.0);
}

/// Relative distance, scaled by the larger norm (1 for near-zero tensors).
double Distance(const torch::Tensor& a, const torch::Tensor& b) {
  REQUIRE(a.sizes() == b.sizes());
  const double scale = std::max({a.norm().item<double>(), b.norm().item<double>(), 1.0});
  return (a - b).norm().item<double>() / scale;
}

struct Run {
  UnrollOutput out;
  std::vector<torch::Tensor> grads;  // x, h0, c0, then every parameter in order
};

Run Unroll(RIMCell cell, const torch::Tensor& x, const State& s0, const torch::Tensor& resets,
           const torch::Tensor& w_out, const torch::Tensor& w_h, uint64_t seed) {
  cell->zero_grad();
  auto xi = x.detach().clone().requires_grad_();
  State s;
  for (const auto& t : s0.tensors) s.tensors.push_back(t.detach().clone().requires_grad_());
  torch::manual_seed(seed);  // the dropout masks
  Run r;
  r.out = cell->Unroll(xi, s, resets);
  auto loss = (r.out.outputs * w_out).sum() + (r.out.state.tensors[0] * w_h).sum();
  if (r.out.state.tensors.size() > 1) loss = loss + (r.out.state.tensors[1] * w_h).sum() * 0.5;
  loss.backward();
  r.grads.push_back(xi.grad());
  for (const auto& t : s.tensors) r.grads.push_back(t.grad());
  for (const auto& p : cell->parameters())
    r.grads.push_back(p.grad().defined() ? p.grad() : torch::zeros_like(p));
  return r;
}

void Compare(const Case& c) {
  torch::manual_seed(11);
  const int64_t T = 5, B = 3;
  RIMCell fused(Options(c));
  RIMCell plain(Options(c).fused(false));
  {
    torch::NoGradGuard no_grad;
    // Larger weights than the default initialisation, so that attention and selection differ
    // between units and samples.
    for (auto& p : fused->parameters()) p.copy_(torch::randn_like(p) * 0.6);
    const auto from = fused->parameters();
    const auto to = plain->parameters();
    for (size_t i = 0; i < from.size(); ++i) to[i].copy_(from[i]);
  }
  fused->train(c.dropout);
  plain->train(c.dropout);
  auto x = c.elements == 1 ? torch::randn({T, B, 6}) : torch::randn({T, B, c.elements, 6});
  State s0 = fused->InitialState(B);
  for (auto& t : s0.tensors) t = torch::randn_like(t) * 0.5;
  auto resets = c.resets ? torch::rand({T, B}) < 0.3 : torch::Tensor();
  auto w_out = torch::randn({T, B, fused->output_size()});
  auto w_h = torch::randn_like(s0.tensors[0]);
  const Run a = Unroll(fused, x, s0, resets, w_out, w_h, 5);
  const Run b = Unroll(plain, x, s0, resets, w_out, w_h, 5);
  CHECK(a.out.info.mask.equal(b.out.info.mask));
  CHECK(Distance(a.out.outputs, b.out.outputs) < 1e-5);
  for (size_t i = 0; i < a.out.state.tensors.size(); ++i) {
    CHECK(Distance(a.out.state.tensors[i], b.out.state.tensors[i]) < 1e-5);
  }
  CHECK(Distance(a.out.info.input_attention, b.out.info.input_attention) < 1e-5);
  REQUIRE(a.out.info.comm_attention.defined() == c.communication);
  if (c.communication) {
    CHECK(Distance(a.out.info.comm_attention, b.out.info.comm_attention) < 1e-5);
  }
  const auto names = fused->named_parameters();
  REQUIRE(a.grads.size() == b.grads.size());
  for (size_t i = 0; i < a.grads.size(); ++i) {
    const size_t state_end = 1 + s0.tensors.size();
    INFO("gradient " << (i == 0          ? std::string("x")
                         : i < state_end ? "state " + std::to_string(i - 1)
                                         : names[i - state_end].key()));
    REQUIRE(a.grads[i].defined());
    REQUIRE(b.grads[i].defined());
    CHECK(Distance(a.grads[i], b.grads[i]) < 1e-4);
  }
}

}  // namespace

TEST_CASE("fused RIM unroll equals the operator cell: outputs, infos and every gradient",
          "[fused_rim]") {
  Case c;
  c.cell = GENERATE(std::string("lstm"), std::string("gru"));
  c.elements = GENERATE(1, 3);
  c.input_heads = GENERATE(1, 2);
  c.comm_heads = GENERATE(1, 3);
  c.top_k = GENERATE(2, 4);
  c.communication = GENERATE(true, false);
  // The per-step products through sgemm, through weights packed once per unroll (forced at
  // these small sizes) and the default (weights read in place; tests/gemm_mode.h).
  const int gemm = GENERATE(0, 1, 2);
  gemm_test::GemmMode mode(gemm);
  INFO(c.cell << " M=" << c.elements << " heads " << c.input_heads << "/" << c.comm_heads
              << " top_k " << c.top_k << " comm " << c.communication << " gemm " << gemm);
  Compare(c);
}

TEST_CASE("fused RIM unroll draws the operator cell's dropout masks", "[fused_rim]") {
  Case c;
  c.dropout = true;
  c.cell = GENERATE(std::string("lstm"), std::string("gru"));
  c.elements = GENERATE(1, 3);
  INFO(c.cell << " M=" << c.elements);
  Compare(c);
}

TEST_CASE("fused RIM step equals the operator step, with and without autograd", "[fused_rim]") {
  torch::manual_seed(2);
  RIMCell fused(Options(Case{}));
  RIMCell plain(Options(Case{}).fused(false));
  {
    torch::NoGradGuard no_grad;
    auto from = fused->parameters();
    auto to = plain->parameters();
    for (size_t i = 0; i < from.size(); ++i) {
      from[i].add_(torch::randn_like(from[i]) * 0.5);
      to[i].copy_(from[i]);
    }
  }
  fused->eval();
  plain->eval();
  auto x = torch::randn({4, 6});
  State s = fused->InitialState(4);
  for (auto& t : s.tensors) t = torch::randn_like(t);
  auto reset = torch::tensor({false, true, false, false});
  for (bool grad : {true, false}) {
    torch::AutoGradMode mode(grad);
    auto a = fused->Step(x, s, reset);
    auto b = plain->Step(x, s, reset);
    CHECK(Distance(a.output, b.output) < 1e-5);
    CHECK(a.info.mask.equal(b.info.mask));
    CHECK(Distance(a.info.input_attention, b.info.input_attention) < 1e-5);
    CHECK(Distance(a.info.comm_attention, b.info.comm_attention) < 1e-5);
    for (size_t i = 0; i < s.tensors.size(); ++i) {
      CHECK(Distance(a.state.tensors[i], b.state.tensors[i]) < 1e-5);
    }
  }
}
