#pragma once
/// What the RL trainers' commands (on-policy and DQN) share: the root and `log` sections, the
/// progress line's recent-episode means, and the message after a stop.

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "runners/cli/commands.h"
#include "runners/config/config.h"
#include "runners/run/metrics_csv.h"
#include "runners/run/tensorboard.h"

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

/// A training run's directory, opened for writing.
struct OpenedRun {
  std::string dir;
  std::unique_ptr<MetricsCsv> csv;
  std::unique_ptr<TensorBoardWriter> tb;  ///< null when log.tensorboard is off
};

/// A new run directory under args.runs_dir named `name` (config.yaml written), or with
/// args.resume the run's own, after `restore` has loaded its newest checkpoint and returned the
/// frames it holds; metrics.csv and the TensorBoard files are cut back to those frames. Throws
/// std::invalid_argument when there is nothing to resume.
OpenedRun OpenRun(const TrainArgs& args, const Config& config, const std::string& name,
                  const std::vector<std::string>& columns, bool tensorboard,
                  const std::function<int64_t(const std::string& checkpoint)>& restore);

/// The last 100 finished episodes' return and success, for the progress line.
class RecentEpisodes {
 public:
  void Add(float episode_return, bool success);
  double ReturnMean() const;   ///< NaN before the first episode
  double SuccessRate() const;  ///< NaN before the first episode

 private:
  std::deque<std::pair<float, bool>> episodes_;
};

/// Prints where a stopped run's checkpoint is and how to resume it; returns the exit status:
/// 130 after Ctrl-C, 0 after --stop-after-frames.
int ReportStopped(int64_t frames, const std::string& checkpoint, const std::string& dir);

}  // namespace rimlab
