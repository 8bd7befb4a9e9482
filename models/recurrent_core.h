#pragma once
/// The one interface every recurrent core (LSTM, GRU, RIM) implements, so that a policy names its
/// core in YAML and nothing else changes. Time-major throughout: Unroll takes [T, B, ...].
///
/// State is a flat list of batch-first tensors ([B, ...] each), so rollout storage and replay
/// buffers can save, index, concatenate and detach any core's state without knowing its type.

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace rimlab::models {

/// A core's recurrent state: every tensor has the batch in dim 0. LSTM: {h [B,H], c [B,H]};
/// GRU: {h [B,H]}; RIM: {h [B,K,d_h], c [B,K,d_h]} (no c for GRU units).
struct State {
  std::vector<torch::Tensor> tensors;

  int64_t batch_size() const { return tensors.empty() ? 0 : tensors.front().size(0); }
};

/// Rows `index` (int64 [N]) of every tensor: the state of a sub-batch.
State IndexState(const State& state, const torch::Tensor& index);
/// Concatenates states of sub-batches along the batch dim (inverse of IndexState on a partition).
State CatStates(const std::vector<State>& states);
/// Stacks per-step states into [N, B, ...] tensors (rollout storage); Select(s, i) undoes it.
State StackStates(const std::vector<State>& states);
/// Entry `i` of dim 0 of every tensor (one step of a stacked state).
State SelectState(const State& state, int64_t i);
/// Cuts the autograd history (truncated backpropagation through time).
State DetachState(const State& state);
/// Zeroes the samples flagged in `reset_mask` ([B], bool or float, nonzero = reset); the other
/// samples are returned bit for bit. An undefined mask returns the state unchanged.
State ResetState(const State& state, const torch::Tensor& reset_mask);

/// Per-step analysis record. LSTM and GRU leave every field undefined; the RIM cell fills all.
/// From Step the shapes are below; Unroll stacks them with a leading [T].
struct CoreInfo {
  torch::Tensor mask;             ///< [B, K] float 0/1: the units that updated at this step
  torch::Tensor input_attention;  ///< [B, K, M+1]: column 0 is the null element (head mean)
  torch::Tensor comm_attention;   ///< [B, K, K]: row = reading unit (head mean); undefined if off
};

struct StepOutput {
  torch::Tensor output;  ///< [B, output_size()]
  State state;
  CoreInfo info;
};

struct UnrollOutput {
  torch::Tensor outputs;  ///< [T, B, output_size()]
  State state;            ///< the state after the last step
  CoreInfo info;          ///< fields stacked over time: [T, B, ...]
};

/// Abstract recurrent core. Inputs are [B, d_in] vectors or [B, M, d_in] sets (LSTM and GRU
/// flatten a set, so they must be built with input size M * d_in).
class RecurrentCoreImpl : public torch::nn::Module {
 public:
  ~RecurrentCoreImpl() override = default;

  /// All-zero state (the paper's start, and what an episode reset returns to), in the dtype and
  /// device of the parameters.
  virtual State InitialState(int64_t batch) const = 0;

  /// One step. `reset_mask` [B] (bool or float, may be undefined): 1 where the episode ended
  /// before this step, so that sample's state is zeroed before the step.
  virtual StepOutput Step(const torch::Tensor& input, const State& state,
                          const torch::Tensor& reset_mask) = 0;

  /// T steps; inputs [T, B, ...], resets [T, B] (may be undefined). Equal to T calls of Step;
  /// cores override it to hoist work that does not depend on the state out of the loop.
  virtual UnrollOutput Unroll(const torch::Tensor& inputs, const State& state,
                              const torch::Tensor& resets);

  /// Width of the output vector (LSTM/GRU: hidden size; RIM: K * d_h).
  virtual int64_t output_size() const = 0;
  /// "lstm", "gru" or "rim".
  virtual std::string type() const = 0;

  /// Number of trainable scalars, for size-matched comparisons.
  int64_t NumParameters() const;
};
TORCH_MODULE(RecurrentCore);

namespace detail {
/// Flattens [B, M, d] to [B, M*d]; [B, d] passes through. Throws if the width is not `width`.
torch::Tensor FlattenInput(const torch::Tensor& input, int64_t width, const char* who);
/// 1 - reset as a [B, 1] factor in `like`'s dtype: multiplying by it zeroes exactly the flagged
/// samples and leaves the others bit for bit (x * 1 == x).
torch::Tensor KeepFactor(const torch::Tensor& reset_mask, const torch::Tensor& like);
/// Stacks per-step infos into [T, ...] fields (undefined stays undefined).
CoreInfo StackInfos(const std::vector<CoreInfo>& infos);
}  // namespace detail

}  // namespace rimlab::models
