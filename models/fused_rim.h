#pragma once
// The RIM cell's unroll (models/rim.h, ../shared/RIM_SPEC.md) as one autograd node with a
// hand-written backward, for float32 on the CPU.
//
// Why: written with tensor operators, a RIM step is about 45 operators forward and more backward,
// each unit's weight gradient is a product per step into a fresh buffer, and autograd runs the
// backward of every unit, active or not. Here a step is a few matrix products per unit and loops
// over the attention's few keys; the backward runs the dynamics of active units only (an inactive
// unit's update is discarded and the gradient gate keeps communication from reaching it, so its
// rows carry no gradient), and each weight's gradient is one product over all T * B rows.
//
// Dropout masks come from models/dropout_noise.h with the same shapes and in the same order as
// in the operator cell, so both paths see the same masks for the same seed.

#include <torch/torch.h>

namespace rimlab::models {

struct FusedRimConfig {
  int64_t top_k = 0;
  int64_t input_heads = 1, input_key_size = 0, input_value_size = 0;  // per head
  int64_t comm_heads = 1, comm_key_size = 0, comm_value_size = 0;
  bool lstm = true;
  bool communication = true;
  double input_dropout = 0.0, comm_dropout = 0.0;  // applied only when `training`
  bool training = false;
};

/// The cell's parameters as RIMCellImpl holds them (comm_* undefined without communication,
/// b_hh undefined for LSTM units).
struct FusedRimWeights {
  torch::Tensor input_query;                     ///< [K, d_h, n*d_k]
  torch::Tensor w_ih, w_hh;                      ///< [K, n*d_v, G*d_h], [K, d_h, G*d_h]
  torch::Tensor b_ih, b_hh;                      ///< [K, 1, G*d_h]
  torch::Tensor comm_qkv;                        ///< [K, d_h, n_c*(2*d_kc + d_vc)]
  torch::Tensor comm_out_weight, comm_out_bias;  ///< [2*d_h, n_c*d_vc], [2*d_h]
};

struct FusedRimOutput {
  torch::Tensor outputs;  ///< [T, K, B, d_h]: every unit's h after each step
  torch::Tensor h, c;     ///< [K, B, d_h]: the state after the last step (c undefined for GRU)
  torch::Tensor mask;     ///< [T, B, K] float 0/1
  torch::Tensor input_attention;  ///< [T, B, K, M+1], head mean
  torch::Tensor comm_attention;   ///< [T, B, K, K], head mean; undefined without communication
};

/// True when FusedRimUnroll handles these tensors: float32, CPU, input attention on.
bool FusedRimSupported(const torch::Tensor& kv, const FusedRimWeights& w);

/// kv: [T, B, M, n*d_k + n*d_v], the input keys and values (they may carry autograd history);
/// h0, c0: [K, B, d_h] unit-major (c0 undefined for GRU units); keep: [T, B] float, 0 where the
/// state is reset before step t, or undefined. Differentiable in kv, h0, c0 and every weight;
/// equals RIMCellImpl's operator path to float rounding.
FusedRimOutput FusedRimUnroll(const FusedRimConfig& config, const torch::Tensor& kv,
                              const torch::Tensor& h0, const torch::Tensor& c0,
                              const torch::Tensor& keep, const FusedRimWeights& w);

}  // namespace rimlab::models
