#pragma once
/// `rimlab train` for on-policy RL (PPO, A2C). LibTorch builds only.

#include "runners/cli/commands.h"
#include "runners/config/config.h"

namespace rimlab {

/// Trains the run `config` describes (for --resume: the run's own config.yaml). Returns the exit
/// status: 0 done or stopped by --stop-after-frames, 130 stopped by Ctrl-C (checkpoint saved),
/// 1 for a non-finite loss (the last good checkpoint is kept).
int TrainOnPolicy(Config config, const TrainArgs& args);

}  // namespace rimlab
