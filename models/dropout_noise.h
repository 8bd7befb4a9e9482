#pragma once
// Dropout masks for the RIM cell, drawn fast and the same way by its operator and fused paths.
//
// Why not torch::dropout: its bernoulli_ draws one 64-bit number from torch's Mersenne Twister
// per element, which was a fifth of the fused cell's forward time (the read of 6 units x 400
// values per sample and step). Here one draw from torch's generator seeds a xoshiro256** stream
// (common/rng.h) that gives two 32-bit uniforms per 64-bit output. Runs stay reproducible and
// resumable: the stream is a function of torch's generator state, which checkpoints save.

#include <torch/torch.h>

#include <cstdint>

#include "common/rng.h"

namespace rimlab::models {

/// One mask's worth of draws: constructing it takes one draw from torch's default generator;
/// Fill then writes successive mask values, 0 with probability p and 1 / (1 - p) otherwise (p is
/// rounded to a multiple of 2^-32). Filling n1 then n2 values writes exactly what one fill of
/// n1 + n2 would, so a mask can be written piecewise into a strided buffer.
class DropoutStream {
 public:
  explicit DropoutStream(double p);
  void Fill(float* out, int64_t n);

 private:
  Rng rng_;
  uint64_t threshold_;
  float scale_;
  bool has_spare_ = false;  // the upper half of the last 64-bit draw is still unused
  uint32_t spare_ = 0;
};

/// A float32 tensor of `shape` filled by one DropoutStream: multiplying by it is inverted dropout.
torch::Tensor DropoutNoise(at::IntArrayRef shape, double p);

/// x * DropoutNoise(x.sizes(), p) when training and p > 0, else x.
torch::Tensor Dropout(const torch::Tensor& x, double p, bool training);

}  // namespace rimlab::models
