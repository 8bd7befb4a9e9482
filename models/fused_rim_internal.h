#pragma once
// Internal to the fused RIM (models/fused_rim.h): what its forward keeps for its backward, and
// the two passes. Not part of the API.

#include <torch/torch.h>

#include <vector>

#include "models/fused_rim.h"
#include "models/fused_rim_kernels.h"

namespace rimlab::models::fused_rim {

using torch::Tensor;

/// Everything one unroll computes. Per-unit buffers are [K, T, B, width] so that a unit's rows
/// over all steps are one matrix for its weight gradients; buffers behind the shared output
/// projection are [T, K, B, width].
struct Buffers {
  Tensor xh;            // each unit's input after dropout (columns [0, n*d_v)) beside its previous
                        // h after resets, h_{t-1} * keep (the last d_h): [K, T, B, n*d_v + d_h]
  Tensor cp;            // the previous c after resets
  Tensor q;             // input queries [K, T, B, n*d_k]
  Tensor att;           // input attention per head [T, B, n, K, M+1]
  Tensor mask;          // [T, B, K]
  Tensor att_mean;      // [T, B, K, M+1]
  Tensor read_noise;    // the dropout's scaled mask, or undefined
  Tensor gates;         // activations: LSTM i, f, tanh g, o; GRU r, z, n [K, T, B, G*d_h]
  Tensor gh_n;          // GRU: W_hn h + b_hn [K, T, B, d_h]
  Tensor tanh_c;        // LSTM: tanh of the candidate cell state [K, T, B, d_h]
  Tensor h_cand;        // each unit's update before communication [K, T, B, d_h]
  Tensor qkv;           // [K, T, B, n_c*(2 d_kc + d_vc)]
  Tensor comm_att;      // [T, B, n_c, K, K]
  Tensor comm_mean;     // [T, B, K, K]
  Tensor z;             // heads read [T, K, B, n_c*d_vc]
  Tensor gate, branch;  // sigmoid of the gate and tanh of the (dropped) branch [T, K, B, d_h]
  Tensor comm_noise;    // [T, K, B, d_h] or undefined
  Tensor outputs;       // [T, K, B, d_h]
  Tensor h, c;          // [K, B, d_h] after the last step
};

struct Weights {
  Tensor wq, wih, whh, bih, bhh, wc, wo, bo;
  /// LSTM units: w_ih and w_hh stacked, [K, n*d_v + d_h, 4 d_h], so that a unit's gates are one
  /// product over its [read | h] rows; undefined for short unrolls (StackUnitWeights).
  Tensor wx;
};

/// The stacked copy for unrolls of at least 4 steps, where it costs less than it saves (for a
/// single step it would copy every unit weight to read it once); undefined otherwise.
Tensor StackUnitWeights(const FusedRimConfig& cfg, int64_t steps, const Weights& w);

Dims MakeDims(const FusedRimConfig& cfg, const Tensor& kv, const Weights& w);

/// The weights as one unroll's per-step products read them, each packed once (models/gemm.h):
/// per unit the query, the input (the stacked [read | h] weight where defined) and recurrent, and
/// the communication weights; the shared output projection. The forward's multiply the weights,
/// the backward's their transposes.
struct Operands {
  std::vector<WeightOperand> q, x, h, c;
  WeightOperand o;
};
Operands MakeOperands(const FusedRimConfig& cfg, const Dims& d, const Weights& w, int64_t steps,
                      bool backward);

inline float* F(const Tensor& t) {
  return t.data_ptr<float>();
}

/// Unit k's rows at step t of a [K, T, B, width] buffer.
inline UnitRows Rows(const Tensor& buf, int64_t t) {
  const int64_t steps = buf.size(1), batch = buf.size(2), width = buf.size(3);
  return {F(buf) + t * batch * width, steps * batch * width, width};
}
inline ConstUnitRows CRows(const Tensor& buf, int64_t t) {
  const auto r = Rows(buf, t);
  return {r.data, r.unit_stride, r.width};
}
/// The read and the previous h of unit k at step t, from the [read | h] buffer (row stride the
/// buffer's width; `read_width` is n*d_v).
inline UnitRows ReadRows(const Tensor& xh, int64_t t) {
  return Rows(xh, t);
}
inline UnitRows HpRows(const Tensor& xh, int64_t t, int64_t read_width) {
  const auto r = Rows(xh, t);
  return {r.data + read_width, r.unit_stride, r.width};
}

/// The unroll, keeping every buffer (kv, keep and the weights contiguous float32; keep [T, B]
/// or undefined).
Buffers Forward(const FusedRimConfig& cfg, const Tensor& kv, const Tensor& h0, const Tensor& c0,
                const Tensor& keep, const Weights& w);

struct Grads {
  Tensor dkv, dh0, dc0, dwq, dwih, dwhh, dbih, dbhh, dwc, dwo, dbo;
};

/// Gradients of every input from those of the outputs ([T, K, B, d_h]) and of the final state
/// (each may be undefined).
Grads Backward(const FusedRimConfig& cfg, const Tensor& kv, const Tensor& keep, const Weights& w,
               const Buffers& s, const Tensor& d_outputs, const Tensor& d_h, const Tensor& d_c);

}  // namespace rimlab::models::fused_rim
