// `rimlab train` for recurrent DQN (algo: dqn): the pool, the Q-network (the actor-critic's
// critic with one Q per action), the sequence replay and the learner from the config; the run
// directory as for PPO (config.yaml, metrics.csv, TensorBoard, checkpoints/, episodes/), Ctrl-C
// and --stop-after-frames with a checkpoint, exact --resume, and the final evaluation, greedy on
// Q or epsilon-greedy as the eval section says.
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <variant>

#include "runners/cli/final_eval.h"
#include "runners/cli/train_common.h"
#include "runners/cli/train_dqn.h"
#include "runners/config/env_config.h"
#include "runners/run/metrics_csv.h"
#include "runners/run/progress.h"
#include "runners/run/run_dir.h"
#include "runners/run/stop_signal.h"
#include "runners/run/tensorboard.h"
#include "runners/train/checkpoint.h"
#include "runners/train/dqn_trainer.h"
#include "runners/train/policy.h"
#include "runners/train/recorder.h"

namespace rimlab {

namespace {

const std::vector<std::string> kColumns = {
    "frames",       "updates",          "seconds",     "sps",    "episodes", "return_mean",
    "length_mean",  "success_rate",     "td_loss",     "q_mean", "td_abs",   "grad_norm",
    "epsilon_mean", "replay_sequences", "replay_steps"};

// Rows aggregate this many frames: one per pool step would be tens of thousands of rows.
constexpr int64_t kLogFrames = 4096;

double Nan() {
  return std::numeric_limits<double>::quiet_NaN();
}

struct Window {
  std::vector<EpisodeSummary> episodes;
  double loss = 0.0, q = 0.0, td = 0.0, grad = 0.0, seconds = 0.0;
  int64_t updates = 0, frames = 0;
  double Mean(double sum) const { return updates > 0 ? sum / static_cast<double>(updates) : Nan(); }
};

}  // namespace

bool IsDqnConfig(const Config& config) {
  const Param* algo = config.Section("").Find("algo");
  return algo != nullptr && std::holds_alternative<std::string>(algo->value) &&
         std::get<std::string>(algo->value) == "dqn";
}

int TrainDqn(Config config, const TrainArgs& args) {
  const bool resuming = !args.resume.empty();
  const RunOptions run = RunOptionsFrom(config, StemOf(args.config), {"dqn"});
  config.CheckSections({"env", "pool", "model", "core", "dqn", "log", "eval"});
  const EnvConfig env_config = EnvConfigFrom(config);
  const PoolOptions pool_options = PoolOptionsFrom(config);
  const LogOptions log = LogOptionsFrom(config);
  const EvalOptions eval = EvalOptionsFrom(config);
  const agents::R2d2Config dqn = agents::R2d2ConfigFromParams(config.Section("dqn"));
  for (const auto& split : eval.splits) env_config.WithSplit(split);

  torch::set_num_threads(run.torch_threads);
  torch::manual_seed(run.seed);
  ActorPool pool([&env_config](int) { return env_config.Make(); }, pool_options);
  agents::ActorCritic model = BuildModel(config, pool.spec());
  DqnTrainer trainer(&pool, model, dqn, run.total_frames, run.seed);
  trainer.set_update_threads(run.torch_threads);
  if (args.plan != nullptr) {
    long long parameters = 0;
    for (const auto& p : model->parameters()) parameters += p.numel();
    *args.plan = {parameters,
                  static_cast<long long>(trainer.frames_per_iteration()),
                  static_cast<long long>(trainer.num_iterations() * trainer.frames_per_iteration()),
                  model->Describe(),
                  model->options().core.type == "rim",
                  1};
    return 0;
  }

  OpenedRun opened = OpenRun(
      args, config, run.name, kColumns, log.tensorboard, [&](const std::string& checkpoint) {
        LoadCheckpointWith(checkpoint,
                           [&trainer](torch::serialize::InputArchive* a) { trainer.Load(a); });
        return trainer.frames();
      });
  const std::string& dir = opened.dir;
  auto& csv = opened.csv;
  auto& tb = opened.tb;

  double epsilon_mean = 0.0;
  for (double e : trainer.epsilons()) epsilon_mean += e;
  epsilon_mean /= static_cast<double>(trainer.epsilons().size());
  size_t observation_bytes = 0;
  for (const auto& f : pool.spec().observation.fields) observation_bytes += f.NumBytes();
  std::printf(
      "run directory: %s\ndqn on %s: %s, %d envs on %d threads (epsilons %.3g..%.3g), replay "
      "%lld steps of %.0f bytes (observation %zu: %.2fx), sequences of %lld (burn-in %lld, every "
      "%lld), %lld frames per update, %lld frames\n",
      dir.c_str(), env_config.name.c_str(), model->Describe().c_str(), pool_options.num_envs,
      pool_options.num_threads, trainer.epsilons().front(), trainer.epsilons().back(),
      static_cast<long long>(dqn.replay_capacity), trainer.replay().BytesPerStep(),
      observation_bytes, trainer.replay().BytesPerStep() / static_cast<double>(observation_bytes),
      static_cast<long long>(dqn.sequence_length), static_cast<long long>(dqn.burn_in),
      static_cast<long long>(dqn.period), static_cast<long long>(trainer.frames_per_iteration()),
      static_cast<long long>(run.total_frames));
  std::fflush(stdout);

  EpisodeRecorder recorder(env_config, run.seed);
  const std::string checkpoint_dir = dir + "/checkpoints";
  std::string last_checkpoint = resuming ? ListCheckpoints(checkpoint_dir).back() : "";
  const auto save = [&]() {
    last_checkpoint =
        SaveCheckpointWith(trainer.frames(), checkpoint_dir,
                           [&trainer](torch::serialize::OutputArchive* a) { trainer.Save(a); });
    PruneCheckpoints(checkpoint_dir, log.keep_checkpoints);
    if (log.record_episodes > 0) {
      recorder.Record(model, trainer.frames(), log.record_episodes, dir + "/episodes",
                      "dqn " + model->Describe());
    }
  };

  ProgressLine progress(trainer.num_iterations() * trainer.frames_per_iteration(),
                        log.progress_seconds);
  RecentEpisodes recent;
  double seconds = 0.0;
  Window w;
  StopSignalScope signals;
  bool interrupted = false;
  while (!trainer.done()) {
    DqnIterationStats s = trainer.RunIteration();
    const double iteration_seconds = s.collect_seconds + s.update_seconds;
    seconds += iteration_seconds;
    w.seconds += iteration_seconds;
    w.frames += trainer.frames_per_iteration();
    w.episodes.insert(w.episodes.end(), s.episodes.begin(), s.episodes.end());
    if (s.updated) {
      const auto& u = s.update;
      if (!std::isfinite(u.loss.loss.item<double>())) {
        progress.Finish();
        std::fprintf(stderr,
                     "rimlab: failed: non-finite TD loss at frames %lld. Stopped without saving; "
                     "the last good checkpoint is %s\n",
                     static_cast<long long>(s.frames),
                     last_checkpoint.empty() ? "(none yet)" : last_checkpoint.c_str());
        return 1;
      }
      w.loss += u.loss.loss.item<double>();
      w.q += u.loss.q_mean;
      w.td += u.loss.td_abs;
      w.grad += u.grad_norm;
      ++w.updates;
    }
    for (const auto& e : s.episodes) recent.Add(e.episode_return, e.success);
    const bool boundary = s.frames / log.checkpoint_frames !=
                          (s.frames - trainer.frames_per_iteration()) / log.checkpoint_frames;
    const bool stop =
        StopRequested() || (args.stop_after_frames > 0 && s.frames >= args.stop_after_frames);
    const bool row =
        s.frames / kLogFrames != (s.frames - trainer.frames_per_iteration()) / kLogFrames;
    if (row || boundary || trainer.done() || stop) {
      IterationStats e;  // for its episode means
      e.episodes = w.episodes;
      const double sps = w.seconds > 0 ? static_cast<double>(w.frames) / w.seconds : Nan();
      csv->Write({static_cast<double>(s.frames), static_cast<double>(s.updates), seconds, sps,
                  static_cast<double>(e.episodes.size()), e.ReturnMean(), e.LengthMean(),
                  e.SuccessRate(), w.Mean(w.loss), w.Mean(w.q), w.Mean(w.td), w.Mean(w.grad),
                  epsilon_mean, static_cast<double>(s.replay_sequences),
                  static_cast<double>(s.replay_steps)});
      if (tb) {
        std::vector<std::pair<std::string, double>> scalars = {
            {"charts/SPS", sps},
            {"charts/epsilon", epsilon_mean},
            {"charts/replay_size", static_cast<double>(s.replay_steps)}};
        if (w.updates > 0) {
          scalars.push_back({"losses/td_loss", w.Mean(w.loss)});
          scalars.push_back({"losses/q_values", w.Mean(w.q)});
          scalars.push_back({"losses/td_abs", w.Mean(w.td)});
          scalars.push_back({"losses/grad_norm", w.Mean(w.grad)});
        }
        if (!e.episodes.empty()) {
          scalars.push_back({"charts/episodic_return", e.ReturnMean()});
          scalars.push_back({"charts/episodic_length", e.LengthMean()});
          scalars.push_back({"charts/success_rate", e.SuccessRate()});
        }
        tb->AddScalars(s.frames, scalars);
        tb->Flush();
      }
      progress.Update(s.frames, sps, recent.ReturnMean(), recent.SuccessRate(), seconds);
      w = Window{};
    }
    if (boundary || trainer.done() || stop) save();
    if (stop && !trainer.done()) {
      interrupted = true;
      break;
    }
  }
  progress.Finish();
  if (tb) tb->Flush();
  if (interrupted) return ReportStopped(trainer.frames(), last_checkpoint, dir);
  std::printf("done: %lld frames, %lld updates in %.1f s; checkpoint %s\n",
              static_cast<long long>(trainer.frames()),
              static_cast<long long>(trainer.learner().updates()), seconds,
              last_checkpoint.c_str());
  RunFinalEvaluation(model, env_config, pool_options, eval, run.seed, last_checkpoint, dir);
  return 0;
}

}  // namespace rimlab
