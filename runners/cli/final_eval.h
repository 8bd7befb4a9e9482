#pragma once
/// The evaluation that ends a training run: the `eval` section's episodes on each of its splits
/// (the config's env when none), printed as a table and written to RUN_DIR/eval.json.

#include <cstdint>
#include <string>
#include <vector>

#include "agents/actor_critic.h"
#include "runners/config/config.h"
#include "runners/config/env_config.h"

namespace rimlab {

struct EvalOptions {
  int episodes = 200;
  std::vector<std::string> splits;
  bool greedy = false;
};

/// The `eval` section: episodes, splits, greedy; unknown keys are errors.
EvalOptions EvalOptionsFrom(const Config& config);

/// Plays `eval.episodes` episodes per split with `model` on a pool built like `pool_options`
/// and writes dir/eval.json, naming `checkpoint`. Nothing when eval.episodes is 0.
void RunFinalEvaluation(agents::ActorCritic model, const EnvConfig& env_config,
                        const PoolOptions& pool_options, const EvalOptions& eval, uint64_t seed,
                        const std::string& checkpoint, const std::string& dir);

}  // namespace rimlab
