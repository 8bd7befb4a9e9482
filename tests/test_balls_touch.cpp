// balls_touch (envs/balls/touch.cpp): the rules as its header states them, checked from the
// observation alone: the border names a colour that exactly one ball wears, a scripted policy
// that steers by the pixels touches it and is paid MiniGrid's reward, steering into another ball
// fails, standing still times out, and the splits change what they say.
#include <catch2/catch.hpp>

#include <cmath>
#include <memory>
#include <set>
#include <string>
#include <tuple>

#include "common/rng.h"
#include "envs/registry.h"

using namespace rimlab;

namespace {

struct Rgb3 {
  uint8_t r, g, b;
  bool operator<(const Rgb3& o) const { return std::tie(r, g, b) < std::tie(o.r, o.g, o.b); }
  bool operator==(const Rgb3& o) const { return r == o.r && g == o.g && b == o.b; }
};

struct View {
  int size = 32, border = 2;
  const uint8_t* px = nullptr;
  Rgb3 at(int x, int y) const {
    const uint8_t* p = px + (static_cast<size_t>(y) * size + x) * 3;
    return {p[0], p[1], p[2]};
  }
  Rgb3 target() const { return at(0, 0); }
  /// Centroid of the inner pixels of colour c; false when there are none.
  bool Centroid(Rgb3 c, double* x, double* y) const {
    double sx = 0, sy = 0;
    int n = 0;
    for (int j = border; j < size - border; ++j) {
      for (int i = border; i < size - border; ++i) {
        if (at(i, j) == c) {
          sx += i;
          sy += j;
          ++n;
        }
      }
    }
    if (n == 0) return false;
    *x = sx / n;
    *y = sy / n;
    return true;
  }
  std::set<Rgb3> InnerColours() const {
    std::set<Rgb3> out;
    for (int j = border; j < size - border; ++j) {
      for (int i = border; i < size - border; ++i) out.insert(at(i, j));
    }
    return out;
  }
};

constexpr Rgb3 kWhite{255, 255, 255}, kBlack{0, 0, 0};

/// Pushes the agent toward the centroid of colour c (none when it cannot see both). Actions:
/// 1 up (towards row 0), 2 down, 3 left, 4 right.
int Steer(const View& v, Rgb3 c) {
  double ax, ay, tx, ty;
  if (!v.Centroid(kWhite, &ax, &ay) || !v.Centroid(c, &tx, &ty)) return 0;
  const double dx = tx - ax, dy = ty - ay;
  if (std::abs(dx) > std::abs(dy)) return dx > 0 ? 4 : 3;
  return dy > 0 ? 2 : 1;
}

struct Episode {
  bool success = false;
  float reward = 0, discount = 1;
  int steps = 0;
};

template <typename Policy>
Episode Play(Environment* env, Observation* obs, Policy policy) {
  env->Reset(obs->Ref());
  Episode e;
  for (;;) {
    View v;
    v.px = obs->Field<uint8_t>(0);
    const TimeStep ts = env->Step(Action{policy(v), nullptr}, obs->Ref());
    ++e.steps;
    if (ts.last()) {
      e.success = ts.success;
      e.reward = ts.reward;
      e.discount = ts.discount;
      return e;
    }
  }
}

std::unique_ptr<Environment> Make(const std::string& split) {
  Params p;
  p.Set("split", split);
  return MakeEnv("balls_touch", p);
}

}  // namespace

TEST_CASE("the border shows a colour that exactly one ball wears", "[balls_touch]") {
  for (const std::string split : {"train", "more", "novel"}) {
    auto env = Make(split);
    Observation obs(env->Spec().observation);
    env->Seed(5);
    for (int e = 0; e < 30; ++e) {
      env->Reset(obs.Ref());
      View v;
      v.px = obs.Field<uint8_t>(0);
      const Rgb3 target = v.target();
      // The whole border is the target's colour.
      for (int i = 0; i < 32; ++i) {
        REQUIRE(v.at(i, 0) == target);
        REQUIRE(v.at(0, i) == target);
        REQUIRE(v.at(31, i) == target);
        REQUIRE(v.at(i, 31) == target);
      }
      // One blob of the target's colour: balls start apart, so its pixels are one ball's
      // (about pi * 2.2^2 = 15 of them at 32 pixels).
      int count = 0;
      for (int j = 2; j < 30; ++j) {
        for (int i = 2; i < 30; ++i) count += v.at(i, j) == target ? 1 : 0;
      }
      CHECK(count >= 9);
      CHECK(count <= 24);
      const auto colours = v.InnerColours();
      CHECK(colours.count(kWhite) == 1);
      CHECK(colours.count(kBlack) == 1);
    }
  }
}

TEST_CASE("novel colours never appear in training, nor training colours in novel",
          "[balls_touch]") {
  std::set<Rgb3> train, novel;
  for (const auto& [split, out] : {std::pair<std::string, std::set<Rgb3>*>{"train", &train},
                                   std::pair<std::string, std::set<Rgb3>*>{"novel", &novel}}) {
    auto env = Make(split);
    Observation obs(env->Spec().observation);
    env->Seed(9);
    for (int e = 0; e < 40; ++e) {
      env->Reset(obs.Ref());
      View v;
      v.px = obs.Field<uint8_t>(0);
      for (const auto& c : v.InnerColours()) out->insert(c);
    }
  }
  train.erase(kWhite);
  train.erase(kBlack);
  novel.erase(kWhite);
  novel.erase(kBlack);
  CHECK(train.size() == 4);
  CHECK(novel.size() == 4);
  for (const auto& c : train) CHECK(novel.count(c) == 0);
}

TEST_CASE("steering by the pixels into the target succeeds with MiniGrid's reward",
          "[balls_touch]") {
  auto env = Make("train");
  Observation obs(env->Spec().observation);
  env->Seed(21);
  int successes = 0;
  const int episodes = 100;
  for (int e = 0; e < episodes; ++e) {
    const Episode ep = Play(env.get(), &obs, [](const View& v) { return Steer(v, v.target()); });
    if (ep.success) {
      ++successes;
      CHECK(ep.discount == 0.0f);
      CHECK(ep.reward == Approx(1.0f - 0.9f * static_cast<float>(ep.steps) / 100.0f));
    } else {
      CHECK(ep.reward == 0.0f);
    }
  }
  // A distractor sometimes crosses the path, and a random policy succeeds about 0.23 of the time.
  CHECK(successes >= 70);
}

TEST_CASE("steering into another ball fails; standing still runs out the clock", "[balls_touch]") {
  auto env = Make("train");
  Observation obs(env->Spec().observation);
  env->Seed(33);
  int failures = 0, timeouts = 0;
  for (int e = 0; e < 60; ++e) {
    // Towards a ball of any colour but the border's.
    const Episode ep = Play(env.get(), &obs, [](const View& v) {
      for (const auto& c : v.InnerColours()) {
        if (!(c == kWhite) && !(c == kBlack) && !(c == v.target())) return Steer(v, c);
      }
      return 0;
    });
    if (!ep.success && ep.discount == 0.0f) {
      ++failures;
      CHECK(ep.reward == 0.0f);
    }
  }
  CHECK(failures >= 40);
  for (int e = 0; e < 60; ++e) {
    // A ball may still run into the agent, which ends the episode like any touch.
    const Episode ep = Play(env.get(), &obs, [](const View&) { return 0; });
    CHECK(ep.steps <= 100);
    if (ep.discount == 1.0f) {  // truncated, not terminated
      ++timeouts;
      CHECK(ep.steps == 100);
      CHECK_FALSE(ep.success);
      CHECK(ep.reward == 0.0f);
    }
  }
  CHECK(timeouts >= 10);
}

TEST_CASE("the splits draw what they say", "[balls_touch]") {
  auto count_balls = [](const std::string& split) {
    auto env = Make(split);
    Observation obs(env->Spec().observation);
    env->Seed(2);
    env->Reset(obs.Ref());
    return env->Describe();
  };
  CHECK_THAT(count_balls("train"), Catch::Contains("among 3 balls"));
  CHECK_THAT(count_balls("more"), Catch::Contains("among 6 balls"));
  CHECK_THAT(count_balls("novel"), Catch::Contains("among 3 balls"));
  Params bad;
  bad.Set("size", int64_t{40});
  CHECK_THROWS_WITH(MakeEnv("balls_touch", bad), Catch::Contains("multiple of 16"));
  Params unknown;
  unknown.Set("colour", std::string("red"));
  CHECK_THROWS_WITH(MakeEnv("balls_touch", unknown), Catch::Contains("colour"));
}

namespace {

std::unique_ptr<Environment> MakeFeatures(const std::string& split) {
  Params p;
  p.Set("split", split);
  p.Set("features", true);
  return MakeEnv("balls_touch", p);
}

/// Where the frame draws a point given in features (box-centred, y up): its pixel column and row.
std::pair<double, double> FramePixel(double x, double y) {
  const double inner = 28.0;  // 32 - 2 * border
  return {2.0 + (x + 0.5) * inner, 2.0 + (0.5 - y) * inner};
}

}  // namespace

TEST_CASE("the feature observation says what the frame shows", "[balls_touch]") {
  for (const std::string split : {"train", "more", "novel"}) {
    auto frames = Make(split);
    auto features = MakeFeatures(split);
    const auto& fields = features->Spec().observation.fields;
    REQUIRE(fields.size() == 2);
    REQUIRE(fields[0].name == "context");
    REQUIRE(fields[0].shape == std::vector<int64_t>{8});
    REQUIRE(fields[1].name == "objects");
    REQUIRE(fields[1].shape == std::vector<int64_t>{12, 8});
    Observation fobs(frames->Spec().observation), xobs(features->Spec().observation);
    frames->Seed(13);
    features->Seed(13);
    Rng rng(4);
    int checked_slots = 0;
    for (int e = 0; e < 10; ++e) {
      frames->Reset(fobs.Ref());
      features->Reset(xobs.Ref());
      for (int t = 0; t < 30; ++t) {
        View v;
        v.px = fobs.Field<uint8_t>(0);
        const float* f = xobs.Field<float>(0);
        const float* objects = xobs.Field<float>(1);
        // The target's colour is the border's.
        const Rgb3 target = v.target();
        CHECK(std::lround(f[4] * 255) == target.r);
        CHECK(std::lround(f[5] * 255) == target.g);
        CHECK(std::lround(f[6] * 255) == target.b);
        CHECK(f[7] == Approx(t / 100.0));
        // The agent sits where the white blob is.
        double ax = 0, ay = 0;
        REQUIRE(v.Centroid(kWhite, &ax, &ay));
        const auto [px, py] = FramePixel(f[0], f[1]);
        CHECK(std::abs(ax - px) < 1.5);
        CHECK(std::abs(ay - py) < 1.5);
        // One present slot per ball, nearest first, each over a pixel of its colour; the rest 0.
        const int balls = split == "more" ? 6 : 3;
        double last = 0;
        for (int s = 0; s < 12; ++s) {
          const float* slot = objects + 8 * s;
          if (s >= balls) {
            for (int k = 0; k < 8; ++k) CHECK(slot[k] == 0.0f);
            continue;
          }
          CHECK(slot[0] == 1.0f);
          const double d = slot[1] * slot[1] + slot[2] * slot[2];
          CHECK(d >= last);
          last = d;
          const Rgb3 c{static_cast<uint8_t>(std::lround(slot[5] * 255)),
                       static_cast<uint8_t>(std::lround(slot[6] * 255)),
                       static_cast<uint8_t>(std::lround(slot[7] * 255))};
          const auto [bx, by] = FramePixel(f[0] + slot[1], f[1] + slot[2]);
          // The ball's centre pixel wears its colour unless the agent or a ball drawn later
          // covers it; balls do not overlap, so only the agent can.
          const int ix = static_cast<int>(bx), iy = static_cast<int>(by);
          if (v.at(ix, iy) == c) ++checked_slots;
          CHECK((v.at(ix, iy) == c || v.at(ix, iy) == kWhite));
        }
        const int action = static_cast<int>(rng.Below(5));
        const TimeStep a = frames->Step(Action{action, nullptr}, fobs.Ref());
        const TimeStep b = features->Step(Action{action, nullptr}, xobs.Ref());
        REQUIRE(a.reward == b.reward);
        REQUIRE(a.last() == b.last());
        if (a.last()) break;
      }
    }
    CHECK(checked_slots > 200);
  }
}

TEST_CASE("steering by the features into the target succeeds", "[balls_touch]") {
  auto env = MakeFeatures("train");
  Observation obs(env->Spec().observation);
  env->Seed(21);
  int successes = 0;
  for (int e = 0; e < 100; ++e) {
    env->Reset(obs.Ref());
    for (;;) {
      const float* f = obs.Field<float>(0);
      const float* objects = obs.Field<float>(1);
      int action = 0;
      for (int s = 0; s < 12; ++s) {
        const float* slot = objects + 8 * s;
        if (slot[0] == 1.0f && slot[5] == f[4] && slot[6] == f[5] && slot[7] == f[6]) {
          // y points up here: action 1 pushes up.
          action =
              std::abs(slot[1]) > std::abs(slot[2]) ? (slot[1] > 0 ? 4 : 3) : (slot[2] > 0 ? 1 : 2);
          break;
        }
      }
      const TimeStep ts = env->Step(Action{action, nullptr}, obs.Ref());
      if (ts.last()) {
        successes += ts.success ? 1 : 0;
        break;
      }
    }
  }
  CHECK(successes >= 70);
}

TEST_CASE("shaping adds the step's approach to the target, and nothing else", "[balls_touch]") {
  Params shaped_params;
  shaped_params.Set("features", true);
  shaped_params.Set("shaping", 2.0);
  auto shaped = MakeEnv("balls_touch", shaped_params);
  auto plain = MakeFeatures("train");
  Observation sobs(shaped->Spec().observation), pobs(plain->Spec().observation);
  shaped->Seed(8);
  plain->Seed(8);
  // The target's distance in box sides, read off the plain env's rows by its colour.
  auto distance = [&]() {
    const float* c = pobs.Field<float>(0);
    const float* rows = pobs.Field<float>(1);
    for (int s = 0; s < 12; ++s) {
      const float* r = rows + 8 * s;
      if (r[0] == 1.0f && r[5] == c[4] && r[6] == c[5] && r[7] == c[6]) {
        return std::sqrt(static_cast<double>(r[1]) * r[1] + static_cast<double>(r[2]) * r[2]);
      }
    }
    FAIL("no row wears the target's colour");
    return 0.0;
  };
  Rng rng(3);
  int steps = 0, moved = 0;
  for (int e = 0; e < 10; ++e) {
    shaped->Reset(sobs.Ref());
    plain->Reset(pobs.Ref());
    for (;;) {
      const double before = distance();
      const int action = static_cast<int>(rng.Below(5));
      const TimeStep a = shaped->Step(Action{action, nullptr}, sobs.Ref());
      const TimeStep b = plain->Step(Action{action, nullptr}, pobs.Ref());
      REQUIRE(a.last() == b.last());
      CHECK(a.success == b.success);
      CHECK(a.discount == b.discount);
      const double approach = before - distance();
      CHECK(a.reward - b.reward == Approx(2.0 * approach).margin(1e-5));
      ++steps;
      moved += std::abs(approach) > 1e-3 ? 1 : 0;
      if (a.last()) break;
    }
  }
  CHECK(moved > steps / 2);
}
