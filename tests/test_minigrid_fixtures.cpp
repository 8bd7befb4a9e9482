// Reproduces MiniGrid's own observations, rewards and episode ends, step by step, for the
// hand-made maps in tests/fixtures/minigrid (copied from the project's shared fixtures; produced by
// Farama-Foundation/Minigrid, see the README there).
#include <catch2/catch.hpp>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "envs/grid/tasks/tasks.h"

using namespace rimlab;
using namespace rimlab::grid;
using nlohmann::json;

namespace {

json LoadFixture(const std::string& name) {
  const std::string path = "tests/fixtures/minigrid/" + name + ".json";
  std::ifstream in(path);
  REQUIRE(in.good());
  return json::parse(in);
}

// Compares our image with MiniGrid's view; returns a readable diff of the first mismatch.
std::string DiffView(const Observation& obs, const json& view) {
  const uint8_t* img = obs.Field<uint8_t>(kImageField);
  for (int r = 0; r < kViewSize; ++r) {
    for (int c = 0; c < kViewSize; ++c) {
      for (int k = 0; k < 3; ++k) {
        const int want =
            view[static_cast<size_t>(r)][static_cast<size_t>(c)][static_cast<size_t>(k)];
        const int got = img[(r * kViewSize + c) * 3 + k];
        if (want != got) {
          std::ostringstream os;
          os << "view row " << r << " col " << c << " channel " << k << ": MiniGrid " << want
             << ", ours " << got;
          return os.str();
        }
      }
    }
  }
  return "";
}

void CheckFixture(const std::string& name) {
  const json fx = LoadFixture(name);
  LevelOptions o;
  o.map = fx["map"].get<std::vector<std::string>>();
  o.see_through_walls = fx["see_through_walls"].get<bool>();
  o.max_steps = fx["max_steps"].get<int>();
  auto env = MakeLevel(o);
  Observation obs(env->Spec().observation);
  const auto& steps = fx["steps"];
  const auto& actions = fx["actions"];
  REQUIRE(steps.size() == actions.size() + 1);

  TimeStep ts = env->Reset(obs.Ref());
  CHECK(ts.first());
  INFO(name << " step 0\n" << env->Describe());
  CHECK(DiffView(obs, steps[0]["view"]) == "");
  CHECK(obs.Field<int32_t>(kDirectionField)[0] == steps[0]["direction"].get<int>());

  for (size_t t = 1; t < steps.size(); ++t) {
    const json& s = steps[t];
    Action a;
    a.index = actions[t - 1].get<int>();
    ts = env->Step(a, obs.Ref());
    INFO(name << " step " << t << " action " << ActionName(a.index) << "\n" << env->Describe());
    CHECK(DiffView(obs, s["view"]) == "");
    CHECK(obs.Field<int32_t>(kDirectionField)[0] == s["direction"].get<int>());
    CHECK(ts.reward == Approx(s["reward"].get<double>()).margin(1e-6));
    const bool terminated = s["terminated"].get<bool>();
    const bool truncated = s["truncated"].get<bool>();
    CHECK(ts.last() == (terminated || truncated));
    if (terminated) CHECK(ts.discount == 0.0f);
    if (truncated && !terminated) CHECK(ts.discount == 1.0f);
    if (ts.last()) REQUIRE(t + 1 == steps.size());
  }
}

}  // namespace

TEST_CASE("MiniGrid fixture: open room (pickup, drop, toggle, done)", "[fixtures]") {
  CheckFixture("open_room");
}

TEST_CASE("MiniGrid fixture: occlusion behind walls", "[fixtures]") {
  CheckFixture("occlusion");
}

TEST_CASE("MiniGrid fixture: see_through_walls", "[fixtures]") {
  CheckFixture("occlusion_see_through");
}

TEST_CASE("MiniGrid fixture: time limit truncates", "[fixtures]") {
  CheckFixture("time_limit");
}

TEST_CASE("MiniGrid fixture: walls and a door", "[fixtures]") {
  CheckFixture("wall_and_door");
}
