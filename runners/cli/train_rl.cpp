// `rimlab train` for on-policy RL (algo: ppo | a2c): builds the pool, the actor-critic and the
// algorithm from the config, trains, and keeps the run directory up to date: config.yaml,
// metrics.csv, TensorBoard events, checkpoints/ and episodes/. Ctrl-C (or --stop-after-frames)
// ends at the next iteration boundary with a checkpoint; --resume continues from the newest one.
#include <torch/torch.h>

#include <cstdio>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>

#include "runners/cli/commands.h"
#include "runners/cli/final_eval.h"
#include "runners/cli/train_common.h"
#include "runners/cli/train_rl.h"
#include "runners/config/env_config.h"
#include "runners/run/metrics_csv.h"
#include "runners/run/progress.h"
#include "runners/run/run_dir.h"
#include "runners/run/stop_signal.h"
#include "runners/run/tensorboard.h"
#include "runners/train/checkpoint.h"
#include "runners/train/policy.h"
#include "runners/train/recorder.h"
#include "runners/train/rl_trainer.h"

namespace rimlab {

namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kColumns = {
    "frames",      "iteration",          "seconds",     "sps",          "episodes", "return_mean",
    "length_mean", "success_rate",       "policy_loss", "value_loss",   "entropy",  "approx_kl",
    "clipfrac",    "explained_variance", "grad_norm",   "learning_rate"};

double Nan() {
  return std::numeric_limits<double>::quiet_NaN();
}

}  // namespace

int TrainOnPolicy(Config config, const TrainArgs& args) {
  const bool resuming = !args.resume.empty();
  const RunOptions run = RunOptionsFrom(config, StemOf(args.config), {"ppo", "a2c"});
  const std::string other = run.algo == "ppo" ? "a2c" : "ppo";
  config.CheckSections({"env", "pool", "model", "core", run.algo, "log", "eval", "debug"});
  const EnvConfig env_config = EnvConfigFrom(config);
  const PoolOptions pool_options = PoolOptionsFrom(config);
  const LogOptions log = LogOptionsFrom(config);
  const EvalOptions eval = EvalOptionsFrom(config);
  int64_t nan_at_frames = 0;
  {
    // A testing aid: the failure path (stop, keep the last good checkpoint) must be exercised
    // without waiting for a real divergence.
    ParamReader r(config.Section("debug"), "section 'debug'");
    nan_at_frames = r.Int("nan_at_frames", 0, 0, int64_t{1} << 50);
    r.Finish();
  }
  for (const auto& split : eval.splits) env_config.WithSplit(split);

  // Collection runs torch on one thread next to the pool's threads; the update, with the pool
  // idle (sync mode), gets torch_threads.
  torch::set_num_threads(run.torch_threads);
  torch::manual_seed(run.seed);

  ActorPool pool([&env_config](int) { return env_config.Make(); }, pool_options);
  agents::ActorCritic model = BuildModel(config, pool.spec());
  auto algorithm = agents::MakeOnPolicyAlgorithm(run.algo, config.Section(run.algo), model,
                                                 pool_options.num_envs);
  const int learner_threads = algorithm->set_learner_threads(run.learner_threads);
  OnPolicyTrainer trainer(&pool, model, std::move(algorithm), run.total_frames);
  trainer.set_update_threads(run.torch_threads);
  if (args.plan != nullptr) {
    long long parameters = 0;
    for (const auto& p : model->parameters()) parameters += p.numel();
    *args.plan = {parameters,
                  static_cast<long long>(trainer.frames_per_iteration()),
                  static_cast<long long>(trainer.num_iterations() * trainer.frames_per_iteration()),
                  model->Describe(),
                  model->options().core.type == "rim",
                  learner_threads};
    return 0;
  }

  OpenedRun opened = OpenRun(args, config, run.name, kColumns, log.tensorboard,
                             [&](const std::string& checkpoint) {
                               LoadCheckpoint(&trainer, checkpoint);
                               return trainer.frames();
                             });
  const std::string& dir = opened.dir;
  auto& csv = opened.csv;
  auto& tb = opened.tb;

  std::printf(
      "run directory: %s\n%s on %s: %s, %d envs on %d threads, torch threads %d, learner "
      "threads %d%s, %lld frames in %lld iterations of %lld\n",
      dir.c_str(), run.algo.c_str(), env_config.name.c_str(), model->Describe().c_str(),
      pool_options.num_envs, pool_options.num_threads, run.torch_threads, learner_threads,
      learner_threads < run.learner_threads ? " (dropout or random units: one thread keeps runs "
                                              "reproducible)"
                                            : "",
      static_cast<long long>(run.total_frames), static_cast<long long>(trainer.num_iterations()),
      static_cast<long long>(trainer.frames_per_iteration()));
  std::fflush(stdout);

  EpisodeRecorder recorder(env_config, run.seed);
  const std::string checkpoint_dir = dir + "/checkpoints";
  std::string last_checkpoint = resuming ? ListCheckpoints(checkpoint_dir).back() : "";
  const auto save = [&]() {
    last_checkpoint = SaveCheckpoint(trainer, checkpoint_dir);
    PruneCheckpoints(checkpoint_dir, log.keep_checkpoints);
    if (log.record_episodes > 0) {
      recorder.Record(model, trainer.frames(), log.record_episodes, dir + "/episodes",
                      run.algo + " " + model->Describe());
    }
  };

  ProgressLine progress(trainer.num_iterations() * trainer.frames_per_iteration(),
                        log.progress_seconds);
  RecentEpisodes recent;
  double seconds = 0.0;
  const int64_t stop_after = args.stop_after_frames;
  StopSignalScope signals;
  bool interrupted = false;
  while (!trainer.done()) {
    IterationStats s = trainer.RunIteration();
    if (nan_at_frames > 0 && s.frames >= nan_at_frames) s.loss.policy_loss = Nan();
    const double iteration_seconds = s.collect_seconds + s.update_seconds;
    seconds += iteration_seconds;
    const auto& l = s.loss;
    if (!l.Finite()) {
      progress.Finish();
      std::fprintf(stderr,
                   "rimlab: failed: non-finite loss at iteration %lld (frames %lld): policy_loss "
                   "%g, value_loss %g, entropy %g. Stopped without saving; the last good "
                   "checkpoint is %s\n",
                   static_cast<long long>(s.iteration), static_cast<long long>(s.frames),
                   l.policy_loss, l.value_loss, l.entropy,
                   last_checkpoint.empty() ? "(none yet)" : last_checkpoint.c_str());
      return 1;
    }
    const double sps = static_cast<double>(trainer.frames_per_iteration()) / iteration_seconds;
    csv->Write({static_cast<double>(s.frames), static_cast<double>(s.iteration), seconds, sps,
                static_cast<double>(s.episodes.size()), s.ReturnMean(), s.LengthMean(),
                s.SuccessRate(), l.policy_loss, l.value_loss, l.entropy, l.approx_kl, l.clipfrac,
                l.explained_variance, l.grad_norm, l.learning_rate});
    if (tb) {
      std::vector<std::pair<std::string, double>> scalars = {
          {"charts/SPS", sps},
          {"charts/learning_rate", l.learning_rate},
          {"losses/policy_loss", l.policy_loss},
          {"losses/value_loss", l.value_loss},
          {"losses/entropy", l.entropy},
          {"losses/grad_norm", l.grad_norm}};
      if (!s.episodes.empty()) {
        scalars.push_back({"charts/episodic_return", s.ReturnMean()});
        scalars.push_back({"charts/episodic_length", s.LengthMean()});
        scalars.push_back({"charts/success_rate", s.SuccessRate()});
      }
      if (!std::isnan(l.approx_kl)) scalars.push_back({"losses/approx_kl", l.approx_kl});
      if (!std::isnan(l.clipfrac)) scalars.push_back({"losses/clipfrac", l.clipfrac});
      if (!std::isnan(l.explained_variance)) {
        scalars.push_back({"losses/explained_variance", l.explained_variance});
      }
      tb->AddScalars(s.frames, scalars);
      tb->Flush();  // TensorBoard sees the run as it goes; a kill leaves whole records
    }
    for (const auto& e : s.episodes) recent.Add(e.episode_return, e.success);
    progress.Update(s.frames, sps, recent.ReturnMean(), recent.SuccessRate(), seconds);

    const bool boundary = s.frames / log.checkpoint_frames !=
                          (s.frames - trainer.frames_per_iteration()) / log.checkpoint_frames;
    const bool stop = StopRequested() || (stop_after > 0 && s.frames >= stop_after);
    if (boundary || trainer.done() || stop) save();
    if (stop && !trainer.done()) {
      interrupted = true;
      break;
    }
  }
  progress.Finish();
  if (tb) tb->Flush();
  if (interrupted) return ReportStopped(trainer.frames(), last_checkpoint, dir);
  std::printf("done: %lld frames in %.1f s; checkpoint %s\n",
              static_cast<long long>(trainer.frames()), seconds, last_checkpoint.c_str());

  RunFinalEvaluation(model, env_config, pool_options, eval, run.seed, last_checkpoint, dir);
  return 0;
}

}  // namespace rimlab
