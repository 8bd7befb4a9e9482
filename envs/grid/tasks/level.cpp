// level: a hand-written ASCII map played with MiniGrid's base rules.
//
// Mission:     none (mission tokens are all padding).
// Actions:     MiniGrid's seven: left, right, forward, pickup, drop, toggle, done.
// Observation: image [7,7,3] egocentric view (occluded unless see_through_walls), direction,
//              mission.
// Reward:      1 - 0.9 * steps / max_steps on stepping into a goal, else 0.
// Termination: a goal or lava ends the episode (discount 0); max_steps truncates it (discount 1).
// Every reset restores the map as written, so episodes differ only through the agent's actions.
#include "envs/grid/tasks/common.h"
#include "envs/grid/tasks/tasks.h"

namespace rimlab::grid {

namespace {

// A room split by a wall with a locked door; the key is on the agent's side and a goal behind.
const std::vector<std::string> kDefaultMap = {
    "WEWEWEWEWEWEWEWEWE",  //
    "WE      WE      WE",  //
    "WE  KY  WE      WE",  //
    "WE      LY    GGWE",  //
    "WE  >>  WE      WE",  //
    "WE      WE      WE",  //
    "WEWEWEWEWEWEWEWEWE",  //
};

class Level : public GridEnv {
 public:
  Level(const LevelOptions& o, AsciiLevel level)
      : GridEnv("level", o.max_steps, o.see_through_walls), level_(std::move(level)) {}

 protected:
  void GenGrid() override {
    grid_ = level_.grid;
    agent_x_ = level_.agent_x;
    agent_y_ = level_.agent_y;
    agent_dir_ = level_.agent_dir;
  }

 private:
  AsciiLevel level_;
};

}  // namespace

LevelOptions LevelOptionsFromParams(const Params& params) {
  ParamReader r(params, "env 'level'");
  LevelOptions o;
  o.map = r.StringList("map", kDefaultMap);
  o.max_steps = static_cast<int>(r.Int("max_steps", o.max_steps, 1, 1000000));
  o.see_through_walls = r.Bool("see_through_walls", o.see_through_walls);
  ReadMapOption(r, "map", o.map);
  r.Finish();
  return o;
}

std::unique_ptr<GridEnv> MakeLevel(const LevelOptions& options) {
  ParamReader r(Params{}, "env 'level'");
  return std::make_unique<Level>(options, ReadMapOption(r, "map", options.map));
}

}  // namespace rimlab::grid
