// The study's statistics against values computed by hand or taken from printed tables.
#include <catch2/catch.hpp>
#include <cmath>

#include "runners/study/statistics.h"

using namespace rimlab::study;

TEST_CASE("Student's t quantiles match the printed table", "[statistics]") {
  CHECK(StudentTQuantile(0.975, 1) == Approx(12.7062047).epsilon(1e-7));
  CHECK(StudentTQuantile(0.975, 2) == Approx(4.3026527).epsilon(1e-7));
  CHECK(StudentTQuantile(0.975, 4) == Approx(2.7764451).epsilon(1e-7));
  CHECK(StudentTQuantile(0.975, 30) == Approx(2.0422725).epsilon(1e-7));
  CHECK(StudentTQuantile(0.95, 9) == Approx(1.8331129).epsilon(1e-7));
  CHECK(StudentTQuantile(0.025, 4) == Approx(-2.7764451).epsilon(1e-7));
  CHECK(StudentTQuantile(0.975, 1e6) == Approx(1.959966).epsilon(1e-5));
  CHECK_THROWS(StudentTQuantile(1.0, 3));
  CHECK_THROWS(StudentTQuantile(0.9, 0.5));
}

TEST_CASE("the mean's interval is the t interval computed by hand", "[statistics]") {
  // 0.8, 0.9, 1.0: mean 0.9, sd 0.1, half-width t(0.975, 2) * 0.1 / sqrt(3).
  const MeanInterval m = MeanWithInterval({0.8, 0.9, 1.0});
  CHECK(m.n == 3);
  CHECK(m.mean == Approx(0.9));
  CHECK(m.sd == Approx(0.1));
  const double half = 4.3026527 * 0.1 / std::sqrt(3.0);
  CHECK(m.low == Approx(0.9 - half).epsilon(1e-6));
  CHECK(m.high == Approx(0.9 + half).epsilon(1e-6));
  CHECK(m.has_interval);
  const MeanInterval one = MeanWithInterval({0.5});
  CHECK_FALSE(one.has_interval);
  CHECK(one.low == 0.5);
  CHECK(std::isnan(MeanWithInterval({}).mean));
}

TEST_CASE("the bootstrap of a difference: fixed cases and a fixed seed", "[statistics]") {
  const Difference d = BootstrapDifference({1.0, 1.0}, {0.0}, 1000, 1);
  CHECK(d.estimate == 1.0);
  CHECK(d.low == 1.0);
  CHECK(d.high == 1.0);
  CHECK(d.excludes_zero());
  // Two values a side: the resampled means take values in {0, 0.5, 1} minus {0, 0.5, 1}; the
  // interval must stay inside [-1, 1] and contain the estimate.
  const Difference e = BootstrapDifference({0.0, 1.0}, {0.0, 1.0}, 20000, 7);
  CHECK(e.estimate == 0.0);
  CHECK(e.low == Approx(-1.0).margin(0.5));
  CHECK(e.high == Approx(1.0).margin(0.5));
  CHECK_FALSE(e.excludes_zero());
  const Difference again = BootstrapDifference({0.0, 1.0}, {0.0, 1.0}, 20000, 7);
  CHECK(again.low == e.low);
  CHECK(again.high == e.high);
  CHECK_THROWS(BootstrapDifference({}, {1.0}));
}

TEST_CASE("quantiles interpolate between order statistics as numpy does", "[statistics]") {
  const std::vector<double> v = {1, 2, 3, 4};
  CHECK(Quantile(v, 0.0) == 1.0);
  CHECK(Quantile(v, 1.0) == 4.0);
  CHECK(Quantile(v, 0.5) == 2.5);
  CHECK(Quantile(v, 0.25) == Approx(1.75));
}

TEST_CASE("binary mutual information: identical, independent and constant", "[statistics]") {
  CHECK(BinaryMutualInformation({0, 1, 0, 1}, {0, 1, 0, 1}) == Approx(std::log(2.0)));
  CHECK(BinaryMutualInformation({0, 0, 1, 1}, {0, 1, 0, 1}) == Approx(0.0).margin(1e-12));
  CHECK(BinaryMutualInformation({1, 1, 1, 1}, {0, 1, 0, 1}) == 0.0);
}
