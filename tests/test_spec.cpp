// The core env API: specs, observations, the portable RNG and typed options.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>

#include "common/params.h"
#include "common/rng.h"
#include "envs/core/spec.h"
#include "envs/core/timestep.h"

using namespace rimlab;

TEST_CASE("ArraySpec validates shapes and bounds", "[spec]") {
  ArraySpec ok{"image", {7, 7, 3}, DType::kUInt8, 0, 10};
  REQUIRE_NOTHROW(ok.Validate());
  CHECK(ok.NumElements() == 147);
  CHECK(ok.NumBytes() == 147);
  ArraySpec zero = ok;
  zero.shape = {7, 0, 3};
  CHECK_THROWS_WITH(zero.Validate(), Catch::Contains("image"));
  ArraySpec inverted = ok;
  inverted.minimum = 5;
  inverted.maximum = 1;
  CHECK_THROWS(inverted.Validate());
  ArraySpec unnamed = ok;
  unnamed.name.clear();
  CHECK_THROWS(unnamed.Validate());
}

TEST_CASE("ArraySpec::Contains checks every element, NaN included", "[spec]") {
  ArraySpec f{"x", {3}, DType::kFloat32, -1, 1};
  float in[3] = {-1.0f, 0.0f, 1.0f};
  float out[3] = {0.0f, 1.5f, 0.0f};
  float nan[3] = {0.0f, std::nanf(""), 0.0f};
  CHECK(f.Contains(in));
  CHECK_FALSE(f.Contains(out));
  CHECK_FALSE(f.Contains(nan));
  ArraySpec i{"d", {2}, DType::kInt32, 0, 3};
  int32_t a[2] = {0, 3};
  int32_t b[2] = {0, 4};
  CHECK(i.Contains(a));
  CHECK_FALSE(i.Contains(b));
}

TEST_CASE("ObservationSpec finds fields and rejects duplicates", "[spec]") {
  ObservationSpec s;
  s.fields.push_back({"image", {7, 7, 3}, DType::kUInt8, 0, 10});
  s.fields.push_back({"direction", {1}, DType::kInt32, 0, 3});
  REQUIRE_NOTHROW(s.Validate());
  CHECK(s.IndexOf("direction") == 1);
  CHECK(s.IndexOf("nope") == -1);
  CHECK(s.NumBytes() == 151);
  CHECK_THROWS_WITH(s.Field("nope"), Catch::Contains("nope"));
  s.fields.push_back({"image", {1}, DType::kUInt8, 0, 1});
  CHECK_THROWS_WITH(s.Validate(), Catch::Contains("twice"));
}

TEST_CASE("ActionSpec validation", "[spec]") {
  CHECK_NOTHROW(ActionSpec::Discrete(7).Validate());
  CHECK_THROWS(ActionSpec::Discrete(0).Validate());
  CHECK_THROWS(ActionSpec::Discrete(2, {"a"}).Validate());
  CHECK_NOTHROW(ActionSpec::Continuous(2, -1, 1).Validate());
  CHECK_THROWS(ActionSpec::Continuous(2, 1, 1).Validate());
}

TEST_CASE("Observation owns aligned storage and copies deeply", "[spec]") {
  ObservationSpec s;
  s.fields.push_back({"image", {5}, DType::kUInt8, 0, 255});
  s.fields.push_back({"v", {2}, DType::kFloat32, -1, 1});
  Observation a(s);
  REQUIRE(a.num_fields() == 2);
  a.Ref().Field<uint8_t>(0)[4] = 9;
  a.Ref().Field<float>(1)[1] = 0.5f;
  Observation b = a;
  CHECK(a == b);
  b.Ref().Field<uint8_t>(0)[4] = 1;
  CHECK(a != b);
  CHECK(a.Field<uint8_t>(0)[4] == 9);
  CHECK(reinterpret_cast<uintptr_t>(a.data(1)) % alignof(float) == 0);
  Observation c = std::move(b);
  CHECK(c.Field<uint8_t>(0)[4] == 1);
  CHECK(c.Ref().fields[0] == c.data(0));
}

TEST_CASE("TimeStep distinguishes termination from truncation", "[spec]") {
  TimeStep t{StepType::kLast, 1.0f, 0.0f, true};
  CHECK(t.terminated());
  CHECK_FALSE(t.truncated());
  t.discount = 1.0f;
  CHECK(t.truncated());
  TimeStep mid{StepType::kMid, 0.0f, 1.0f, false};
  CHECK_FALSE(mid.terminated());
  CHECK_FALSE(mid.truncated());
}

TEST_CASE("Rng streams are fixed by the seed and portable", "[rng]") {
  Rng a(42), b(42), c(43);
  for (int i = 0; i < 100; ++i) REQUIRE(a.Next() == b.Next());
  CHECK(a.Next() != c.Next());
  // Pin the stream so that a change of generator shows up as a failing test, not as silently
  // different trajectories for every saved seed.
  Rng pinned(0);
  CHECK(pinned.Next() == 0x99EC5F36CB75F2B4ull);
}

TEST_CASE("Rng::Below is unbiased and in range", "[rng]") {
  Rng r(7);
  int counts[6] = {0, 0, 0, 0, 0, 0};
  const int n = 60000;
  for (int i = 0; i < n; ++i) {
    const uint32_t v = r.Below(6);
    REQUIRE(v < 6);
    ++counts[v];
  }
  for (int c : counts) CHECK(std::abs(c - n / 6) < 500);  // ~5 sigma
  for (int i = 0; i < 1000; ++i) {
    const int v = r.UniformInt(-3, 4);
    REQUIRE(v >= -3);
    REQUIRE(v < 4);
    const double u = r.Uniform();
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
  }
}

TEST_CASE("ParamReader reads typed values and rejects bad ones", "[params]") {
  Params p;
  p.Set("size", int64_t{8}, "a.yaml:3");
  p.Set("rate", 0.5, "a.yaml:4");
  p.Set("flag", true);
  p.Set("name", std::string("train"));
  p.Set("list", std::vector<std::string>{"a", "b"});
  ParamReader r(p, "env 'pickup'");
  CHECK(r.Int("size", 5, 3, 32) == 8);
  CHECK(r.Float("rate", 0.0, 0.0, 1.0) == 0.5);
  CHECK(r.Bool("flag", false));
  CHECK(r.Choice("name", "x", {"train", "novel"}) == "train");
  CHECK(r.StringList("list", {}).size() == 2);
  CHECK(r.Int("absent", 11, 0, 20) == 11);
  CHECK_NOTHROW(r.Finish());
}

TEST_CASE("ParamReader errors name where, key and expectation", "[params]") {
  Params p;
  p.Set("size", int64_t{99}, "a.yaml:3");
  p.Set("rate", std::string("fast"), "a.yaml:4");
  p.Set("count", 2.5, "a.yaml:5");
  p.Set("typo", int64_t{1}, "a.yaml:6");
  ParamReader r(p, "env 'pickup'");
  CHECK_THROWS_WITH(r.Int("size", 5, 3, 32),
                    Catch::Contains("a.yaml:3") && Catch::Contains("'size'") &&
                        Catch::Contains("[3, 32]") && Catch::Contains("99"));
  CHECK_THROWS_WITH(r.Float("rate", 0, 0, 1),
                    Catch::Contains("a.yaml:4") && Catch::Contains("expected a number"));
  CHECK_THROWS_WITH(r.Int("count", 1, 0, 9), Catch::Contains("expected an integer"));
  CHECK_THROWS_WITH(r.Choice("rate", "a", {"a", "b"}), Catch::Contains("one of a, b"));
  try {
    r.Finish();
    FAIL("Finish accepted an unknown key");
  } catch (const OptionError& e) {
    CHECK(e.key() == "typo");
    CHECK(e.where() == "a.yaml:6");
    CHECK(std::string(e.what()).find("known: count, rate, size") != std::string::npos);
  }
}
