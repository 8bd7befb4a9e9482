#pragma once
/// `rimlab train` for recurrent DQN (algo: dqn, R2D2-style). LibTorch builds only.

#include "runners/cli/commands.h"
#include "runners/config/config.h"

namespace rimlab {

/// True when the config's root says `algo: dqn`.
bool IsDqnConfig(const Config& config);

/// Trains the run `config` describes; exit statuses as TrainOnPolicy's.
int TrainDqn(Config config, const TrainArgs& args);

}  // namespace rimlab
