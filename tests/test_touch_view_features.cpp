// balls_touch's view features (envs/balls/touch_view_features.h) on hand-made observations, and
// on the env's own: a ball the env reports touched was close on the step before.
#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <vector>

#include "envs/balls/touch_view_features.h"
#include "envs/registry.h"

using namespace rimlab;

namespace {

struct Obs {
  std::array<float, 8> context{};
  std::array<float, 96> objects{};
  void Target(float r, float g, float b) {
    context[4] = r;
    context[5] = g;
    context[6] = b;
  }
  void Row(int s, float dx, float dy, float r, float g, float b) {
    float* row = objects.data() + 8 * s;
    row[0] = 1;
    row[1] = dx;
    row[2] = dy;
    row[5] = r;
    row[6] = g;
    row[7] = b;
  }
  std::vector<int> Features() const {
    std::array<uint8_t, 5> out{};
    balls::TouchViewFeatures(context.data(), objects.data(), out.data());
    return {out.begin(), out.end()};
  }
};

}  // namespace

TEST_CASE("touch view features on hand-made observations", "[balls_touch]") {
  CHECK(balls::TouchViewFeatureNames().size() == 5);
  Obs o;
  o.Target(0.9f, 0.1f, 0.1f);
  o.Row(0, 0.15f, 0.0f, 0.9f, 0.1f, 0.1f);  // the target, 0.15 away: nearest and close
  o.Row(1, 0.0f, 0.3f, 0.1f, 0.8f, 0.2f);   // a distractor 0.3 away: not close
  CHECK(o.Features() == std::vector<int>{1, 1, 0, 0, 0});
  o.Row(1, 0.0f, -0.19f, 0.1f, 0.8f, 0.2f);  // now 0.19 away
  CHECK(o.Features() == std::vector<int>{1, 1, 1, 0, 0});
  // A distractor nearest, the target far; an absent row with the target's colour counts for
  // nothing.
  Obs p;
  p.Target(0.2f, 0.3f, 0.9f);
  p.Row(0, 0.1f, 0.1f, 0.9f, 0.8f, 0.1f);
  p.Row(1, 0.5f, 0.5f, 0.2f, 0.3f, 0.9f);
  p.objects[8 * 2 + 5] = 0.2f;
  p.objects[8 * 2 + 6] = 0.3f;
  p.objects[8 * 2 + 7] = 0.9f;
  CHECK(p.Features() == std::vector<int>{0, 0, 1, 0, 0});
  // Speed 0.6 (of 3 units/s) is fast, 0.4 is not; a centred position beyond 0.4 is near a wall.
  p.context[2] = 0.36f;
  p.context[3] = 0.48f;
  p.context[1] = -0.45f;
  CHECK(p.Features() == std::vector<int>{0, 0, 1, 1, 1});
  p.context[2] = 0.24f;
  p.context[3] = 0.32f;
  p.context[1] = 0.35f;
  CHECK(p.Features() == std::vector<int>{0, 0, 1, 0, 0});
}

TEST_CASE("a ball the agent touches was close the step before", "[balls_touch]") {
  Params params;
  params.Set("features", true);
  auto env = MakeEnv("balls_touch", params);
  Observation obs(env->Spec().observation);
  env->Seed(3);
  int touches = 0, target_touches = 0;
  for (int e = 0; e < 200; ++e) {
    TimeStep ts = env->Reset(obs.Ref());
    std::array<uint8_t, 5> before{};
    while (!ts.last()) {
      balls::TouchViewFeatures(obs.Field<float>(0), obs.Field<float>(1), before.data());
      // Straight at the nearest ball, whatever its colour.
      const float* row = obs.Field<float>(1);
      const int action =
          std::abs(row[1]) > std::abs(row[2]) ? (row[1] > 0 ? 4 : 3) : (row[2] > 0 ? 1 : 2);
      ts = env->Step(Action{action, nullptr}, obs.Ref());
    }
    if (ts.discount == 0.0f) {
      ++touches;
      CHECK((before[1] == 1 || before[2] == 1));
      if (ts.success) {
        ++target_touches;
        CHECK(before[1] == 1);
      }
    }
  }
  CHECK(touches > 150);
  CHECK(target_touches > 30);
}
