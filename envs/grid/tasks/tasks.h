#pragma once
/// The gridworld tasks' option structs and factories. Each task's .cpp opens with its rules.

#include <memory>
#include <string>
#include <vector>

#include "common/params.h"
#include "envs/grid/grid_env.h"

namespace rimlab::grid {

/// A (colour, type) pair such as "red key"; "*" in either place expands to every value.
struct ObjectKind {
  Color color;
  Obj type;
  bool operator==(const ObjectKind& o) const { return color == o.color && type == o.type; }
};
/// Parses a list of "colour type" strings (with * wildcards) for option `key`; only keys, balls and
/// boxes can be picked up, so only they are accepted. Throws OptionError.
std::vector<ObjectKind> ParseObjectKinds(const ParamReader& reader, const std::string& key,
                                         const std::vector<std::string>& items);
std::string KindName(const ObjectKind& k);

/// `level`: a hand-written map with MiniGrid's base rules (goals, lava, doors, keys, boxes).
struct LevelOptions {
  std::vector<std::string> map;  ///< ASCII rows; see ascii_map.h. Defaults to a small demo level.
  int max_steps = 100;
  bool see_through_walls = false;
};
LevelOptions LevelOptionsFromParams(const Params& params);
std::unique_ptr<GridEnv> MakeLevel(const LevelOptions& options);

/// `pickup`: MiniGrid's Fetch.
struct PickupOptions {
  int size = 8;                   ///< room side, walls included
  int num_objects = 3;            ///< keys and balls placed at random
  int max_steps = 0;              ///< 0: MiniGrid's 5 * size^2
  bool see_through_walls = true;  ///< Fetch's own setting
  std::vector<std::string> map;   ///< optional fixed layout instead of a random room
  std::string target;             ///< with `map`: the object to fetch ("red key"); else random
  std::vector<ObjectKind> kinds;  ///< what random objects are drawn from (keys and balls)
};
PickupOptions PickupOptionsFromParams(const Params& params);
std::unique_ptr<GridEnv> MakePickup(const PickupOptions& options);

/// `distractors`: pick the target out of K distractors; splits vary K, the kinds and the room.
struct DistractorsOptions {
  std::string split = "train";
  int size = 6;
  int min_distractors = 1;
  int max_distractors = 3;
  std::vector<ObjectKind> targets;      ///< the mission's target is drawn from these
  std::vector<ObjectKind> distractors;  ///< distractors are drawn from these, never the target
  bool allow_same_color = true;         ///< a distractor may share the target's colour
  bool allow_same_type = true;          ///< a distractor may share the target's type
  bool moving = false;                  ///< distractor balls step randomly, as Dynamic-Obstacles
  int max_steps = 0;                    ///< 0: 5 * size^2
  bool see_through_walls = true;
};
const std::vector<std::string>& DistractorSplits();
DistractorsOptions DistractorsOptionsFromParams(const Params& params);
std::unique_ptr<GridEnv> MakeDistractors(const DistractorsOptions& options);

}  // namespace rimlab::grid
