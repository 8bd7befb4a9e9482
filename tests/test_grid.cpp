// Gridworld logic: view rotation and occlusion, walls, pick-up and drop, doors, boxes, the carried
// object in the view, the time limit, and the pickup (Fetch) rules.
#include <catch2/catch.hpp>

#include "envs/grid/ascii_map.h"
#include "envs/grid/tasks/tasks.h"

using namespace rimlab;
using namespace rimlab::grid;

namespace {

struct Run {
  std::unique_ptr<GridEnv> env;
  Observation obs;
  TimeStep ts;

  explicit Run(std::unique_ptr<GridEnv> e) : env(std::move(e)), obs(env->Spec().observation) {
    ts = env->Reset(obs.Ref());
  }
  TimeStep Do(int32_t action) {
    Action a;
    a.index = action;
    ts = env->Step(a, obs.Ref());
    return ts;
  }
  // The view cell at row r, column c (agent at row 6, column 3).
  Cell View(int r, int c) const {
    const uint8_t* p = obs.Field<uint8_t>(kImageField) + (r * kViewSize + c) * 3;
    return Cell::Make(static_cast<Obj>(p[0]), static_cast<Color>(p[1]), p[2]);
  }
};

Run Level(std::vector<std::string> map, bool see_through = false, int max_steps = 100) {
  LevelOptions o;
  o.map = std::move(map);
  o.see_through_walls = see_through;
  o.max_steps = max_steps;
  return Run(MakeLevel(o));
}

}  // namespace

TEST_CASE("The view rotates with the agent", "[grid]") {
  // A red ball to the agent's east. Facing east it is straight ahead; after turning it is to the
  // side the turn predicts.
  auto run = Level(
      {
          "WEWEWEWEWEWEWEWE",
          "WE            WE",
          "WE            WE",
          "WE  >>    ARKBWE",
          "WE            WE",
          "WE            WE",
          "WEWEWEWEWEWEWEWE",
      },
      true);
  CHECK(run.View(3, 3) == Cell::Make(Obj::kBall, Color::kRed));  // 3 ahead
  CHECK(run.View(2, 3) == Cell::Make(Obj::kKey, Color::kBlue));  // 4 ahead
  run.Do(kLeft);                                                 // now facing north
  CHECK(run.obs.Field<int32_t>(kDirectionField)[0] == 3);
  CHECK(run.View(6, 6) == Cell::Make(Obj::kBall, Color::kRed));  // 3 to the right, level
  run.Do(kRight);
  run.Do(kRight);  // facing south: the ball is 3 to the left
  CHECK(run.View(6, 0) == Cell::Make(Obj::kBall, Color::kRed));
  // Outside the grid reads as wall.
  CHECK(run.View(0, 0).type == Obj::kWall);
}

TEST_CASE("Walls occlude unless see_through_walls", "[grid]") {
  const std::vector<std::string> map = {
      "WEWEWEWEWEWEWEWE",  //
      "WE            WE",  //
      "WE    AR      WE",  //
      "WEWEWEWEWEWEWEWE",  //
      "WE    ^^      WE",  //
      "WE            WE",  //
      "WEWEWEWEWEWEWEWE",  //
  };
  auto occluded = Level(map, false);
  auto clear = Level(map, true);
  // The ball is two rows up, behind a wall that spans the room. (MiniGrid's occlusion leaks
  // diagonally around short walls, so a short wall would not hide it.)
  CHECK(occluded.View(5, 3).type == Obj::kWall);
  CHECK(occluded.View(4, 3).type == Obj::kUnseen);
  CHECK(clear.View(4, 3) == Cell::Make(Obj::kBall, Color::kRed));
}

TEST_CASE("Forward stops at walls and objects, passes open doors", "[grid]") {
  auto run = Level({
      "WEWEWEWEWEWE",
      "WE  >>KRDBWE",
      "WE        WE",
      "WEWEWEWEWEWE",
  });
  run.Do(kForward);
  CHECK(run.env->agent_x() == 2);  // the key blocks
  run.Do(kPickup);
  CHECK(run.env->carrying() == Cell::Make(Obj::kKey, Color::kRed));
  CHECK(run.View(6, 3) == Cell::Make(Obj::kKey, Color::kRed));  // carried object drawn in view
  run.Do(kForward);
  CHECK(run.env->agent_x() == 3);
  run.Do(kForward);  // closed door blocks
  CHECK(run.env->agent_x() == 3);
  CHECK(run.View(5, 3) == Cell::Make(Obj::kDoor, Color::kBlue, kDoorClosed));
  run.Do(kToggle);
  CHECK(run.View(5, 3) == Cell::Make(Obj::kDoor, Color::kBlue, kDoorOpen));
  run.Do(kForward);
  CHECK(run.env->agent_x() == 4);  // on the open door
  run.Do(kForward);                // wall
  CHECK(run.env->agent_x() == 4);
}

TEST_CASE("Locked doors open only with a key of their colour", "[grid]") {
  auto run = Level({
      "WEWEWEWEWEWE",
      "WE  KGLB  WE",
      "WE  ^^KB  WE",
      "WEWEWEWEWEWE",
  });
  run.Do(kPickup);  // green key
  run.Do(kRight);   // face east: the blue key; turn back north-east impossible, use the door row
  run.Do(kLeft);
  run.Do(kLeft);
  run.Do(kDrop);  // drop the green key to the west
  CHECK(run.env->grid().at(1, 2) == Cell::Make(Obj::kKey, Color::kGreen));
  run.Do(kRight);
  run.Do(kRight);  // east: blue key
  run.Do(kPickup);
  CHECK(run.env->carrying().color == Color::kBlue);
  // Walk under the door: move east then face north.
  run.Do(kForward);
  run.Do(kLeft);
  CHECK(run.env->agent_x() == 3);
  CHECK(run.View(5, 3).state == kDoorLocked);
  run.Do(kToggle);
  CHECK(run.View(5, 3).state == kDoorOpen);
}

TEST_CASE("A wrong key leaves a locked door locked; toggling a box reveals its contents",
          "[grid]") {
  auto run = Level({
      "WEWEWEWEWE",
      "WE  LB  WE",
      "WE  ^^  WE",
      "WE  KR  WE",
      "WEWEWEWEWE",
  });
  run.Do(kRight);
  run.Do(kRight);
  run.Do(kPickup);  // red key
  run.Do(kLeft);
  run.Do(kLeft);
  run.Do(kToggle);
  CHECK(run.env->grid().at(2, 1).state == kDoorLocked);
  // An empty box vanishes when toggled, as MiniGrid replaces it by its (absent) contents.
  auto box = Level({
      "WEWEWEWE",
      "WE  BPWE",
      "WE  ^^WE",
      "WEWEWEWE",
  });
  box.Do(kToggle);
  CHECK(box.env->grid().at(2, 1).empty());
}

TEST_CASE("Drop needs an empty cell ahead", "[grid]") {
  auto run = Level({
      "WEWEWEWEWE",
      "WEAYKB  WE",
      "WE^^    WE",
      "WEWEWEWEWE",
  });
  run.Do(kPickup);
  run.Do(kRight);
  run.Do(kLeft);
  // Ahead is now the empty cell where the ball was.
  run.Do(kDrop);
  CHECK(run.env->grid().at(1, 1) == Cell::Make(Obj::kBall, Color::kYellow));
  CHECK_FALSE(run.env->carrying_anything());
  run.Do(kPickup);
  run.Do(kLeft);  // west: wall
  run.Do(kDrop);
  CHECK(run.env->carrying_anything());
}

TEST_CASE("Goals give MiniGrid's reward and terminate; lava terminates with 0", "[grid]") {
  auto goal = Level({"WEWEWEWEWE", "WE>>  GGWE", "WEWEWEWEWE"}, false, 40);
  CHECK(goal.Do(kForward).mid());
  const TimeStep end = goal.Do(kForward);
  CHECK(end.last());
  CHECK(end.discount == 0.0f);
  CHECK(end.success);
  CHECK(end.reward == Approx(1.0 - 0.9 * 2 / 40));
  CHECK_THROWS_AS(goal.Do(kLeft), std::logic_error);  // no step after LAST without Reset

  auto lava = Level({"WEWEWEWEWE", "WE>>VR  WE", "WEWEWEWEWE"});
  const TimeStep burn = lava.Do(kForward);
  CHECK(burn.last());
  CHECK(burn.discount == 0.0f);
  CHECK(burn.reward == 0.0f);
  CHECK_FALSE(burn.success);
}

TEST_CASE("The time limit truncates with discount 1", "[grid]") {
  auto run = Level({"WEWEWEWEWE", "WE>>    WE", "WEWEWEWEWE"}, false, 3);
  CHECK(run.Do(kLeft).mid());
  CHECK(run.Do(kLeft).mid());
  const TimeStep t = run.Do(kLeft);
  CHECK(t.last());
  CHECK(t.truncated());
  CHECK(t.discount == 1.0f);
  CHECK(run.env->step_count() == 3);
}

TEST_CASE("Out-of-range actions are rejected", "[grid]") {
  auto run = Level({"WEWEWEWEWE", "WE>>    WE", "WEWEWEWEWE"});
  CHECK_THROWS_WITH(run.Do(7), Catch::Contains("action 7"));
  CHECK_THROWS_AS(run.Do(-1), std::invalid_argument);
}

TEST_CASE("pickup: the target ends the episode with reward, anything else with 0", "[grid]") {
  PickupOptions o;
  o.map = {
      "WEWEWEWEWEWE",  //
      "WE  KRABKBWE",  //
      "WE  ^^>>  WE",  //
      "WEWEWEWEWEWE",  //
  };
  // Two agents are invalid; use one and check the parse error names it.
  CHECK_THROWS_WITH(MakePickup(o), Catch::Contains("second agent"));
  o.map[2] = "WE  ^^    WE";
  o.target = "blue ball";
  o.max_steps = 10;
  Run right(MakePickup(o));
  CHECK(right.env->MissionText() == "get blue ball");
  right.Do(kRight);
  right.Do(kForward);
  right.Do(kLeft);
  const TimeStep win = right.Do(kPickup);
  CHECK(win.last());
  CHECK(win.success);
  CHECK(win.discount == 0.0f);
  CHECK(win.reward == Approx(1.0 - 0.9 * 4 / 10));

  Run wrong(MakePickup(o));
  const TimeStep lose = wrong.Do(kPickup);  // the red key
  CHECK(lose.last());
  CHECK_FALSE(lose.success);
  CHECK(lose.reward == 0.0f);
  CHECK(lose.discount == 0.0f);
}

TEST_CASE("pickup: random rooms follow Fetch's layout rules", "[grid]") {
  PickupOptions o;
  o.size = 8;
  o.num_objects = 3;
  auto env = MakePickup(o);
  Observation obs(env->Spec().observation);
  CHECK(env->Spec().max_episode_steps == 5 * 8 * 8);
  for (uint64_t seed = 0; seed < 50; ++seed) {
    env->Seed(seed);
    env->Reset(obs.Ref());
    const Grid& g = env->grid();
    int objects = 0;
    bool target_present = false;
    const auto& m = env->mission();
    for (int y = 0; y < g.height(); ++y) {
      for (int x = 0; x < g.width(); ++x) {
        const Cell& c = g.at(x, y);
        const bool border = x == 0 || y == 0 || x == g.width() - 1 || y == g.height() - 1;
        CHECK((c.type == Obj::kWall) == border);
        if (c.type == Obj::kKey || c.type == Obj::kBall) {
          ++objects;
          target_present = target_present ||
                           (Vocab::ColorToken(c.color) == m[1] && Vocab::ObjToken(c.type) == m[2]);
        }
      }
    }
    CHECK(objects == 3);
    CHECK(target_present);
    CHECK(g.at(env->agent_x(), env->agent_y()).empty());
  }
}
