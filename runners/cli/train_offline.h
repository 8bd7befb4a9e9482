#pragma once
/// `rimlab train` for the offline algorithms (algo: bc, crr), from a recorded dataset. LibTorch
/// builds only.

#include "runners/cli/commands.h"
#include "runners/config/config.h"

namespace rimlab {

/// True when the config's root `algo` names an offline algorithm.
bool IsOfflineConfig(const Config& config);

/// Trains the run `config` describes (for --resume: the run's own config.yaml). Returns the exit
/// status: 0 done or stopped by --stop-after-frames, 130 stopped by Ctrl-C (checkpoint saved),
/// 1 for a non-finite loss.
int TrainOffline(Config config, const TrainArgs& args);

}  // namespace rimlab
