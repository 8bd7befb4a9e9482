#pragma once
/// The statistics of a study: intervals of a mean over seeds and a bootstrap interval of the
/// difference between two variants. Few seeds is the normal case (3-10), so the mean's interval
/// uses Student's t, not the normal approximation, and the difference uses a percentile
/// bootstrap over seeds, which assumes nothing about the shape of the per-seed scores.

#include <cstdint>
#include <vector>

namespace rimlab::study {

/// The q-quantile of Student's t with `df` degrees of freedom (df >= 1, 0 < q < 1).
double StudentTQuantile(double q, double df);

/// The regularized incomplete beta function I_x(a, b), 0 <= x <= 1, a, b > 0.
double RegularizedIncompleteBeta(double x, double a, double b);

struct MeanInterval {
  int n = 0;
  double mean = 0.0;
  double sd = 0.0;   ///< sample standard deviation (n - 1 in the denominator); 0 for n < 2
  double low = 0.0;  ///< 95% t interval; equal to the mean for n < 2 (no interval)
  double high = 0.0;
  bool has_interval = false;
};

/// Mean and 95% t interval of `values` (empty: n = 0, mean NaN).
MeanInterval MeanWithInterval(const std::vector<double>& values);

struct Difference {
  double estimate = 0.0;  ///< mean(a) - mean(b)
  double low = 0.0;       ///< 95% percentile bootstrap interval
  double high = 0.0;
  int resamples = 0;
  bool excludes_zero() const { return low > 0.0 || high < 0.0; }
};

/// mean(a) - mean(b) with a percentile bootstrap: each resample draws len(a) values of a and
/// len(b) values of b with replacement; the interval is the 2.5th and 97.5th percentiles of the
/// resampled differences (linear interpolation between order statistics). Deterministic for a
/// seed. Throws std::invalid_argument when a or b is empty.
Difference BootstrapDifference(const std::vector<double>& a, const std::vector<double>& b,
                               int resamples = 10000, uint64_t seed = 12345);

/// The q-quantile of `sorted` (ascending, non-empty) by linear interpolation between order
/// statistics (numpy's default, "linear").
double Quantile(const std::vector<double>& sorted, double q);

/// Mutual information in nats between two binary sequences of equal length (x[i], y[i] in {0, 1}),
/// from their empirical joint distribution; 0 when either is constant.
double BinaryMutualInformation(const std::vector<uint8_t>& x, const std::vector<uint8_t>& y);

}  // namespace rimlab::study
