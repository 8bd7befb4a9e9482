#pragma once
/// The Recurrent Independent Mechanisms cell (Goyal et al., ICLR 2021) as fixed by
/// ../shared/RIM_SPEC.md: K units with their own LSTM (or GRU) weights compete through input
/// attention for a set of M input elements plus a null element; the k_A units that attend least
/// to the null element update, the others keep their state bit for bit; the updated units then
/// read from all units through multi-head communication attention.
///
/// Every per-unit weight is one [K, in, out] tensor applied with a batched matrix product, so no
/// step loops over units. Internally the state is held unit-major ([K, B, d_h]) so that those
/// products need no transposes; the public State is batch-first like every other core's.

#include <string>

#include "models/recurrent_core.h"

namespace rimlab::models {

struct RIMCellOptions {
  explicit RIMCellOptions(int64_t input_size = 0) : input_size_(input_size) {}
  /// Per-head input value size with the default resolved.
  int64_t resolved_input_value_size() const {
    return input_value_size_ > 0 ? input_value_size_ : 4 * unit_size_;
  }
  /// d_in, the width of one input element (a [B, d_in] input is a set of M = 1).
  TORCH_ARG(int64_t, input_size);
  /// K, the number of units (the paper's k_T).
  TORCH_ARG(int64_t, num_units) = 6;
  /// k_A, how many units update per step (1..K).
  TORCH_ARG(int64_t, top_k) = 4;
  /// d_h, the hidden size of one unit; the output is K * d_h wide.
  TORCH_ARG(int64_t, unit_size) = 100;
  /// "lstm" (state h, c) or "gru" (state h).
  TORCH_ARG(std::string, unit_cell) = "lstm";
  /// Input attention: key size and heads; value size per head (0 = 4 * d_h, the authors' code).
  TORCH_ARG(int64_t, input_key_size) = 64;
  TORCH_ARG(int64_t, input_value_size) = 0;
  TORCH_ARG(int64_t, input_heads) = 1;
  /// Communication attention: key and value size per head, and heads (paper's table: 32, 32, 4).
  TORCH_ARG(int64_t, comm_key_size) = 32;
  TORCH_ARG(int64_t, comm_value_size) = 32;
  TORCH_ARG(int64_t, comm_heads) = 4;
  /// Dropout on each unit's read input, and on the tanh branch of the communication output.
  TORCH_ARG(double, input_dropout) = 0.1;
  TORCH_ARG(double, comm_dropout) = 0.1;
  /// Ablation switch. Off: every unit reads the mean of the value projections of the M elements
  /// (no attention, no null element) and k_A units are drawn uniformly at random per sample and
  /// step, since no attention score is left to rank them by.
  TORCH_ARG(bool, input_attention) = true;
  /// Ablation switch. Off: no communication step.
  TORCH_ARG(bool, communication) = true;
  /// Initialisation. "uniform": every weight uniform in +-1/sqrt(fan-in) (the unit cells as
  /// torch's LSTMCell/GRUCell, +-1/sqrt(d_h)). "authors": as the authors' released code, the
  /// attention's query, key and value weights 0.01 * N(0, 1) and the unit cells +-1/sqrt(K * d_h)
  /// (one torch LSTMCell of the whole hidden size there); the communication output as torch's
  /// Linear in both. docs/cores.md compares the two.
  TORCH_ARG(std::string, init) = "uniform";
  /// Float32 CPU steps and unrolls run as one autograd node with a hand-written backward
  /// (models/fused_rim.h) unless this is off; the operator path stays for other types, for the
  /// ablation without input attention, and as the tested reference.
  TORCH_ARG(bool, fused) = true;
};

class RIMCellImpl : public RecurrentCoreImpl {
 public:
  explicit RIMCellImpl(RIMCellOptions options);

  State InitialState(int64_t batch) const override;
  /// input [B, d_in] or [B, M, d_in].
  StepOutput Step(const torch::Tensor& input, const State& state,
                  const torch::Tensor& reset_mask) override;
  /// inputs [T, B, d_in] or [T, B, M, d_in]; the input keys and values of all T steps are one
  /// matrix product before the loop.
  UnrollOutput Unroll(const torch::Tensor& inputs, const State& state,
                      const torch::Tensor& resets) override;
  int64_t output_size() const override { return options.num_units() * options.unit_size(); }
  std::string type() const override { return "rim"; }
  void reset_parameters();

  RIMCellOptions options;
  /// Shared input key|value projection [d_in, n_in*(d_k + d_v)], no bias (the null element's key
  /// and value stay exactly zero).
  torch::Tensor input_kv;
  /// Per-unit input queries [K, d_h, n_in*d_k].
  torch::Tensor input_query;
  /// Per-unit dynamics: [K, n_in*d_v, G*d_h], [K, d_h, G*d_h], biases [K, 1, G*d_h] (G = 4 for
  /// LSTM units, gate order i,f,g,o; 3 for GRU units, r,z,n). LSTM units use one bias (torch's
  /// b_ih + b_hh are redundant); GRU units need both because b_hn sits inside r * (.).
  torch::Tensor unit_w_ih, unit_w_hh, unit_b_ih, unit_b_hh;
  /// Per-unit communication query|key|value [K, d_h, n_c*(2*d_kc + d_vc)].
  torch::Tensor comm_qkv;
  /// Shared output projection of the concatenated heads to [gate | tanh branch], 2*d_h wide.
  torch::nn::Linear comm_out{nullptr};

 private:
  struct Projected {
    torch::Tensor keys;    // [..., B, n_in, M, d_k]; undefined without input attention
    torch::Tensor values;  // [..., B, n_in, M, d_v]; [..., B, M, n_in*d_v] without it
  };
  struct Inner {
    torch::Tensor h, c;  // [K, B, d_h]
    CoreInfo info;
  };
  Projected Project(const torch::Tensor& x) const;
  torch::Tensor AsSet(const torch::Tensor& input, int64_t batch_dims) const;
  /// One step on unit-major state; `keep` [B, 1] or undefined applies the reset first.
  Inner StepUnitMajor(const torch::Tensor& keys, const torch::Tensor& values, torch::Tensor h,
                      torch::Tensor c, const torch::Tensor& keep);
  torch::Tensor Select(const torch::Tensor& null_attention) const;
  /// True when x (float32, on the CPU) takes the fused path.
  bool UseFused(const torch::Tensor& x) const;
  /// The fused unroll of x [T, B, M, d_in] from batch-first state; keep [T, B] or undefined.
  UnrollOutput FusedUnroll(const torch::Tensor& x, const State& state, const torch::Tensor& keep);
  int64_t value_width() const {
    return options.input_heads() * options.resolved_input_value_size();
  }
  int64_t gates() const { return options.unit_cell() == "lstm" ? 4 : 3; }
  bool lstm_units() const { return options.unit_cell() == "lstm"; }
};
TORCH_MODULE(RIMCell);

/// Trainable parameters of a RIM cell with these options (matches NumParameters()).
int64_t RIMParameterCount(const RIMCellOptions& options);

}  // namespace rimlab::models
