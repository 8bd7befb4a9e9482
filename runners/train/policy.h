#pragma once
/// Trained policies as the CLI, the evaluation and the recordings use them: building the
/// actor-critic a config describes, loading a run's checkpoint, and acting with per-env core
/// state through the actor pool.

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "agents/actor_critic.h"
#include "runners/config/config.h"
#include "runners/config/env_config.h"
#include "runners/train/evaluate.h"

namespace rimlab {

/// The actor-critic described by the config's `model` and `core` sections for `spec`.
agents::ActorCritic BuildModel(const Config& config, const EnvSpec& spec);

struct TrainedPolicy {
  std::string run_dir;     ///< runs/NAME
  std::string checkpoint;  ///< the file loaded
  Config config;           ///< the run's resolved config
  agents::ActorCritic model{nullptr};
};

/// `path` is a run directory (its newest checkpoint is loaded) or a checkpoint file inside
/// run/checkpoints/. Throws std::invalid_argument naming the path when it is neither.
TrainedPolicy LoadTrainedPolicy(const std::string& path);

/// A BatchPolicy over a sync pool of `num_envs` envs: keeps one core state per env, reset where
/// an episode starts; samples actions from its own generator (greedy: the most likely action).
BatchPolicy RecurrentPolicy(agents::ActorCritic model, const EnvSpec& spec, int num_envs,
                            bool greedy, uint64_t seed);

/// A trained policy's success on each split (the run's own env when `splits` is {""}), through
/// a sync pool seeded apart from the training envs (pool seed + 1000003), so the episodes are
/// held out even on the training split and the result is the same for any thread count.
std::vector<EpisodeStats> EvaluateTrainedPolicy(const TrainedPolicy& policy,
                                                const std::vector<std::string>& splits,
                                                int episodes, bool greedy);

/// True when `path` names a run directory or a checkpoint file rather than a YAML config.
bool IsRunOrCheckpoint(const std::string& path);

}  // namespace rimlab
