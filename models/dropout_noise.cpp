#include "models/dropout_noise.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <mutex>

#include "common/rng.h"

namespace rimlab::models {

torch::Tensor DropoutNoise(at::IntArrayRef shape, double p) {
  uint64_t seed = 0;
  {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    seed = at::check_generator<at::CPUGeneratorImpl>(gen)->random64();
  }
  Rng rng(seed);
  auto noise = torch::empty(shape, torch::kFloat32);
  float* out = noise.data_ptr<float>();
  const int64_t n = noise.numel();
  // Element i is kept when its uniform 32-bit draw is at least p * 2^32.
  const auto threshold = static_cast<uint64_t>(std::llround(p * 4294967296.0));
  const float scale = static_cast<float>(1.0 / (1.0 - p));
  int64_t i = 0;
  for (; i + 1 < n; i += 2) {
    const uint64_t r = rng.Next();
    out[i] = (r & 0xffffffffULL) >= threshold ? scale : 0.0f;
    out[i + 1] = (r >> 32) >= threshold ? scale : 0.0f;
  }
  if (i < n) out[i] = (rng.Next() & 0xffffffffULL) >= threshold ? scale : 0.0f;
  return noise;
}

torch::Tensor Dropout(const torch::Tensor& x, double p, bool training) {
  if (!training || p <= 0.0) return x;
  return x * DropoutNoise(x.sizes(), p).to(x.scalar_type());
}

}  // namespace rimlab::models
