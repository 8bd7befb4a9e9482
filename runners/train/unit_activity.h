#pragma once
/// Evaluation episodes of a trained RIM policy as the study's unit analysis needs them: at each
/// decision, which units were active and binary features of the observation the policy saw: a
/// gridworld's view (envs/grid/view_features.h) or balls_touch's numbers
/// (envs/balls/touch_view_features.h).

#include <cstdint>

#include "runners/config/env_config.h"
#include "runners/study/units.h"
#include "runners/train/policy.h"

namespace rimlab {

/// True when the env's observation has the grid's `image` (uint8) and `mission` (int32) fields.
bool HasGridView(const EnvConfig& env);

/// True for balls_touch observed as numbers (`features: true`: `context` and `objects`).
bool HasBallsView(const EnvConfig& env);

/// True when the policy has a RIM core and the env has either view above, so that
/// CollectUnitSteps applies.
bool CanAnalyseUnits(const TrainedPolicy& policy, const EnvConfig& env);

/// Plays `episodes` episodes one after another on one env made from `env` (seeded with `seed`,
/// reset between episodes), acting greedily or by sampling (seeded with `seed` too). Throws
/// std::invalid_argument when CanAnalyseUnits is false.
study::UnitSteps CollectUnitSteps(const TrainedPolicy& policy, const EnvConfig& env, int episodes,
                                  bool greedy, uint64_t seed);

}  // namespace rimlab
