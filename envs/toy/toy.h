#pragma once
/// Toy environments: tiny tasks that each test one ability of a learner (credit assignment in one
/// step, memory across a delay), so that learning tests of PPO, A2C and DQN finish in seconds.
/// Each task's .cpp opens with its rules.

#include <cstdint>
#include <memory>

#include "envs/core/env.h"
#include "common/params.h"
#include "common/rng.h"

namespace rimlab::toy {

/// `bandit`: one-step episodes; pulling `good_arm` pays 1, any other arm 0. With `noise` the
/// reward of the pull is flipped with that probability, so the arms pay 1 - noise and noise on
/// average and the learner has to average over episodes.
struct BanditOptions {
  int arms = 2;        ///< number of actions, 2 to 1000
  int good_arm = 1;    ///< the paying arm, in [0, arms)
  double noise = 0.0;  ///< probability that a pull's 0/1 reward is flipped, 0 to 0.5
};
BanditOptions BanditOptionsFromParams(const Params& params);
/// Throws OptionError for options out of range (structs may be filled by hand).
std::unique_ptr<Environment> MakeBandit(const BanditOptions& options);

/// `memory`: a cue at the first step, `delay` blank steps, then a query the action must answer
/// with the cue.
struct MemoryOptions {
  int num_cues = 2;  ///< cues and actions, 2 to 256
  int delay = 3;     ///< blank steps between cue and query, 0 to 1000
};
MemoryOptions MemoryOptionsFromParams(const Params& params);
std::unique_ptr<Environment> MakeMemory(const MemoryOptions& options);

/// The generator for episode `episode` after Seed(seed). Each episode draws everything it needs
/// at Reset from its own counter-derived stream, so a snapshot is just (seed, episode) plus those
/// draws, and no generator state has to be carried across steps.
inline Rng EpisodeRng(uint64_t seed, uint64_t episode) {
  uint64_t s = seed;
  uint64_t e = SplitMix64(&s) + episode;
  return Rng(SplitMix64(&e));
}

}  // namespace rimlab::toy
