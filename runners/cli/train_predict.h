#pragma once
// `rimlab train` and `rimlab eval` for the bouncing-balls prediction task (task: predict).

#include <string>
#include <vector>

#include "runners/cli/commands.h"
#include "runners/config/config.h"

namespace rimlab {

/// Trains (or with args.resume continues) a prediction run; the run directory holds
/// config.yaml, metrics.csv, tb/ and checkpoints/ as an RL run's does.
int TrainPrediction(Config config, const TrainArgs& args);

/// Whether a run directory (or a checkpoint inside one) is a prediction run.
bool IsPredictionRun(const std::string& path);

struct PredictEvalArgs {
  std::vector<std::string> runs;
  std::vector<std::string> files;  ///< empty: the first run's eval.files
  std::string split;               ///< empty: the first run's eval.split
  int64_t sequences = 0;           ///< 0: the first run's eval.sequences
  std::string out;                 ///< where the table and plot go; empty: the first run's eval/
  std::string feedback;            ///< probabilities | binary; empty: the first run's eval.feedback
};
/// The 15 + 35 protocol for every run on every file: BCE per rollout step with a 95% interval,
/// written as CSV and JSON and plotted (PNG, with gnuplot when it is installed).
int EvalPrediction(const PredictEvalArgs& args);

}  // namespace rimlab
