// The unit analysis (runners/study/units.h) against hand-computed information and constructed
// sequences whose dependence is known: a copy, an independent sequence, and two independent
// slowly-changing sequences that a step-by-step shuffle would call dependent.
#include <catch2/catch.hpp>

#include <cmath>
#include <stdexcept>

#include "common/rng.h"
#include "runners/study/statistics.h"
#include "runners/study/units.h"

using namespace rimlab::study;

namespace {

// One unit and one feature given as sequences, split into episodes of `episode` steps.
UnitSteps OneByOne(const std::vector<uint8_t>& active, const std::vector<uint8_t>& feature,
                   int episode) {
  UnitSteps s;
  s.num_units = 1;
  s.features = {"f"};
  s.active = active;
  s.feature = feature;
  for (size_t t = 0; t < active.size(); t += static_cast<size_t>(episode)) {
    s.episode_lengths.push_back(
        static_cast<int>(std::min<size_t>(static_cast<size_t>(episode), active.size() - t)));
  }
  return s;
}

}  // namespace

TEST_CASE("mutual information from counts matches a hand value and the sequence version") {
  // 1 bit when the unit copies a fair feature.
  CHECK(MutualInformationBits({50, 0, 0, 50}) == Approx(1.0));
  CHECK(MutualInformationBits({25, 25, 25, 25}) == Approx(0.0).margin(1e-12));
  CHECK(MutualInformationBits({0, 0, 40, 60}) == 0.0);  // the unit is always active
  // counts {n00 = 3, n01 = 1, n10 = 1, n11 = 3}: p(a = f) = 3/4, so I = 1 - H(1/4) bits.
  const double h = -(0.25 * std::log2(0.25) + 0.75 * std::log2(0.75));
  CHECK(MutualInformationBits({3, 1, 1, 3}) == Approx(1.0 - h));
  const std::vector<uint8_t> x = {0, 0, 0, 1, 1, 1, 1, 0};
  const std::vector<uint8_t> y = {0, 0, 1, 1, 1, 1, 0, 0};
  Joint j;
  for (size_t i = 0; i < x.size(); ++i) {
    (x[i] ? (y[i] ? j.n11 : j.n10) : (y[i] ? j.n01 : j.n00)) += 1;
  }
  CHECK(MutualInformationBits(j) == Approx(BinaryMutualInformation(x, y) / std::log(2.0)));
}

TEST_CASE("a unit copying a feature is informative; an independent one is not") {
  rimlab::Rng rng(7);
  std::vector<uint8_t> f(3000);
  std::vector<uint8_t> noise(3000);
  for (auto& v : f) v = rng.Below(2);
  for (auto& v : noise) v = rng.Below(2);
  UnitSteps s;
  s.num_units = 2;
  s.features = {"f"};
  for (size_t t = 0; t < f.size(); ++t) {
    s.active.push_back(f[t]);
    s.active.push_back(noise[t]);
    s.feature.push_back(f[t]);
  }
  s.episode_lengths.assign(100, 30);
  const UnitAnalysis a = AnalyseUnits(s, 500);
  REQUIRE(a.shifts == 500);
  CHECK(a.At(0, 0).p_active_present() == 1.0);
  CHECK(a.At(0, 0).p_active_absent() == 0.0);
  CHECK(a.At(0, 0).mi_bits == Approx(1.0).epsilon(0.01));
  CHECK(a.At(0, 0).informative());
  CHECK_FALSE(a.At(1, 0).informative());
  CHECK(a.At(1, 0).mi_bits < 0.01);
  CHECK(a.activity[0] == Approx(a.feature_steps[0] / 3000.0));
}

TEST_CASE(
    "the shifted baseline keeps autocorrelation: independent slow sequences are not "
    "informative") {
  // Each sequence holds a value for 40 steps: their aligned information is large by chance
  // alone, and only a baseline with the same slowness recognises that.
  int informative = 0;
  for (uint64_t trial = 0; trial < 20; ++trial) {
    rimlab::Rng rng(100 + trial);
    std::vector<uint8_t> a;
    std::vector<uint8_t> b;
    for (int block = 0; block < 50; ++block) {
      const uint8_t va = rng.Below(2);
      const uint8_t vb = rng.Below(2);
      for (int k = 0; k < 40; ++k) {
        a.push_back(va);
        b.push_back(vb);
      }
    }
    informative += AnalyseUnits(OneByOne(a, b, 40), 200, trial).At(0, 0).informative();
  }
  // p < 1/201 per trial under independence: 20 trials should mark none, allowing one.
  CHECK(informative <= 1);
}

TEST_CASE("the baseline needs more steps than two episodes") {
  const UnitAnalysis a = AnalyseUnits(OneByOne({1, 0, 1, 0}, {1, 0, 1, 0}, 4), 100);
  CHECK(a.shifts == 0);
  CHECK_FALSE(a.At(0, 0).informative());
  CHECK(a.At(0, 0).mi_bits == Approx(1.0));
}

TEST_CASE("inconsistent sizes are refused") {
  UnitSteps s = OneByOne({1, 0, 1}, {1, 0, 1}, 3);
  s.feature.pop_back();
  CHECK_THROWS_AS(AnalyseUnits(s), std::invalid_argument);
  s = OneByOne({1, 0, 1}, {1, 0, 1}, 3);
  s.episode_lengths = {2};
  CHECK_THROWS_AS(AnalyseUnits(s), std::invalid_argument);
}

TEST_CASE("units.json round-trips and a broken one names the file and field") {
  rimlab::Rng rng(3);
  std::vector<uint8_t> f(400);
  for (auto& v : f) v = rng.Below(2);
  UnitAnalysis a = AnalyseUnits(OneByOne(f, f, 20), 50);
  a.cell = "rim-s1";
  a.split = "train";
  const UnitAnalysis b = ParseUnitAnalysis(UnitAnalysisJson(a), "u.json");
  CHECK(b.cell == "rim-s1");
  CHECK(b.split == "train");
  CHECK(b.steps == 400);
  CHECK(b.At(0, 0).joint.n11 == a.At(0, 0).joint.n11);
  CHECK(b.At(0, 0).baseline_max == a.At(0, 0).baseline_max);
  CHECK(b.At(0, 0).informative() == a.At(0, 0).informative());
  CHECK(UnitAnalysisJson(b) == UnitAnalysisJson(a));
  std::string text = UnitAnalysisJson(a);
  text.replace(text.find("\"counts\""), 8, "\"kounts\"");
  try {
    ParseUnitAnalysis(text, "cells/x/units.json");
    FAIL("expected an error");
  } catch (const std::invalid_argument& e) {
    CHECK_THAT(e.what(), Catch::Contains("cells/x/units.json: pairs"));
    CHECK_THAT(e.what(), Catch::Contains("counts"));
  }
}

TEST_CASE("the report's section marks informative pairs and counts runs per feature") {
  rimlab::Rng rng(5);
  std::vector<uint8_t> f(600);
  for (auto& v : f) v = rng.Below(2);
  UnitAnalysis a = AnalyseUnits(OneByOne(f, f, 20), 100);
  a.cell = "rim-s1";
  a.split = "train";
  const std::string md = UnitsMarkdown({a}, "units.png");
  CHECK_THAT(md, Catch::Contains("**1.00 / 0.00**"));
  CHECK_THAT(md,
             Catch::Contains("![P(active | present) - P(active | absent) per unit](units.png)"));
  CHECK_THAT(UnitsConsole({a}), Catch::Contains("1 unit(s) in 1 of 1 runs"));
}

TEST_CASE("features that move every unit alike correlate +-1 across units") {
  // Two units, one active with the feature f and one against it, over random f; g copies f and h
  // is its negation, so every unit's difference for g equals that for f and for h is its negative.
  rimlab::Rng rng(11);
  UnitSteps s;
  s.num_units = 3;
  s.features = {"f", "g", "h"};
  for (int t = 0; t < 600; ++t) {
    const uint8_t f = rng.Below(2);
    const uint8_t noise = rng.Below(4) == 0;
    s.active.push_back(f ^ noise);
    s.active.push_back(!f);
    s.active.push_back(rng.Below(2));
    s.feature.push_back(f);
    s.feature.push_back(f);
    s.feature.push_back(!f);
  }
  s.episode_lengths.assign(20, 30);
  const auto r = DifferenceCorrelation({AnalyseUnits(s, 10)});
  REQUIRE(r.size() == 3);
  CHECK(r[0][0] == Approx(1.0));
  CHECK(r[0][1] == Approx(1.0));
  CHECK(r[0][2] == Approx(-1.0));
  const std::string md = UnitsMarkdown({AnalyseUnits(s, 10)}, "");
  CHECK_THAT(md, Catch::Contains("Across all 3 units"));
  CHECK_THAT(md, Catch::Contains("| f | 1.00 | 1.00 | -1.00 |"));
}
