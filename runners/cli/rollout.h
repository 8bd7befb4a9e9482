#pragma once
/// `rimlab rollout`: one env, a seed and a fixed action list, every step printed. For scripting,
/// debugging, and checking our encoding against MiniGrid's.

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "envs/core/env.h"

namespace rimlab {

struct RolloutResult {
  std::string json;        ///< the whole rollout as one JSON document
  std::string text;        ///< the same for people: map, mission and scalars per step
  int unused_actions = 0;  ///< actions left after the episode ended
};

/// Seeds `env`, resets it and applies `actions` until the episode ends. Each step records the
/// step type, reward, discount and every observation field (images as [row][column][channel]
/// nested lists, the layout of MiniGrid fixtures' `view`).
RolloutResult Rollout(Environment* env, uint64_t seed, const std::vector<int32_t>& actions);

/// Parses "2,2,1,3" (or "left,forward,...", using the spec's action names). Throws OptionError
/// (key "--actions") naming the bad item.
std::vector<int32_t> ParseActionList(const std::string& text, const ActionSpec& spec);

}  // namespace rimlab
