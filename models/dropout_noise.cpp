#include "models/dropout_noise.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <mutex>

namespace rimlab::models {

namespace {

uint64_t DrawSeed() {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return at::check_generator<at::CPUGeneratorImpl>(gen)->random64();
}

}  // namespace

DropoutStream::DropoutStream(double p)
    : rng_(DrawSeed()),
      // Element i is kept when its uniform 32-bit draw is at least p * 2^32.
      threshold_(static_cast<uint64_t>(std::llround(p * 4294967296.0))),
      scale_(static_cast<float>(1.0 / (1.0 - p))) {}

void DropoutStream::Fill(float* out, int64_t n) {
  int64_t i = 0;
  if (has_spare_ && n > 0) {
    out[i++] = spare_ >= threshold_ ? scale_ : 0.0f;
    has_spare_ = false;
  }
  for (; i + 1 < n; i += 2) {
    const uint64_t r = rng_.Next();
    out[i] = (r & 0xffffffffULL) >= threshold_ ? scale_ : 0.0f;
    out[i + 1] = (r >> 32) >= threshold_ ? scale_ : 0.0f;
  }
  if (i < n) {
    const uint64_t r = rng_.Next();
    out[i] = (r & 0xffffffffULL) >= threshold_ ? scale_ : 0.0f;
    spare_ = static_cast<uint32_t>(r >> 32);
    has_spare_ = true;
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
