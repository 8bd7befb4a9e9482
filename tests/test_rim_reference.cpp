// The RIM cell against an independent reference of one step written from ../shared/RIM_SPEC.md:
// loops over samples, units and heads on small slices, so that a wrong selection direction, a
// missing scale, a unit using another unit's weights, a wrong softmax axis or head order, or a
// gradient gate in the wrong place shows up as a numeric difference instead of passing the
// property tests in test_rim.cpp.
//
// Both production paths are pinned to it: the operator path (double precision, and float32 with
// RIMCellOptions::fused(false)) and the fused float32 path of models/fused_rim.h, which Step and
// Unroll take for float32 on the CPU. The reference always runs in double precision on the
// float32 cell's weights, inputs, state and loss weights cast to double (exactly), so what is
// left is the cell's own rounding.
//
// Packed layouts assumed (rim.h names the widths; the head order inside them is read off
// rim.cpp's Project and StepUnitMajor): every packed column block is head-major, head i owning
// the i-th contiguous slice, as in the authors' MultiHeadAttention (view [..., n_head, d] and
// permute back before concatenating), which is what "heads are concatenated" in the spec means.
//   input_kv    [d_in, n_in*d_k | n_in*d_v]: keys of all heads first, then values.
//   input_query [K, d_h, n_in*d_k]; the read a_k is the per-head reads concatenated, head-major.
//   unit_w_ih/hh [K, in, G*d_h] right-multiplied, gate blocks i,f,g,o (LSTM) or r,z,n (GRU);
//   the LSTM uses unit_b_ih only, the GRU adds unit_b_hh inside r * (.) for its n gate.
//   comm_qkv    [K, d_h, n_c*d_kc | n_c*d_kc | n_c*d_vc]: queries, keys, values.
//   comm_out    Linear(n_c*d_vc, 2*d_h): rows [0, d_h) the sigmoid gate, [d_h, 2*d_h) the tanh
//               branch (rim.h: "[gate | tanh branch]").
// The spec does not state a scale for communication scores; the reference divides by
// sqrt(d_kc), the paper's scaled dot-product attention and the authors' temperature.
#include <torch/torch.h>
// LibTorch brings glog, whose CHECK would shadow Catch2's: Catch2 must own it here.
#undef CHECK
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "models/rim.h"
#include "tests/gemm_mode.h"

using rimlab::models::RIMCell;
using rimlab::models::RIMCellOptions;
using rimlab::models::State;

namespace {

// Small enough that the reference's loops are quick; the widths of adjacent packed blocks differ,
// so reading the wrong block gives the wrong shape or the wrong values.
constexpr int64_t kB = 3, kK = 4, kDh = 5, kDin = 6, kDk = 4, kDv = 7, kDkc = 3, kDvc = 4;
// Double precision: the reference and the cell sum the same few terms in different orders, and
// differ by at most ~4e-15 on values of order 1-10; the margin is for other BLAS kernels.
constexpr double kTol = 1e-10;

// The production cell's type and path, and what agreeing with the reference means for it.
struct Precision {
  const char* name;
  torch::ScalarType dtype;
  bool fused;  // RIMCellOptions::fused; it only takes effect for float32 on the CPU
  double rtol, atol;
  // A smaller gap between the last selected and the first unselected unit's null attention
  // refuses the comparison: the selection would depend on rounding.
  double min_gap;
  bool runs_fused() const { return fused && dtype == torch::kFloat32; }
};
constexpr Precision kDouble{"float64, operator path", torch::kFloat64, true, kTol, kTol, 1e-8};
// Float32, both paths, against the double reference over all the cases below: the largest
// differences are 5e-7 on outputs and states, 1.5e-7 on attention and 3e-6 on gradients (whose
// entries reach ~11), the fused path's about 4x the operator path's; no element uses more than
// 8% of atol + rtol * |expected| with rtol 1e-4, atol 1e-5. That leaves a margin of over 10x for
// other BLAS kernels and summation orders, while an input attention scale of 1/d_k for
// 1/sqrt(d_k) in the fused forward alone, or its backward alone, fails every configuration.
// The selection gap of these cases is at least 1.6e-4, above the guard's 1e-5, and the fused
// path's null attention (float32) is within ~2e-7 of the reference's.
constexpr Precision kFused{"float32, fused path", torch::kFloat32, true, 1e-4, 1e-5, 1e-5};
constexpr Precision kFloat32Operators{
    "float32, operator path", torch::kFloat32, false, 1e-4, 1e-5, 1e-5};

using Weights = std::map<std::string, torch::Tensor>;

RIMCellOptions Options(const std::string& unit, int64_t input_heads, int64_t comm_heads,
                       int64_t top_k) {
  return RIMCellOptions(kDin)
      .num_units(kK)
      .top_k(top_k)
      .unit_size(kDh)
      .unit_cell(unit)
      .input_key_size(kDk)
      .input_value_size(kDv)
      .input_heads(input_heads)
      .comm_key_size(kDkc)
      .comm_value_size(kDvc)
      .comm_heads(std::max<int64_t>(comm_heads, 1))
      .communication(comm_heads > 0)
      .input_dropout(0.0)
      .comm_dropout(0.0);
}

// eval() and zero dropout: nothing random happens in a step. The default init is too small to
// give distinct attention, so every parameter is re-drawn (in double, then rounded to `dtype`:
// a float32 cell holds the double cell's weights rounded).
RIMCell MakeCell(const RIMCellOptions& o, uint64_t seed = 7,
                 torch::ScalarType dtype = torch::kFloat64) {
  torch::manual_seed(seed);
  RIMCell cell(o);
  cell->to(torch::kFloat64);
  cell->eval();
  torch::NoGradGuard no_grad;
  for (auto& p : cell->parameters()) p.copy_(torch::randn_like(p) * 0.5);
  cell->to(dtype);
  return cell;
}

// Copies of the cell's weights in double precision for the reference.
Weights DoubleWeights(const RIMCell& cell) {
  Weights w;
  for (const auto& p : cell->named_parameters()) {
    w[p.key()] = p.value().detach().to(torch::kFloat64, false, true);
  }
  return w;
}

// Random input [lead..., d_in] and state [B, K, d_h] (c undefined for GRU units) in `dtype`.
struct Inputs {
  torch::Tensor x, h, c;
  State state() const {
    State s{{h}};
    if (c.defined()) s.tensors.push_back(c);
    return s;
  }
};
Inputs RandomInputs(std::vector<int64_t> lead, bool lstm, torch::ScalarType dtype) {
  lead.push_back(kDin);
  Inputs in;
  in.x = torch::randn(lead, dtype);
  in.h = torch::randn({kB, kK, kDh}, dtype);
  if (lstm) in.c = torch::randn({kB, kK, kDh}, dtype);
  return in;
}

torch::Tensor Double(const torch::Tensor& t) {
  return t.defined() ? t.to(torch::kFloat64) : t;
}

// One step of the reference, batch-first: x [B, M, d_in], h_prev/c_prev [B, K, d_h] (c_prev
// undefined for GRU units).
struct RefStep {
  torch::Tensor output, h, c, mask, input_attention, comm_attention;
  // Before communication, and the communication output's two pre-activations (zero for
  // inactive units): the dropout-placement case rebuilds the output from them.
  torch::Tensor h_tilde, gate_pre, branch_pre;
  double selection_gap = std::numeric_limits<double>::infinity();  // smallest non-zero gap
};

RefStep ReferenceStep(const RIMCellOptions& o, const Weights& w, const torch::Tensor& x,
                      const torch::Tensor& h_prev, const torch::Tensor& c_prev,
                      const std::vector<bool>& reset) {
  const int64_t B = x.size(0), K = o.num_units(), dh = o.unit_size();
  const int64_t n = o.input_heads(), dk = o.input_key_size(), dv = o.resolved_input_value_size();
  const int64_t nc = o.comm_heads(), dkc = o.comm_key_size(), dvc = o.comm_value_size();
  const bool lstm = o.unit_cell() == "lstm";
  const auto opts = x.options();
  RefStep out;
  std::vector<torch::Tensor> outs, hs, cs, masks, in_atts, comm_atts, tildes, gates, branches;
  for (int64_t b = 0; b < B; ++b) {
    // A reset sample starts from zeros that are not connected to h_prev: no gradient reaches it.
    torch::Tensor h0 = reset[b] ? torch::zeros({K, dh}, opts) : h_prev[b];
    torch::Tensor c0;
    if (lstm) c0 = reset[b] ? torch::zeros({K, dh}, opts) : c_prev[b];
    const auto X = torch::cat({torch::zeros({1, x.size(2)}, opts), x[b]}, 0);  // [M+1, d_in]

    // Input attention and read, unit by unit and head by head.
    std::vector<torch::Tensor> reads, att_rows;
    std::vector<double> null_att;
    for (int64_t k = 0; k < K; ++k) {
      std::vector<torch::Tensor> head_reads;
      torch::Tensor att_sum;
      for (int64_t i = 0; i < n; ++i) {
        const auto keys = X.matmul(w.at("input_kv").narrow(1, i * dk, dk));             // [M+1, dk]
        const auto values = X.matmul(w.at("input_kv").narrow(1, n * dk + i * dv, dv));  // [M+1, dv]
        const auto q = h0[k].matmul(w.at("input_query")[k].narrow(1, i * dk, dk));      // [dk]
        const auto att = torch::softmax(keys.matmul(q) / std::sqrt(double(dk)), 0);     // [M+1]
        head_reads.push_back(values.t().matmul(att));
        att_sum = i == 0 ? att : att_sum + att;
      }
      reads.push_back(torch::cat(head_reads));
      att_rows.push_back(att_sum / double(n));
      null_att.push_back(att_rows.back()[0].item<double>());  // a plain number: no gradient
    }

    // Selection: least null attention wins, ties to the lower index.
    std::vector<int64_t> order(static_cast<size_t>(K));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t c) { return null_att[a] < null_att[c]; });
    std::vector<bool> active(static_cast<size_t>(K), false);
    for (int64_t r = 0; r < o.top_k(); ++r) active[order[r]] = true;
    if (o.top_k() < K) {
      const double gap = null_att[order[o.top_k()]] - null_att[order[o.top_k() - 1]];
      if (gap > 0) out.selection_gap = std::min(out.selection_gap, gap);
    }

    // Each unit's own LSTM or GRU.
    std::vector<torch::Tensor> ht, ct;
    for (int64_t k = 0; k < K; ++k) {
      const auto gx = reads[k].matmul(w.at("unit_w_ih")[k]) + w.at("unit_b_ih")[k][0];
      auto gh = h0[k].matmul(w.at("unit_w_hh")[k]);
      auto part = [&](const torch::Tensor& g, int64_t j) { return g.narrow(0, j * dh, dh); };
      if (lstm) {
        const auto g = gx + gh;
        ct.push_back(torch::sigmoid(part(g, 1)) * c0[k] +
                     torch::sigmoid(part(g, 0)) * torch::tanh(part(g, 2)));
        ht.push_back(torch::sigmoid(part(g, 3)) * torch::tanh(ct.back()));
      } else {
        gh = gh + w.at("unit_b_hh")[k][0];
        const auto r = torch::sigmoid(part(gx, 0) + part(gh, 0));
        const auto z = torch::sigmoid(part(gx, 1) + part(gh, 1));
        const auto cand = torch::tanh(part(gx, 2) + r * part(gh, 2));
        ht.push_back((1 - z) * cand + z * h0[k]);
      }
    }

    // Communication from the pre-communication h~ of every unit; only active units read.
    std::vector<torch::Tensor> h_comm = ht;
    std::vector<torch::Tensor> gate_rows(K, torch::zeros({dh}, opts)), branch_rows = gate_rows;
    if (o.communication()) {
      std::vector<torch::Tensor> gated;  // the gradient gate: inactive units pass no gradient
      for (int64_t k = 0; k < K; ++k) gated.push_back(active[k] ? ht[k] : ht[k].detach());
      std::vector<std::vector<torch::Tensor>> z_heads(static_cast<size_t>(K));
      torch::Tensor comm_sum;
      for (int64_t c = 0; c < nc; ++c) {
        std::vector<torch::Tensor> qs, ks, vs;
        for (int64_t k = 0; k < K; ++k) {
          const auto& wk = w.at("comm_qkv")[k];
          qs.push_back(gated[k].matmul(wk.narrow(1, c * dkc, dkc)));
          ks.push_back(gated[k].matmul(wk.narrow(1, nc * dkc + c * dkc, dkc)));
          vs.push_back(gated[k].matmul(wk.narrow(1, 2 * nc * dkc + c * dvc, dvc)));
        }
        std::vector<torch::Tensor> score_rows;  // row = reader, column = unit read
        for (int64_t k = 0; k < K; ++k) {
          std::vector<torch::Tensor> row;
          for (int64_t j = 0; j < K; ++j) row.push_back(qs[k].dot(ks[j]));
          score_rows.push_back(torch::stack(row));
        }
        const auto att = torch::softmax(torch::stack(score_rows) / std::sqrt(double(dkc)), 1);
        const auto v = torch::stack(vs);  // [K, dvc]
        for (int64_t k = 0; k < K; ++k) z_heads[k].push_back(v.t().matmul(att[k]));
        comm_sum = c == 0 ? att : comm_sum + att;
      }
      const auto& wo = w.at("comm_out.weight");  // [2*dh, nc*dvc]
      const auto& bo = w.at("comm_out.bias");
      for (int64_t k = 0; k < K; ++k) {
        if (!active[k]) continue;
        const auto z = torch::cat(z_heads[k]);
        gate_rows[k] = wo.narrow(0, 0, dh).matmul(z) + bo.narrow(0, 0, dh);
        branch_rows[k] = wo.narrow(0, dh, dh).matmul(z) + bo.narrow(0, dh, dh);
        h_comm[k] = ht[k] + torch::sigmoid(gate_rows[k]) * torch::tanh(branch_rows[k]);
      }
      comm_atts.push_back(comm_sum / double(nc));
    }

    // Update: active units take the new state, the others keep theirs.
    std::vector<torch::Tensor> h_rows, c_rows;
    for (int64_t k = 0; k < K; ++k) {
      h_rows.push_back(active[k] ? h_comm[k] : h0[k]);
      if (lstm) c_rows.push_back(active[k] ? ct[k] : c0[k]);
    }
    hs.push_back(torch::stack(h_rows));
    if (lstm) cs.push_back(torch::stack(c_rows));
    outs.push_back(torch::cat(h_rows));
    std::vector<double> m(active.begin(), active.end());
    masks.push_back(torch::tensor(m, opts));
    in_atts.push_back(torch::stack(att_rows));
    tildes.push_back(torch::stack(ht));
    gates.push_back(torch::stack(gate_rows));
    branches.push_back(torch::stack(branch_rows));
  }
  out.output = torch::stack(outs);
  out.h = torch::stack(hs);
  if (lstm) out.c = torch::stack(cs);
  out.mask = torch::stack(masks);
  out.input_attention = torch::stack(in_atts);
  if (o.communication()) out.comm_attention = torch::stack(comm_atts);
  out.h_tilde = torch::stack(tildes);
  out.gate_pre = torch::stack(gates);
  out.branch_pre = torch::stack(branches);
  return out;
}

// Forward values stacked over time ([T, ...]), the last state, and the gradients of the loss by
// name: "input", "h_prev", "c_prev" and every parameter name of the cell.
struct Trace {
  torch::Tensor outputs, h, c, mask, input_attention, comm_attention;
  std::map<std::string, torch::Tensor> grads;
  double selection_gap = std::numeric_limits<double>::infinity();
  bool fused_node = false;  // the cell's graph holds the fused path's autograd node
};

// Random linear loss weights, fixed per case so both sides differentiate the same function.
struct Loss {
  torch::Tensor on_outputs, on_h, on_c;
  torch::Tensor Of(const torch::Tensor& outputs, const torch::Tensor& h,
                   const torch::Tensor& c) const {
    const auto as = [&](const torch::Tensor& w) { return w.to(outputs.scalar_type()); };
    auto loss = (outputs * as(on_outputs)).sum() + (h * as(on_h)).sum();
    return c.defined() ? loss + (c * as(on_c)).sum() : loss;
  }
};

std::vector<bool> Flags(const torch::Tensor& resets_t) {
  std::vector<bool> flags;
  for (int64_t b = 0; b < resets_t.size(0); ++b) flags.push_back(resets_t[b].item<bool>());
  return flags;
}

torch::Tensor Leaf(const torch::Tensor& t) {
  return t.defined() ? t.detach().clone().requires_grad_(true) : t;
}

// Whether the autograd graph behind t holds a node whose name contains `name`.
bool GraphHas(const torch::Tensor& t, const std::string& name) {
  std::vector<torch::autograd::Node*> pending{t.grad_fn().get()};
  std::set<torch::autograd::Node*> seen;
  while (!pending.empty()) {
    auto* node = pending.back();
    pending.pop_back();
    if (node == nullptr || !seen.insert(node).second) continue;
    if (node->name().find(name) != std::string::npos) return true;
    for (const auto& e : node->next_edges()) pending.push_back(e.function.get());
  }
  return false;
}

// The production cell: Step when `unroll` is false (then T must be 1), Unroll otherwise.
Trace RunCell(RIMCell& cell, const torch::Tensor& xs, const torch::Tensor& h_prev,
              const torch::Tensor& c_prev, const torch::Tensor& resets, bool unroll,
              const Loss& loss) {
  auto x = Leaf(xs), h = Leaf(h_prev), c = Leaf(c_prev);
  State s = Inputs{x, h, c}.state();
  Trace tr;
  rimlab::models::CoreInfo info;
  if (unroll) {
    auto out = cell->Unroll(x, s, resets);
    tr.outputs = out.outputs;
    s = out.state;
    info = out.info;
  } else {
    REQUIRE(xs.size(0) == 1);
    auto out = cell->Step(x[0], s, resets[0]);
    tr.outputs = out.output.unsqueeze(0);
    s = out.state;
    info = out.info;
    for (auto* f : {&info.mask, &info.input_attention, &info.comm_attention}) {
      if (f->defined()) *f = f->unsqueeze(0);
    }
  }
  tr.h = s.tensors.at(0);
  if (c.defined()) tr.c = s.tensors.at(1);
  tr.mask = info.mask;
  tr.input_attention = info.input_attention;
  tr.comm_attention = info.comm_attention;
  tr.fused_node = GraphHas(tr.outputs, "FusedRimFunction");
  cell->zero_grad();
  loss.Of(tr.outputs, tr.h, tr.c).backward();
  tr.grads["input"] = x.grad();
  tr.grads["h_prev"] = h.grad();
  if (c.defined()) tr.grads["c_prev"] = c.grad();
  for (const auto& p : cell->named_parameters()) tr.grads[p.key()] = p.value().grad();
  return tr;
}

// T reference steps chained, in double precision on copies of the cell's weights.
Trace RunReference(const RIMCell& cell, const torch::Tensor& xs, const torch::Tensor& h_prev,
                   const torch::Tensor& c_prev, const torch::Tensor& resets, const Loss& loss) {
  Weights w = DoubleWeights(cell);
  for (auto& entry : w) entry.second.requires_grad_(true);
  auto x = Leaf(Double(xs)), h0 = Leaf(Double(h_prev)), c0 = Leaf(Double(c_prev));
  torch::Tensor h = h0, c = c0;
  std::vector<torch::Tensor> outs, masks, in_atts, comm_atts;
  Trace tr;
  for (int64_t t = 0; t < xs.size(0); ++t) {
    const auto xt = x[t].dim() == 2 ? x[t].unsqueeze(1) : x[t];  // a vector is a set of one
    auto step = ReferenceStep(cell->options, w, xt, h, c, Flags(resets[t]));
    h = step.h;
    c = step.c;
    outs.push_back(step.output);
    masks.push_back(step.mask);
    in_atts.push_back(step.input_attention);
    if (step.comm_attention.defined()) comm_atts.push_back(step.comm_attention);
    tr.selection_gap = std::min(tr.selection_gap, step.selection_gap);
  }
  tr.outputs = torch::stack(outs);
  tr.h = h;
  tr.c = c;
  tr.mask = torch::stack(masks);
  tr.input_attention = torch::stack(in_atts);
  if (!comm_atts.empty()) tr.comm_attention = torch::stack(comm_atts);
  loss.Of(tr.outputs, tr.h, tr.c).backward();
  tr.grads["input"] = x.grad();
  tr.grads["h_prev"] = h0.grad();
  if (c0.defined()) tr.grads["c_prev"] = c0.grad();
  // A parameter the reference never touches keeps an undefined gradient, and fails below.
  for (const auto& [name, t] : w) tr.grads[name] = t.grad();
  return tr;
}

// The cell's value (any type) against the reference's (double), elementwise within p's rtol/atol.
void Close(const std::string& what, const torch::Tensor& actual, const torch::Tensor& expected,
           const Precision& p) {
  INFO(what << " (" << p.name << ")");
  REQUIRE(actual.defined());
  REQUIRE(expected.defined());
  REQUIRE(actual.sizes() == expected.sizes());  // allclose would broadcast
  const auto a = Double(actual);
  INFO("max abs difference " << (a - expected).abs().max().item<double>());
  CHECK(torch::allclose(a, expected, p.rtol, p.atol));
}

void Compare(const Trace& cell, const Trace& ref, const Precision& p) {
  // A near-tie at the selection boundary would make the comparison depend on rounding; exact
  // ties (reset samples, whose queries are all zero) are fine and are compared.
  REQUIRE(ref.selection_gap > p.min_gap);
  REQUIRE(cell.mask.defined());
  CHECK(torch::equal(Double(cell.mask), ref.mask));
  Close("outputs", cell.outputs, ref.outputs, p);
  Close("new h", cell.h, ref.h, p);
  if (ref.c.defined()) Close("new c", cell.c, ref.c, p);
  CHECK(cell.c.defined() == ref.c.defined());
  // The record holds the head mean only; per-head attention is not exposed.
  Close("input attention", cell.input_attention, ref.input_attention, p);
  // Rows of inactive readers are what their queries would read; the reference records them the
  // same way, so a wrong axis or scale shows up in every row.
  if (ref.comm_attention.defined()) {
    Close("communication attention", cell.comm_attention, ref.comm_attention, p);
  } else {
    CHECK_FALSE(cell.comm_attention.defined());
  }
  CHECK(cell.grads.size() == ref.grads.size());
  for (const auto& [name, grad] : cell.grads) {
    INFO("gradient of " << name);
    REQUIRE(ref.grads.count(name) == 1);
    REQUIRE(grad.defined());
    REQUIRE(ref.grads.at(name).defined());
    Close("d loss / d " + name, grad, ref.grads.at(name), p);
  }
}

Loss RandomLoss(int64_t T, const torch::Tensor& h_prev, bool lstm) {
  Loss l;
  l.on_outputs =
      torch::randn({T, h_prev.size(0), h_prev.size(1) * h_prev.size(2)}, h_prev.scalar_type());
  l.on_h = torch::randn_like(h_prev);
  if (lstm) l.on_c = torch::randn_like(h_prev);
  return l;
}

// The path under test is the one taken: the fused flag as asked, input and weights of p's type
// on the CPU (rim.cpp's UseFused). Where autograd records, RunCell also looks for the fused node.
void RequirePath(const RIMCell& cell, const torch::Tensor& x, const Precision& p) {
  REQUIRE(cell->options.fused() == p.fused);
  REQUIRE(x.scalar_type() == p.dtype);
  REQUIRE(x.device().is_cpu());
  REQUIRE(cell->input_kv.scalar_type() == p.dtype);
}

struct Config {
  std::string unit;
  int64_t M, input_heads, comm_heads, top_k, T;
};

// One configuration: the production cell in p's type and path, the reference in double on the
// same weights, inputs, state and loss.
void CheckAgainstReference(const Config& cfg, const Precision& p) {
  INFO(p.name);
  auto cell = MakeCell(Options(cfg.unit, cfg.input_heads, cfg.comm_heads, cfg.top_k).fused(p.fused),
                       7, p.dtype);
  const bool lstm = cfg.unit == "lstm";
  const int64_t T = cfg.T;
  auto in = RandomInputs(
      cfg.M == 1 ? std::vector<int64_t>{T, kB} : std::vector<int64_t>{T, kB, cfg.M}, lstm, p.dtype);
  // Sample 1 resets at the first step, sample 0 at the second; sample 2 never does.
  auto resets =
      torch::tensor({false, true, false, true, false, false}).view({2, kB}).narrow(0, 0, T);
  auto loss = RandomLoss(T, in.h, lstm);

  RequirePath(cell, in.x, p);
  auto produced = RunCell(cell, in.x, in.h, in.c, resets, T > 1, loss);
  CHECK(produced.fused_node == p.runs_fused());
  auto expected = RunReference(cell, in.x, in.h, in.c, resets, loss);
  Compare(produced, expected, p);
  // The reset sample's first step starts from zeros: all units tie and the lowest indices win,
  // and its previous state gets exactly no gradient.
  auto lowest = torch::arange(kK, torch::kFloat64).lt(double(cfg.top_k)).to(torch::kFloat64);
  CHECK(torch::equal(Double(produced.mask[0][1]), lowest));
  CHECK(produced.grads.at("h_prev")[1].abs().max().item<double>() == 0.0);
}

}  // namespace

TEST_CASE("RIM cell equals the spec reference: values, records and every gradient",
          "[rim][reference]") {
  Config cfg;
  cfg.unit = GENERATE(as<std::string>(), "lstm", "gru");
  cfg.M = GENERATE(1, 3);
  cfg.input_heads = GENERATE(1, 2);
  cfg.comm_heads = GENERATE(0, 1, 3);  // 0: communication off
  cfg.top_k = GENERATE(2, kK);
  // T = 1 goes through Step; T = 2 through Unroll, whose precomputed keys and values must give
  // the same as two chained reference steps.
  cfg.T = GENERATE(1, 2);
  // The operator path in double precision, and the fused path (the float32 default).
  const bool float32 = GENERATE(false, true);
  // The fused path's per-step products through sgemm, packed weights and weights read in place
  // (tests/gemm_mode.h).
  const int gemm = GENERATE(0, 1, 2);
  if (gemm != gemm_test::kBlas && !float32) return;
  gemm_test::GemmMode mode(gemm);
  CAPTURE(cfg.unit, cfg.M, cfg.input_heads, cfg.comm_heads, cfg.top_k, cfg.T, float32, gemm);
  CheckAgainstReference(cfg, float32 ? kFused : kDouble);
}

TEST_CASE("the float32 operator path (fused off) equals the spec reference", "[rim][reference]") {
  // The configuration with the most parts: M = 3, two input heads, three communication heads,
  // top_k < K, through Unroll with resets.
  const std::string unit = GENERATE(as<std::string>(), "lstm", "gru");
  CAPTURE(unit);
  CheckAgainstReference({unit, 3, 2, 3, 2, 2}, kFloat32Operators);
}

namespace {
// [head][unit][element]: the attention each unit is built to give the null element (column 0)
// and the M = 3 input elements.
using Table = std::vector<std::vector<std::vector<double>>>;

// Keys: element j's key is the basis vector e_j in every head (the input carries e_j in its
// first M coordinates, the key columns read only those). Queries: h coordinate 0 is 1 for every
// sample and unit and only row 0 of input_query is non-zero, so q_k is that row, chosen so that
// softmax(q_k . K / sqrt(d_k)) is the table's row exactly (scores log(p_j / p_0), null 0).
void Construct(RIMCell& cell, const Table& p, torch::Tensor& x, torch::Tensor& h_prev) {
  torch::NoGradGuard no_grad;
  const int64_t n = static_cast<int64_t>(p.size()), M = 3;
  auto keys = cell->input_kv.narrow(1, 0, n * kDk);
  keys.zero_();
  cell->input_query.zero_();
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < M; ++j) keys[j][i * kDk + j] = 1.0;
    for (int64_t k = 0; k < kK; ++k) {
      for (int64_t j = 0; j < M; ++j) {
        cell->input_query[k][0][i * kDk + j] =
            std::log(p[i][k][j + 1] / p[i][k][0]) * std::sqrt(double(kDk));
      }
    }
  }
  x.narrow(2, 0, M).copy_(torch::eye(M, torch::kFloat64).expand({kB, M, M}));
  h_prev.select(2, 0).fill_(1.0);
}

// In float32 (the fused path) the constructed weights are rounded and the attention is within
// ~1e-7 of the table, far from the selection boundary (the null attentions there are 0.02 apart).
void CheckConstructedSelection(const Table& p) {
  for (const Precision* prec : {&kDouble, &kFused}) {
    for (const std::string unit : {"lstm", "gru"}) {
      INFO(unit << " units, " << p.size() << " input heads, " << prec->name);
      auto o = Options(unit, static_cast<int64_t>(p.size()), 3, 2).fused(prec->fused);
      auto cell = MakeCell(o, 11, prec->dtype);
      auto in = RandomInputs({kB, 3}, unit == "lstm", prec->dtype);
      Construct(cell, p, in.x, in.h);
      const State s = in.state();
      RequirePath(cell, in.x, *prec);
      torch::NoGradGuard no_grad;
      auto step = cell->Step(in.x, s, {});

      auto built = torch::zeros({kK, 4}, torch::kFloat64);
      for (const auto& head : p) {
        for (int64_t k = 0; k < kK; ++k) built[k] += torch::tensor(head[k], torch::kFloat64);
      }
      built /= double(p.size());
      Close("built attention", step.info.input_attention, built.expand({kB, kK, 4}), *prec);

      // Units 0 and 2 were built to prefer the null element: exactly they are inactive, for
      // every sample, and carry their state over bit for bit.
      auto expected = torch::tensor({0.0, 1.0, 0.0, 1.0}, torch::kFloat64).expand({kB, kK});
      CHECK(torch::equal(Double(step.info.mask), expected));
      auto ref = ReferenceStep(o, DoubleWeights(cell), Double(in.x), Double(in.h), Double(in.c),
                               std::vector<bool>(kB, false));
      CHECK(torch::equal(ref.mask, expected));
      for (size_t i = 0; i < s.tensors.size(); ++i) {
        for (int64_t k = 0; k < kK; ++k) {
          INFO("state " << i << " unit " << k);
          const bool same =
              torch::equal(step.state.tensors[i].select(1, k), s.tensors[i].select(1, k));
          CHECK(same == (k % 2 == 0));
        }
      }
    }
  }
}
}  // namespace

TEST_CASE("units built to prefer the null element are exactly the inactive ones",
          "[rim][reference]") {
  SECTION("one head: no single element column ranks like the null column") {
    // Active (least null attention): units 1 and 3. Most null attention would pick {0, 2};
    // ranking by element 1 picks {0, 1} (most) or {2, 3} (least), element 2 {0, 3} or {1, 2},
    // element 3 {2, 3} or {0, 1}.
    CheckConstructedSelection({{{0.60, 0.25, 0.13, 0.02},
                                {0.10, 0.80, 0.05, 0.05},
                                {0.55, 0.02, 0.03, 0.40},
                                {0.20, 0.03, 0.70, 0.07}}});
  }
  SECTION("two heads: only the head mean ranks units 1 and 3 first") {
    // Null attention per head (elements share the rest evenly). Means 0.60, 0.50, 0.52, 0.45:
    // active {1, 3}. Head 0 alone picks {2, 3}, head 1 alone {0, 1}, the per-unit minimum over
    // heads {1, 2}, the maximum {0, 3}.
    auto even = [](double p0) {
      const double r = (1 - p0) / 3;
      return std::vector<double>{p0, r, r, r};
    };
    CheckConstructedSelection({{even(0.60), even(0.90), even(0.05), even(0.15)},
                               {even(0.60), even(0.10), even(0.99), even(0.75)}});
  }
}

TEST_CASE("communication dropout drops the tanh branch's pre-activation", "[rim][reference]") {
  // Training mode with p_c = 0.5 (input dropout stays 0): every element of an active unit's
  // communication output must be sigmoid(gate) * tanh(2 * branch) (kept, scaled by 1/(1-p)) or
  // exactly 0 (dropped), with gate and branch from the reference. Dropout on the gate branch,
  // after the tanh, or on z would give other values.
  const double p = 0.5;
  for (const std::string unit : {"lstm", "gru"}) {
    INFO(unit << " units");
    auto cell = MakeCell(Options(unit, 2, 3, 2).comm_dropout(p), 13);
    cell->train();
    auto in = RandomInputs({kB, 3}, unit == "lstm", torch::kFloat64);
    torch::NoGradGuard no_grad;
    auto step = cell->Step(in.x, in.state(), {});
    // The reference has no dropout: it gives the pre-activations the dropout acts on.
    auto ref = ReferenceStep(cell->options, DoubleWeights(cell), in.x, in.h, in.c,
                             std::vector<bool>(kB, false));
    REQUIRE(torch::equal(step.info.mask, ref.mask));
    auto active = ref.mask.unsqueeze(-1).to(torch::kBool).expand({kB, kK, kDh});
    auto o_cell = (step.state.tensors[0] - ref.h_tilde).masked_select(active);
    auto kept = (torch::sigmoid(ref.gate_pre) * torch::tanh(ref.branch_pre / (1 - p)))
                    .masked_select(active);
    auto is_dropped = o_cell.abs().le(kTol);
    auto is_kept = (o_cell - kept).abs().le(kTol);
    CHECK(is_dropped.logical_or(is_kept).all().item<bool>());
    CHECK(is_dropped.any().item<bool>());
    CHECK(is_kept.any().item<bool>());
  }
}
