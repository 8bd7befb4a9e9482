#pragma once
/// Episode statistics through the actor pool, with confidence intervals.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "runners/pool/actor_pool.h"

namespace rimlab {

struct EpisodeStats {
  int episodes = 0;
  double success_rate = 0.0;
  double success_low = 0.0;  ///< 95% Wilson interval
  double success_high = 0.0;
  double return_mean = 0.0;
  double return_ci95 = 0.0;  ///< half-width of the normal 95% interval of the mean
  double length_mean = 0.0;
  int64_t frames = 0;  ///< env steps taken, including those of envs past their quota
  double seconds = 0.0;
};

/// Chooses actions for a batch of results: fills actions[i] for slot i.
using BatchPolicy = std::function<void(const BatchView& batch, Action* actions)>;

/// Runs the sync pool until exactly `episodes` episodes have finished. Each env owns a fixed
/// quota of episodes (episodes / num_envs, the remainder to the first envs), so short episodes
/// are not over-represented, and the result is the same for any thread count.
EpisodeStats Evaluate(ActorPool* pool, int episodes, const BatchPolicy& policy);

/// A policy drawing uniformly random discrete actions (continuous: uniform in the bounds).
BatchPolicy RandomPolicy(const ActionSpec& spec, uint64_t seed);

/// 95% Wilson score interval for k successes out of n.
void WilsonInterval(int k, int n, double* low, double* high);

}  // namespace rimlab
