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

namespace rimlab::models {

/// One mask's worth of draws: constructing it takes one draw from torch's default generator;
/// Fill then writes successive mask values, 0 with probability p and 1 / (1 - p) otherwise (p is
/// rounded to a multiple of 2^-32). Filling n1 then n2 values writes exactly what one fill of
/// n1 + n2 would, so a mask can be written piecewise into a strided buffer.
///
/// The uniforms come from four xoshiro256** generators stepped side by side (seeded in turn from
/// the one draw through SplitMix64), eight 32-bit values per step: one generator's serial
/// dependency chain had made the masks a twentieth of the fused cell's time.
class DropoutStream {
 public:
  explicit DropoutStream(double p);
  void Fill(float* out, int64_t n);

 private:
  static constexpr int kLanes = 4;
  void Next8(uint32_t* out);  // low halves of the four generators, then their high halves

  uint64_t s_[4][kLanes];  // word w of generator l at s_[w][l]
  uint64_t threshold_;
  float scale_;
  uint32_t pending_[2 * kLanes];  // values drawn but not yet written
  int next_ = 2 * kLanes;         // the first unused value in pending_
};

/// While one lives, DropoutStreams constructed on this thread take their seeds from a SplitMix64
/// sequence started at `seed` instead of from torch's generator. Threads that split one
/// minibatch (agents/parallel_gradient.h) each get a seed drawn from torch's generator in a fixed
/// order before they start, so their masks do not depend on which thread draws first and runs
/// stay reproducible and resumable. Scopes nest; the innermost applies.
class DropoutSeedScope {
 public:
  explicit DropoutSeedScope(uint64_t seed);
  ~DropoutSeedScope();
  DropoutSeedScope(const DropoutSeedScope&) = delete;
  DropoutSeedScope& operator=(const DropoutSeedScope&) = delete;

 private:
  uint64_t state_;
  DropoutSeedScope* outer_;
  friend uint64_t NextDropoutSeed();
};

/// The next seed a DropoutStream takes: from this thread's innermost DropoutSeedScope, or one
/// draw from torch's default generator.
uint64_t NextDropoutSeed();

/// A float32 tensor of `shape` filled by one DropoutStream: multiplying by it is inverted dropout.
torch::Tensor DropoutNoise(at::IntArrayRef shape, double p);

/// x * DropoutNoise(x.sizes(), p) when training and p > 0, else x.
torch::Tensor Dropout(const torch::Tensor& x, double p, bool training);

}  // namespace rimlab::models
