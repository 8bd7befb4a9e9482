#include "runners/cli/train_common.h"

#include <cstdio>
#include <limits>

#include "runners/run/run_dir.h"
#include "runners/run/stop_signal.h"
#include "runners/train/checkpoint.h"

namespace rimlab {

LogOptions LogOptionsFrom(const Config& config) {
  LogOptions o;
  ParamReader r(config.Section("log"), "section 'log'");
  o.checkpoint_frames = r.Int("checkpoint_frames", o.checkpoint_frames, 1, int64_t{1} << 50);
  o.keep_checkpoints = static_cast<int>(r.Int("keep_checkpoints", o.keep_checkpoints, 0, 1000000));
  o.record_episodes = static_cast<int>(r.Int("record_episodes", o.record_episodes, 0, 1000));
  o.tensorboard = r.Bool("tensorboard", o.tensorboard);
  o.progress_seconds = r.Float("progress_seconds", o.progress_seconds, 0.0, 1e6);
  r.Finish();
  return o;
}

RunOptions RunOptionsFrom(const Config& config, const std::string& default_name,
                          const std::vector<std::string>& algos) {
  RunOptions o;
  ParamReader r(config.Section(""), "config");
  o.name = r.String("name", default_name);
  o.algo = r.Choice("algo", algos.front(), algos);
  o.seed = static_cast<uint64_t>(r.Int("seed", 1, 0, std::numeric_limits<int32_t>::max()));
  o.total_frames = r.Int("total_frames", o.total_frames, 1, int64_t{1} << 50);
  o.torch_threads = static_cast<int>(r.Int("torch_threads", o.torch_threads, 1, 256));
  o.learner_threads = static_cast<int>(r.Int("learner_threads", o.learner_threads, 1, 256));
  r.Finish();
  return o;
}

OpenedRun OpenRun(const TrainArgs& args, const Config& config, const std::string& name,
                  const std::vector<std::string>& columns, bool tensorboard,
                  const std::function<int64_t(const std::string& checkpoint)>& restore) {
  OpenedRun run;
  if (!args.resume.empty()) {
    run.dir = args.resume;
    const auto checkpoints = ListCheckpoints(run.dir + "/checkpoints");
    if (checkpoints.empty()) {
      throw std::invalid_argument(run.dir + ": nothing to resume, no checkpoints in " + run.dir +
                                  "/checkpoints");
    }
    const int64_t frames = restore(checkpoints.back());
    std::printf("resuming %s from %s (frames %lld)\n", run.dir.c_str(), checkpoints.back().c_str(),
                static_cast<long long>(frames));
    run.csv = std::make_unique<MetricsCsv>(run.dir + "/metrics.csv", columns,
                                           MetricsCsv::Mode::kResume, frames);
    if (tensorboard) ReplaceTensorBoardFiles(run.dir + "/tb", frames);
  } else {
    run.dir = CreateRunDir(args.runs_dir, name);
    WriteFileAtomic(run.dir + "/config.yaml", config.ToYaml());
    run.csv =
        std::make_unique<MetricsCsv>(run.dir + "/metrics.csv", columns, MetricsCsv::Mode::kCreate);
  }
  if (tensorboard) run.tb = std::make_unique<TensorBoardWriter>(run.dir + "/tb");
  return run;
}

void RecentEpisodes::Add(float episode_return, bool success) {
  episodes_.emplace_back(episode_return, success);
  if (episodes_.size() > 100) episodes_.pop_front();
}

double RecentEpisodes::ReturnMean() const {
  if (episodes_.empty()) return std::numeric_limits<double>::quiet_NaN();
  double sum = 0.0;
  for (const auto& e : episodes_) sum += e.first;
  return sum / static_cast<double>(episodes_.size());
}

double RecentEpisodes::SuccessRate() const {
  if (episodes_.empty()) return std::numeric_limits<double>::quiet_NaN();
  double sum = 0.0;
  for (const auto& e : episodes_) sum += e.second ? 1.0 : 0.0;
  return sum / static_cast<double>(episodes_.size());
}

int ReportStopped(int64_t frames, const std::string& checkpoint, const std::string& dir) {
  std::printf("stopped at frames %lld; checkpoint %s\nresume with: rimlab train --resume %s\n",
              static_cast<long long>(frames), checkpoint.c_str(), dir.c_str());
  return StopRequested() ? 130 : 0;
}

}  // namespace rimlab
