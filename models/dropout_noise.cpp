#include "models/dropout_noise.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <cstring>
#include <mutex>

#include "common/rng.h"
#include "models/vector_clones.h"

namespace rimlab::models {

namespace {

thread_local DropoutSeedScope* current_scope = nullptr;

}  // namespace

DropoutSeedScope::DropoutSeedScope(uint64_t seed) : state_(seed), outer_(current_scope) {
  current_scope = this;
}

DropoutSeedScope::~DropoutSeedScope() {
  current_scope = outer_;
}

uint64_t NextDropoutSeed() {
  if (current_scope != nullptr) return SplitMix64(&current_scope->state_);
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return at::check_generator<at::CPUGeneratorImpl>(gen)->random64();
}

DropoutStream::DropoutStream(double p)
    // Element i is kept when its uniform 32-bit draw is at least p * 2^32.
    : threshold_(static_cast<uint64_t>(std::llround(p * 4294967296.0))),
      scale_(static_cast<float>(1.0 / (1.0 - p))) {
  uint64_t sm = NextDropoutSeed();
  for (int l = 0; l < kLanes; ++l) {
    for (auto& word : s_) word[l] = SplitMix64(&sm);
  }
}

namespace {

typedef uint64_t Words __attribute__((vector_size(32)));   // one word of each generator
typedef uint32_t Halves __attribute__((vector_size(16)));  // 32 bits of each generator's output
typedef uint32_t Draws __attribute__((vector_size(32)));
typedef int32_t Bits __attribute__((vector_size(32)));

}  // namespace

RIMLAB_VECTOR_CLONES
void DropoutStream::Next8(uint32_t* out) {
  // xoshiro256** (common/rng.h) on the four generators at once.
  Words s0, s1, s2, s3;
  std::memcpy(&s0, s_[0], sizeof s0);
  std::memcpy(&s1, s_[1], sizeof s1);
  std::memcpy(&s2, s_[2], sizeof s2);
  std::memcpy(&s3, s_[3], sizeof s3);
  const Words x = s1 * 5;
  const Words result = ((x << 7) | (x >> 57)) * 9;
  const Words t = s1 << 17;
  s2 ^= s0;
  s3 ^= s1;
  s1 ^= s2;
  s0 ^= s3;
  s2 ^= t;
  s3 = (s3 << 45) | (s3 >> 19);
  std::memcpy(s_[0], &s0, sizeof s0);
  std::memcpy(s_[1], &s1, sizeof s1);
  std::memcpy(s_[2], &s2, sizeof s2);
  std::memcpy(s_[3], &s3, sizeof s3);
  const Halves low = __builtin_convertvector(result, Halves);
  const Halves high = __builtin_convertvector(result >> 32, Halves);
  std::memcpy(out, &low, sizeof low);
  std::memcpy(out + kLanes, &high, sizeof high);
}

RIMLAB_VECTOR_CLONES
void DropoutStream::Fill(float* out, int64_t n) {
  int64_t i = 0;
  for (; i < n && next_ < 2 * kLanes; ++i) {
    out[i] = pending_[next_++] >= threshold_ ? scale_ : 0.0f;
  }
  // Eight at a time: a lane keeps scale's bits where its draw is at least the threshold (which
  // fits 32 bits unless p rounds to 1, where every value is dropped).
  const bool keep_some = threshold_ <= 0xffffffffULL;
  const auto threshold32 = static_cast<uint32_t>(keep_some ? threshold_ : 0);
  uint32_t scale_bits = 0;
  std::memcpy(&scale_bits, &scale_, sizeof scale_bits);
  const Bits kept = Bits{} + static_cast<int32_t>(keep_some ? scale_bits : 0);
  for (; i + 2 * kLanes <= n; i += 2 * kLanes) {
    uint32_t r[2 * kLanes];
    Next8(r);
    Draws d;
    std::memcpy(&d, r, sizeof d);
    const Bits values = (d >= threshold32) & kept;
    std::memcpy(out + i, &values, sizeof values);
  }
  if (i < n) {
    Next8(pending_);
    next_ = 0;
    for (; i < n; ++i) out[i] = pending_[next_++] >= threshold_ ? scale_ : 0.0f;
  }
}

torch::Tensor DropoutNoise(at::IntArrayRef shape, double p) {
  DropoutStream stream(p);
  auto noise = torch::empty(shape, torch::kFloat32);
  stream.Fill(noise.data_ptr<float>(), noise.numel());
  return noise;
}

torch::Tensor Dropout(const torch::Tensor& x, double p, bool training) {
  if (!training || p <= 0.0) return x;
  return x * DropoutNoise(x.sizes(), p).to(x.scalar_type());
}

}  // namespace rimlab::models
