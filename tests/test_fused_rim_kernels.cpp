// The fused RIM's own pointwise functions (models/fused_rim_kernels.h) against libm in double
// precision: the logistic function and tanh over the whole float range a cell meets, both tails,
// values near zero where tanh's small-argument branch takes over, and lengths that leave a
// partial vector at the end (which must be written and nothing past it). The column sums of a
// bias gradient against a plain loop.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "models/fused_rim_kernels.h"

using rimlab::models::fused_rim::SigmoidInPlace;
using rimlab::models::fused_rim::TanhInPlace;

namespace {

std::vector<float> Inputs() {
  std::vector<float> x;
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> wide(-30.0f, 30.0f), narrow(-1.0f, 1.0f);
  for (int i = 0; i < 4000; ++i) x.push_back(wide(rng));
  for (int i = 0; i < 4000; ++i) x.push_back(narrow(rng));
  // Branch edges and tails: tanh's 0.625, exp's clamp at -87, saturation, tiny and zero.
  for (float v : {0.0f,
                  -0.0f,
                  1e-30f,
                  -1e-30f,
                  1e-7f,
                  0.6249999f,
                  0.625f,
                  0.6250001f,
                  -0.625f,
                  9.0f,
                  -9.0f,
                  20.0f,
                  43.0f,
                  44.0f,
                  87.0f,
                  88.0f,
                  100.0f,
                  -87.0f,
                  -88.0f,
                  -100.0f,
                  std::numeric_limits<float>::max(),
                  -std::numeric_limits<float>::max()}) {
    x.push_back(v);
  }
  return x;
}

/// Largest error relative to |reference| (absolute below `floor`).
template <class Fn, class Ref>
double MaxError(Fn fn, Ref ref, double floor) {
  const auto x = Inputs();
  double worst = 0.0;
  // Each length from 1 to 17 at the start (partial vectors), then the whole set at once.
  for (size_t n = 1; n <= 17; ++n) {
    std::vector<float> y(x.begin(), x.begin() + static_cast<long>(n));
    y.push_back(12345.0f);  // a sentinel past the end
    fn(y.data(), static_cast<int64_t>(n));
    REQUIRE(y[n] == 12345.0f);
    for (size_t i = 0; i < n; ++i) {
      const double r = ref(static_cast<double>(x[i]));
      worst = std::max(worst, std::fabs(y[i] - r) / std::max(std::fabs(r), floor));
    }
  }
  std::vector<float> y = x;
  fn(y.data(), static_cast<int64_t>(y.size()));
  for (size_t i = 0; i < x.size(); ++i) {
    INFO("x = " << x[i] << " got " << y[i]);
    REQUIRE(std::isfinite(y[i]));
    const double r = ref(static_cast<double>(x[i]));
    const double err = std::fabs(y[i] - r) / std::max(std::fabs(r), floor);
    REQUIRE(err < 1e-5);  // a gross failure names its input here; the bound is checked below
    worst = std::max(worst, err);
  }
  return worst;
}

}  // namespace

TEST_CASE("SigmoidInPlace equals 1 / (1 + exp(-x)) to a few ulp", "[fused_rim]") {
  // Below about -87 the true value is under float's normal range; there an absolute 1e-37.
  const double err = MaxError(
      SigmoidInPlace, [](double v) { return 1.0 / (1.0 + std::exp(-v)); }, 1e-30);
  CHECK(err < 5e-7);
}

TEST_CASE("TanhInPlace equals tanh to a few ulp, also near zero", "[fused_rim]") {
  const double err = MaxError(
      TanhInPlace, [](double v) { return std::tanh(v); }, 1e-38);
  CHECK(err < 5e-7);
}

TEST_CASE("ColumnSums equals a plain sum per column, zeros for no rows", "[fused_rim]") {
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (int64_t rows : {0, 1, 7, 128, 2048}) {
    for (int64_t cols : {1, 15, 64, 65, 130}) {
      INFO("rows " << rows << " cols " << cols);
      std::vector<float> x(static_cast<size_t>(rows * cols));
      for (auto& v : x) v = u(rng);
      std::vector<float> out(static_cast<size_t>(cols) + 1, 7.0f);  // a sentinel past the end
      rimlab::models::fused_rim::ColumnSums(x.data(), rows, cols, out.data());
      REQUIRE(out[static_cast<size_t>(cols)] == 7.0f);
      for (int64_t j = 0; j < cols; ++j) {
        double s = 0.0;
        for (int64_t r = 0; r < rows; ++r) s += x[static_cast<size_t>(r * cols + j)];
        REQUIRE(std::fabs(out[static_cast<size_t>(j)] - s) <= 1e-6 * (1.0 + std::fabs(s)));
      }
    }
  }
}
