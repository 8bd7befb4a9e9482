#pragma once
/// The root and `log` sections of an RL run, read the same way by the on-policy and the DQN
/// trainers.

#include <cstdint>
#include <string>
#include <vector>

#include "runners/config/config.h"

namespace rimlab {

struct LogOptions {
  int64_t checkpoint_frames = 100000;
  int keep_checkpoints = 3;
  int record_episodes = 2;
  bool tensorboard = true;
  double progress_seconds = 10.0;
};

/// The `log` section; unknown keys are errors.
LogOptions LogOptionsFrom(const Config& config);

/// Everything the root section says about an RL run.
struct RunOptions {
  std::string name;
  std::string algo;
  uint64_t seed = 1;
  int64_t total_frames = 1000000;
  int torch_threads = 1;
  int learner_threads = 2;
};

/// The root section; `algos` are the values `algo` may take here, the first the default.
RunOptions RunOptionsFrom(const Config& config, const std::string& default_name,
                          const std::vector<std::string>& algos);

}  // namespace rimlab
