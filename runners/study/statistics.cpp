#include "runners/study/statistics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "common/rng.h"

namespace rimlab::study {

namespace {

// The continued fraction of I_x(a, b), evaluated by the modified Lentz method; it converges
// fast for x < (a + 1) / (a + b + 2), and the caller uses the symmetry I_x(a,b) = 1 - I_{1-x}(b,a)
// for the other side.
double BetaContinuedFraction(double x, double a, double b) {
  constexpr double kTiny = 1e-300;
  constexpr double kEps = 1e-15;
  double c = 1.0;
  double d = 1.0 - (a + b) * x / (a + 1.0);
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1.0 / d;
  double f = d;
  for (int m = 1; m <= 10000; ++m) {
    const double m2 = 2.0 * m;
    // Even step.
    double num = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
    d = 1.0 + num * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1.0 + num / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    f *= d * c;
    // Odd step.
    num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
    d = 1.0 + num * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1.0 + num / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    const double delta = d * c;
    f *= delta;
    if (std::fabs(delta - 1.0) < kEps) break;
  }
  return f;
}

// P(T <= t) for Student's t with df degrees of freedom.
double StudentTCdf(double t, double df) {
  const double tail = 0.5 * RegularizedIncompleteBeta(df / (df + t * t), 0.5 * df, 0.5);
  return t >= 0.0 ? 1.0 - tail : tail;
}

}  // namespace

double RegularizedIncompleteBeta(double x, double a, double b) {
  if (!(a > 0.0) || !(b > 0.0) || !(x >= 0.0) || !(x <= 1.0)) {
    throw std::invalid_argument("RegularizedIncompleteBeta: needs 0 <= x <= 1 and a, b > 0");
  }
  if (x == 0.0 || x == 1.0) return x;
  const double log_front =
      std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
  const double front = std::exp(log_front);
  if (x < (a + 1.0) / (a + b + 2.0)) return front * BetaContinuedFraction(x, a, b) / a;
  return 1.0 - front * BetaContinuedFraction(1.0 - x, b, a) / b;
}

double StudentTQuantile(double q, double df) {
  if (!(q > 0.0 && q < 1.0) || !(df >= 1.0)) {
    throw std::invalid_argument("StudentTQuantile: needs 0 < q < 1 and df >= 1");
  }
  if (q == 0.5) return 0.0;
  if (q < 0.5) return -StudentTQuantile(1.0 - q, df);
  // The CDF is monotone: bracket, then bisect to double precision (a few dozen CDF calls; the
  // study asks for a handful of quantiles).
  double lo = 0.0;
  double hi = 1.0;
  while (StudentTCdf(hi, df) < q) hi *= 2.0;
  for (int i = 0; i < 200 && hi - lo > 1e-13 * hi; ++i) {
    const double mid = 0.5 * (lo + hi);
    (StudentTCdf(mid, df) < q ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

MeanInterval MeanWithInterval(const std::vector<double>& values) {
  MeanInterval r;
  r.n = static_cast<int>(values.size());
  if (values.empty()) {
    r.mean = r.low = r.high = std::numeric_limits<double>::quiet_NaN();
    return r;
  }
  double sum = 0.0;
  for (double v : values) sum += v;
  r.mean = sum / r.n;
  r.low = r.high = r.mean;
  if (r.n < 2) return r;
  double ss = 0.0;
  for (double v : values) ss += (v - r.mean) * (v - r.mean);
  r.sd = std::sqrt(ss / (r.n - 1));
  const double half = StudentTQuantile(0.975, r.n - 1) * r.sd / std::sqrt(r.n);
  r.low = r.mean - half;
  r.high = r.mean + half;
  r.has_interval = true;
  return r;
}

double Quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) throw std::invalid_argument("Quantile: no values");
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const auto i = static_cast<size_t>(std::floor(pos));
  if (i + 1 >= sorted.size()) return sorted.back();
  const double frac = pos - static_cast<double>(i);
  return sorted[i] + frac * (sorted[i + 1] - sorted[i]);
}

Difference BootstrapDifference(const std::vector<double>& a, const std::vector<double>& b,
                               int resamples, uint64_t seed) {
  if (a.empty() || b.empty()) {
    throw std::invalid_argument("BootstrapDifference: both groups need at least one value");
  }
  if (resamples < 1) throw std::invalid_argument("BootstrapDifference: resamples must be >= 1");
  auto mean = [](const std::vector<double>& v) {
    double s = 0.0;
    for (double x : v) s += x;
    return s / static_cast<double>(v.size());
  };
  Difference d;
  d.estimate = mean(a) - mean(b);
  d.resamples = resamples;
  Rng rng(seed);
  std::vector<double> diffs(static_cast<size_t>(resamples));
  for (double& out : diffs) {
    double sa = 0.0;
    for (size_t i = 0; i < a.size(); ++i) sa += a[rng.Below(static_cast<uint32_t>(a.size()))];
    double sb = 0.0;
    for (size_t i = 0; i < b.size(); ++i) sb += b[rng.Below(static_cast<uint32_t>(b.size()))];
    out = sa / static_cast<double>(a.size()) - sb / static_cast<double>(b.size());
  }
  std::sort(diffs.begin(), diffs.end());
  d.low = Quantile(diffs, 0.025);
  d.high = Quantile(diffs, 0.975);
  return d;
}

double BinaryMutualInformation(const std::vector<uint8_t>& x, const std::vector<uint8_t>& y) {
  if (x.size() != y.size()) {
    throw std::invalid_argument("BinaryMutualInformation: sequences of different lengths");
  }
  if (x.empty()) return 0.0;
  double joint[2][2] = {{0, 0}, {0, 0}};
  for (size_t i = 0; i < x.size(); ++i) joint[x[i] != 0][y[i] != 0] += 1.0;
  const double n = static_cast<double>(x.size());
  double mi = 0.0;
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 2; ++j) {
      if (joint[i][j] == 0.0) continue;
      const double pxy = joint[i][j] / n;
      const double px = (joint[i][0] + joint[i][1]) / n;
      const double py = (joint[0][j] + joint[1][j]) / n;
      mi += pxy * std::log(pxy / (px * py));
    }
  }
  return std::max(0.0, mi);
}

}  // namespace rimlab::study
