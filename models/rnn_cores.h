#pragma once
/// LSTM and GRU cores behind the RecurrentCore interface: the baselines the RIM cell is compared
/// with. Parameters carry torch::nn::LSTM/GRU names and layouts (weight_ih [G*H, in], weight_hh
/// [G*H, H], bias_ih, bias_hh; gate order i,f,g,o and r,z,n), so their weights can be copied to
/// and from the stock modules, and the tests check the outputs against them.

#include "models/recurrent_core.h"

namespace rimlab::models {

struct RNNCoreOptions {
  RNNCoreOptions(int64_t input_size, int64_t hidden_size)
      : input_size_(input_size), hidden_size_(hidden_size) {}
  /// Width of one input vector (M * d_in for a set input, which is flattened).
  TORCH_ARG(int64_t, input_size);
  TORCH_ARG(int64_t, hidden_size);
};

/// Shared body of LSTMCore and GRUCore: the input projection of a whole sequence is one matrix
/// product hoisted out of the time loop (as torch's own CPU LSTM does); only h @ W_hh remains per
/// step.
class GatedRNNCoreImpl : public RecurrentCoreImpl {
 public:
  GatedRNNCoreImpl(RNNCoreOptions options, int64_t gates, bool has_cell);

  State InitialState(int64_t batch) const override;
  StepOutput Step(const torch::Tensor& input, const State& state,
                  const torch::Tensor& reset_mask) override;
  UnrollOutput Unroll(const torch::Tensor& inputs, const State& state,
                      const torch::Tensor& resets) override;
  int64_t output_size() const override { return options.hidden_size(); }
  void reset_parameters();

  RNNCoreOptions options;
  torch::Tensor weight_ih, weight_hh, bias_ih, bias_hh;
  /// Float32 CPU steps and unrolls run as one fused autograd node (models/fused_rnn.h) unless
  /// this is false; both give the same numbers to float rounding.
  bool fused = true;

 protected:
  /// One cell update from the projected input `xg` ([B, G*H], biases included).
  virtual State Cell(const torch::Tensor& xg, const State& state) = 0;
  /// T cell updates from `xg` ([T, B, G*H]) as one fused node; keep: [T, B] factors or undefined.
  virtual UnrollOutput FusedUnroll(const torch::Tensor& xg, const State& state,
                                   const torch::Tensor& keep);

 private:
  bool UseFused(const torch::Tensor& xg) const;

  int64_t gates_;
  bool has_cell_;
};

class LSTMCoreImpl : public GatedRNNCoreImpl {
 public:
  explicit LSTMCoreImpl(RNNCoreOptions options) : GatedRNNCoreImpl(options, 4, true) {}
  std::string type() const override { return "lstm"; }

 protected:
  State Cell(const torch::Tensor& xg, const State& state) override;
  UnrollOutput FusedUnroll(const torch::Tensor& xg, const State& state,
                           const torch::Tensor& keep) override;
};
TORCH_MODULE(LSTMCore);

class GRUCoreImpl : public GatedRNNCoreImpl {
 public:
  explicit GRUCoreImpl(RNNCoreOptions options) : GatedRNNCoreImpl(options, 3, false) {}
  std::string type() const override { return "gru"; }

 protected:
  State Cell(const torch::Tensor& xg, const State& state) override;
  UnrollOutput FusedUnroll(const torch::Tensor& xg, const State& state,
                           const torch::Tensor& keep) override;
};
TORCH_MODULE(GRUCore);

/// Trainable parameters of an LSTM (gates = 4) or GRU (gates = 3) core, for matching sizes.
int64_t GatedRNNParameterCount(int64_t input_size, int64_t hidden_size, int64_t gates);

}  // namespace rimlab::models
