#pragma once
// T steps of the LSTM cell (PyTorch's gate order i, f, g, o) with episode resets, forward and
// backward, as one autograd node; and the same for the GRU cell.
//
// Why: rl-starter-files' policy has a 64-wide LSTM unrolled over 4 steps, so each step is a handful
// of tiny tensors. Written with tensor operators, a step was about 20 operators forward (resets
// included) and 30 backward, each costing more in dispatch, autograd bookkeeping and allocation
// than in arithmetic. Here a step is one matrix product plus one loop over the B x H cells, each
// way; the weight gradient is one matrix product over all steps.

#include <torch/torch.h>

namespace rimlab::models {

struct FusedRnnOutput {
  torch::Tensor outputs;  ///< [T, B, H]: h after each step
  torch::Tensor h, c;     ///< [B, H]: the state after the last step
};

/// True when FusedLstmUnroll handles these tensors (float32 on the CPU); otherwise use operators.
bool FusedRnnSupported(const torch::Tensor& xg, const torch::Tensor& weight_hh);

/// xg: [T, B, 4H], the input projections with bias_ih (they may carry autograd history);
/// h0, c0: [B, H]; weight_hh: [4H, H]; bias_hh: [4H]; keep: [T, B] float32, 0 where the state is
/// reset before step t and 1 elsewhere, or undefined for no resets. Differentiable in xg, h0, c0,
/// weight_hh and bias_hh; equals the operator-by-operator cell to float rounding.
FusedRnnOutput FusedLstmUnroll(const torch::Tensor& xg, const torch::Tensor& h0,
                               const torch::Tensor& c0, const torch::Tensor& weight_hh,
                               const torch::Tensor& bias_hh, const torch::Tensor& keep);

/// The same for a GRU (PyTorch's gate order r, z, n; n = tanh(x_n + r * (W_hn h + b_hn))):
/// xg [T, B, 3H] with bias_ih, h0 [B, H], weight_hh [3H, H], bias_hh [3H]. Returns outputs and h
/// (c undefined).
FusedRnnOutput FusedGruUnroll(const torch::Tensor& xg, const torch::Tensor& h0,
                              const torch::Tensor& weight_hh, const torch::Tensor& bias_hh,
                              const torch::Tensor& keep);

}  // namespace rimlab::models
