// The RIM's dropout masks (models/dropout_noise.h): inverted-dropout values only, the rate asked
// for, reproducible from torch's seed, fresh at every draw, and identity when not training.
#include <torch/torch.h>
// LibTorch brings glog, whose CHECK would shadow Catch2's: Catch2 must own it here.
#undef CHECK
#include <catch2/catch.hpp>

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
