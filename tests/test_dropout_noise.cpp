// The RIM's dropout masks (models/dropout_noise.h): inverted-dropout values only, the rate asked
// for, reproducible from torch's seed (or a DropoutSeedScope's), fresh at every draw, and
// identity when not training.
#include <torch/torch.h>
// LibTorch brings glog, whose CHECK would shadow Catch2's: Catch2 must own it here.
#undef CHECK
#include <catch2/catch.hpp>

#include <ATen/CPUGeneratorImpl.h>

#include <vector>

#include "models/dropout_noise.h"

using rimlab::models::Dropout;
using rimlab::models::DropoutNoise;

TEST_CASE("dropout noise is 0 or 1/(1-p), at rate p, seeded by torch's generator", "[dropout]") {
  const double p = GENERATE(0.1, 0.5, 0.9);
  INFO("p = " << p);
  torch::manual_seed(7);
  auto a = DropoutNoise({200, 501}, p);  // not a multiple of the 8 values drawn at a time
  const float kept = static_cast<float>(1.0 / (1.0 - p));
  CHECK((a.eq(0.0f) | a.eq(kept)).all().item<bool>());
  const double dropped = a.eq(0.0f).to(torch::kFloat64).mean().item<double>();
  // 100,200 Bernoulli draws: the standard error is at most 0.0016.
  CHECK(dropped == Approx(p).margin(0.008));
  // Neighbours (other generators, or the two halves of one draw) agree at the rate of chance.
  auto flat = a.flatten();
  const double same =
      flat.slice(0, 0, -1).eq(flat.slice(0, 1)).to(torch::kFloat64).mean().item<double>();
  CHECK(same == Approx(p * p + (1 - p) * (1 - p)).margin(0.01));
  torch::manual_seed(7);
  CHECK(DropoutNoise({200, 501}, p).equal(a));
  CHECK_FALSE(DropoutNoise({200, 501}, p).equal(a));  // the generator moved on
}

TEST_CASE("Dropout passes its input through when not training or at p = 0", "[dropout]") {
  auto x = torch::randn({4, 5});
  CHECK(Dropout(x, 0.5, false).equal(x));
  CHECK(Dropout(x, 0.0, true).equal(x));
  torch::manual_seed(1);
  auto y = Dropout(x, 0.5, true);
  CHECK((y.eq(0.0f) | (y - 2.0f * x).abs().lt(1e-6f)).all().item<bool>());
}

TEST_CASE("a dropout stream filled piece by piece writes what one fill writes", "[dropout]") {
  // The fused RIM fills each unit's rows of a strided buffer in turn; the operator cell fills one
  // tensor. Odd piece lengths split a 64-bit draw between two pieces.
  const std::vector<int64_t> pieces = {7, 1, 64, 3, 0, 250, 5};
  int64_t total = 0;
  for (const auto n : pieces) total += n;
  torch::manual_seed(3);
  const auto whole = DropoutNoise({total}, 0.3);
  torch::manual_seed(3);
  rimlab::models::DropoutStream stream(0.3);
  auto parts = torch::full({total}, -1.0f);
  int64_t at = 0;
  for (const auto n : pieces) {
    stream.Fill(parts.data_ptr<float>() + at, n);
    at += n;
  }
  CHECK(parts.equal(whole));
}

TEST_CASE("inside a DropoutSeedScope masks come from its seed, not torch's generator",
          "[dropout]") {
  using rimlab::models::DropoutSeedScope;
  auto gen = at::detail::getDefaultCPUGenerator();
  torch::manual_seed(5);
  const auto state = gen.get_state();
  torch::Tensor a, b, nested, after_nested;
  {
    DropoutSeedScope scope(42);
    a = DropoutNoise({64, 33}, 0.5);
    {
      DropoutSeedScope inner(7);
      nested = DropoutNoise({64, 33}, 0.5);
    }
    after_nested = DropoutNoise({64, 33}, 0.5);  // the outer sequence again, its second seed
  }
  CHECK(torch::equal(gen.get_state(), state));  // nothing drawn from torch's generator
  {
    DropoutSeedScope scope(42);
    b = DropoutNoise({64, 33}, 0.5);
    CHECK(torch::equal(DropoutNoise({64, 33}, 0.5), after_nested));
  }
  CHECK(a.equal(b));
  CHECK_FALSE(a.equal(nested));
  CHECK_FALSE(a.equal(after_nested));
  {
    DropoutSeedScope inner(7);
    CHECK(DropoutNoise({64, 33}, 0.5).equal(nested));
  }
  // Outside every scope, torch's generator again.
  torch::manual_seed(5);
  const auto from_torch = DropoutNoise({64, 33}, 0.5);
  CHECK_FALSE(torch::equal(gen.get_state(), state));
  torch::manual_seed(5);
  CHECK(DropoutNoise({64, 33}, 0.5).equal(from_torch));
}
