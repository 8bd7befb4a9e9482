#pragma once
// Dropout masks for the RIM cell, drawn fast and the same way by its operator and fused paths.
//
// Why not torch::dropout: its bernoulli_ draws one 64-bit number from torch's Mersenne Twister
// per element, which was a fifth of the fused cell's forward time (the read of 6 units x 400
// values per sample and step). Here one draw from torch's generator seeds a xoshiro256** stream
// (common/rng.h) that gives two 32-bit uniforms per 64-bit output. Runs stay reproducible and
// resumable: the stream is a function of torch's generator state, which checkpoints save.

#include <torch/torch.h>

namespace rimlab::models {

/// A float32 tensor of `shape` whose elements are 0 with probability p and 1 / (1 - p)
/// otherwise (p is rounded to a multiple of 2^-32): multiplying by it is inverted dropout.
torch::Tensor DropoutNoise(at::IntArrayRef shape, double p);

/// x * DropoutNoise(x.sizes(), p) when training and p > 0, else x.
torch::Tensor Dropout(const torch::Tensor& x, double p, bool training);

}  // namespace rimlab::models
