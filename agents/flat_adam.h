#pragma once
/// Adam over one flat buffer. torch::optim::Adam runs about ten operators per parameter tensor;
/// for the small policies here (twenty-odd tensors, 130k numbers) that dispatch cost, not the
/// arithmetic, was 0.5 ms of every minibatch. FlatAdam points every parameter, gradient and Adam
/// moment at a slice of one contiguous buffer each, so a step is five operators whatever the
/// parameter count, and the global gradient norm is one.
///
/// It is a torch::optim::Adam: same options, same per-parameter state, same checkpoint format
/// (checkpoints load into either). The arithmetic is Adam's, element for element. Anything that
/// replaces a parameter's or a moment's storage (loading a model or an optimiser checkpoint) is
/// noticed at the next step, which copies the values into fresh flat buffers. Options the flat
/// path does not implement (weight decay, AMSGrad, parameters without gradients) fall back to
/// torch's per-tensor step.

#include <torch/torch.h>

#include <vector>

namespace rimlab::agents {

/// Scales the gradients of `params` so that their global L2 norm is at most max_norm (<= 0: no
/// clipping); returns the norm before (0 without gradients). One operator per tensor.
double ClipGradNorm(const std::vector<torch::Tensor>& params, double max_norm);

/// Zeroes the gradients of `params` in place. Optimizer::zero_grad detaches each gradient first,
/// which FlatAdam's gradients, views of one flat buffer, refuse.
void ZeroGrads(const std::vector<torch::Tensor>& params);

class FlatAdam : public torch::optim::Adam {
 public:
  FlatAdam(const std::vector<torch::Tensor>& params, torch::optim::AdamOptions options);

  torch::Tensor step(LossClosure closure = nullptr) override;
  void save(torch::serialize::OutputArchive& archive) const override;

  /// Scales the gradients so that their global L2 norm is at most max_norm (<= 0: no clipping);
  /// returns the norm before. Works on any gradients; one operator when they are flat.
  double ClipGradNorm(double max_norm);

  /// True when parameters, gradients and moments all live in the flat buffers (for tests).
  bool flat() const;

 private:
  bool CanFlatten() const;
  void Flatten();
  std::vector<torch::Tensor> Params() const;

  torch::Tensor flat_param_, flat_grad_, flat_exp_avg_, flat_exp_avg_sq_;
};

}  // namespace rimlab::agents
