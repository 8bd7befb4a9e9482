#pragma once
// `balls_touch`: an RL task among bouncing balls (the rules open touch.cpp). Splits: `train`,
// and held-out `more` (more balls), `faster` (faster balls) and `novel` (colours never seen in
// training).

#include <memory>
#include <string>
#include <vector>

#include "common/params.h"
#include "envs/core/env.h"

namespace rimlab::balls {

struct TouchOptions {
  std::string split = "train";
  int min_balls = 3, max_balls = 3;  ///< balls besides the agent: the target and distractors
  float min_speed = 0.5f, max_speed = 1.5f;  ///< the balls' initial speeds, box units / second
  std::string palette = "train";             ///< train: red, green, blue, yellow; novel: others
  int size = 32;                             ///< frame side in pixels, a multiple of 16
  int border = 2;                            ///< pixels of the border showing the target colour
  int max_steps = 100;                       ///< time limit (10 s of simulated time)
  float push = 1.0f;             ///< velocity an action adds in its direction, box units / s
  float drag = 0.1f;             ///< fraction of the agent's velocity lost each step
  float max_agent_speed = 3.0f;  ///< cap on the agent's speed, box units / s
  /// Observe positions, velocities and colours as numbers (fields `context` and `objects`, the
  /// same shapes on every split) instead of the frame.
  bool features = false;
  /// Weight of the potential-based approach reward (0: none); see touch.cpp.
  float shaping = 0.0f;
};

/// `context`: the agent's x, y, vx, vy; the target's r, g, b; the elapsed fraction of time.
inline constexpr int kTouchContextSize = 8;
/// `objects` rows: max_balls' cap, so that every split has one shape; nearest ball first.
inline constexpr int kTouchObjectSlots = 12;
/// Per row: present, dx, dy, vx, vy, r, g, b.
inline constexpr int kTouchObjectSize = 8;

const std::vector<std::string>& TouchSplits();
/// The split's preset, then any explicit key; unknown keys and bad values are OptionErrors.
TouchOptions TouchOptionsFromParams(const Params& params);
std::unique_ptr<Environment> MakeTouch(const TouchOptions& options);

}  // namespace rimlab::balls
