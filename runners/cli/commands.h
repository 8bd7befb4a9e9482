#pragma once
/// The subcommands behind `rimlab`, one function each, so main.cpp only parses arguments.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace rimlab {

/// Runs `body`, mapping bad input (OptionError, ConfigError, std::invalid_argument) to a one-line
/// `rimlab: error: ...` and exit status 2, and any other failure to status 1.
int RunCommand(const std::function<int()>& body);

struct RolloutArgs {
  std::string config;
  std::vector<std::string> overrides;
  int64_t seed = -1;  ///< -1: the config's seed
  std::string actions;
  std::string format = "json";
};
int CmdRollout(const RolloutArgs& args);

struct EvalArgs {
  std::string config;
  std::vector<std::string> overrides;
  std::string policy = "random";
  std::vector<std::string> splits;
  int episodes = 0;  ///< 0: the config's eval.episodes
  std::string format = "table";
  bool greedy = false;            ///< trained policies: the most likely action instead of sampling
  std::vector<std::string> data;  ///< prediction runs: HDF5 files to evaluate on
  std::string out;                ///< prediction runs: where results and the plot go
  std::string feedback;           ///< prediction runs: probabilities | binary
};
int CmdEval(const EvalArgs& args);

int CmdEnvs();

/// `rimlab eval RUN_DIR_OR_CHECKPOINT [more runs] --split NAME --episodes N`: trained policies,
/// side by side. Only in builds with LibTorch.
int CmdEvalTrained(const EvalArgs& args);

/// What a training config would run, from building its pieces without training (for checks
/// before a study starts).
struct TrainPlan {
  long long parameters = 0;
  long long frames_per_iteration = 0;
  long long total_frames = 0;  ///< rounded up to whole iterations
  std::string model;           ///< the model's one-line description
  bool rim = false;            ///< a RIM core, whose units the study analyses
  int learner_threads = 1;     ///< threads of each update
};

struct TrainArgs {
  std::string config;
  std::vector<std::string> overrides;
  std::string runs_dir = "runs";
  std::string resume;             ///< a run directory to continue (its config.yaml is used)
  int64_t stop_after_frames = 0;  ///< > 0: checkpoint and stop once this many frames are done
  TrainPlan* plan = nullptr;      ///< set: build env, model and algorithm, fill it, train nothing
};
/// Only in builds with LibTorch.
int CmdTrain(const TrainArgs& args);

}  // namespace rimlab
