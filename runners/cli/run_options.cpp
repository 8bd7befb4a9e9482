#include "runners/cli/run_options.h"

#include <limits>

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

}  // namespace rimlab
