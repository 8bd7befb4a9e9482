// `rimlab train` for the offline algorithms (algo: bc, crr): learns from a recorded Minari dataset
// (`dataset: DIR`, as `rimlab collect` writes it) instead of an actor pool, and keeps the run
// directory as the on-policy trainer does: config.yaml, metrics.csv, TensorBoard, checkpoints
// (the same archive layout, so `rimlab eval`, `collect` and the viewer load them) and eval.json
// from playing the trained policy in the env. Ctrl-C or --stop-after-frames (counted in decisions
// trained on) stops at an update with a checkpoint; --resume continues exactly.
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <variant>

#include "agents/behaviour_cloning.h"
#include "agents/crr.h"
#include "data/minari_dataset.h"
#include "runners/cli/final_eval.h"
#include "runners/cli/train_offline.h"
#include "runners/config/env_config.h"
#include "runners/run/metrics_csv.h"
#include "runners/run/run_dir.h"
#include "runners/run/stop_signal.h"
#include "runners/run/tensorboard.h"
#include "runners/train/checkpoint.h"
#include "runners/train/policy.h"
#include "runners/train/rl_trainer.h"

namespace rimlab {

namespace {

const std::vector<std::string> kColumns = {
    "update",   "frames",  "seconds", "policy_loss", "critic_loss", "nll",
    "accuracy", "entropy", "q_mean",  "weight_mean", "grad_norm",   "learning_rate"};

/// One update's figures, whatever the algorithm; NaN where it has none (BC has no critic).
struct OfflineStats {
  double policy_loss = 0.0, critic_loss = 0.0, nll = 0.0, accuracy = 0.0, entropy = 0.0;
  double q_mean = 0.0, weight_mean = 0.0, grad_norm = 0.0;
  int64_t steps = 0;
  std::vector<double> Values() const {
    return {policy_loss, critic_loss, nll, accuracy, entropy, q_mean, weight_mean, grad_norm};
  }
};

/// The algorithm behind one interface: an update, its optimiser and (CRR) target network for
/// checkpoints, its learning rate and batch size.
class OfflineLearner {
 public:
  OfflineLearner(const std::string& algo, const Config& config, agents::ActorCritic model) {
    if (algo == "crr") {
      const auto c = agents::CrrConfigFromParams(config.Section("crr"));
      crr_ = std::make_unique<agents::CriticRegularizedRegression>(model, c);
      lr_ = c.lr;
      batch_ = c.batch_episodes;
    } else {
      const auto c = agents::BcConfigFromParams(config.Section("bc"));
      bc_ = std::make_unique<agents::BehaviourCloning>(model, c);
      lr_ = c.lr;
      batch_ = c.batch_episodes;
    }
  }
  OfflineStats Update(const agents::EpisodeBatch& batch, int64_t update) {
    OfflineStats o;
    if (bc_) {
      const auto s = bc_->Update(batch);
      const double nan = std::numeric_limits<double>::quiet_NaN();
      o = {s.nll, nan, s.nll, s.accuracy, s.entropy, nan, nan, s.grad_norm, s.steps};
    } else {
      const auto s = crr_->Update(batch, update);
      const auto& l = s.loss;
      o = {l.policy_loss, l.critic_loss, l.nll,       l.accuracy, l.entropy,
           l.q_mean,      l.weight_mean, s.grad_norm, s.steps};
    }
    return o;
  }
  agents::FlatAdam& optimizer() { return bc_ ? bc_->optimizer() : crr_->optimizer(); }
  /// The target network, or nullptr.
  agents::ActorCritic* target() { return crr_ ? &crr_->target() : nullptr; }
  double lr() const { return lr_; }
  int64_t batch_episodes() const { return batch_; }

 private:
  std::unique_ptr<agents::BehaviourCloning> bc_;
  std::unique_ptr<agents::CriticRegularizedRegression> crr_;
  double lr_ = 0.0;
  int64_t batch_ = 0;
};

struct OfflineRun {
  std::string name, algo, dataset;
  uint64_t seed = 1;
  int64_t updates = 2000;
  int torch_threads = 1;
  // log section
  int64_t log_every = 50, checkpoint_updates = 500;
  int keep_checkpoints = 3;
  bool tensorboard = true;
};

OfflineRun OfflineRunFrom(const Config& config, const std::string& default_name) {
  OfflineRun o;
  ParamReader r(config.Section(""), "config");
  o.name = r.String("name", default_name);
  o.algo = r.Choice("algo", "bc", {"bc", "crr"});
  o.dataset = r.String("dataset", "");
  o.seed = static_cast<uint64_t>(r.Int("seed", 1, 0, std::numeric_limits<int32_t>::max()));
  o.updates = r.Int("updates", o.updates, 1, int64_t{1} << 40);
  o.torch_threads = static_cast<int>(r.Int("torch_threads", o.torch_threads, 1, 256));
  r.Finish();
  if (o.dataset.empty()) {
    throw std::invalid_argument(config.origin() +
                                ": key 'dataset': expected the directory of a dataset (rimlab "
                                "collect --out DIR), e.g. dataset=datasets/pickup");
  }
  ParamReader l(config.Section("log"), "section 'log'");
  o.log_every = l.Int("log_every", o.log_every, 1, int64_t{1} << 40);
  o.checkpoint_updates = l.Int("checkpoint_updates", o.checkpoint_updates, 1, int64_t{1} << 40);
  o.keep_checkpoints = static_cast<int>(l.Int("keep_checkpoints", o.keep_checkpoints, 0, 1000000));
  o.tensorboard = l.Bool("tensorboard", o.tensorboard);
  l.Finish();
  return o;
}

/// Every episode of the dataset in memory, checked against the env's spaces first.
agents::EpisodeStore LoadDataset(const std::string& dir, const EnvSpec& spec) {
  const minari::Reader reader(dir);
  reader.CheckMatches(spec);
  agents::EpisodeStore store(spec.observation, spec.action.num_actions);
  for (int64_t id = 0; id < reader.total_episodes(); ++id) {
    minari::Episode e = reader.Read(id, spec.observation);
    agents::StoredEpisode s;
    s.observations = std::move(e.observations);
    s.actions = std::move(e.actions);
    s.rewards.assign(e.rewards.begin(), e.rewards.end());
    s.terminations = std::move(e.terminations);
    try {
      store.Add(std::move(s));
    } catch (const std::invalid_argument& err) {
      throw std::invalid_argument(reader.file() + ": " + err.what());
    }
  }
  if (store.num_episodes() == 0) throw std::invalid_argument(reader.file() + ": no episodes");
  return store;
}

torch::Tensor Int64Tensor(int64_t v) {
  return torch::tensor({v}, torch::kInt64);
}

torch::Tensor TextTensor(const std::string& s) {
  return torch::from_blob(const_cast<char*>(s.data()), {static_cast<int64_t>(s.size())},
                          torch::kUInt8)
      .clone();
}

std::string TensorText(const torch::Tensor& t) {
  const auto c = t.contiguous();
  return std::string(static_cast<const char*>(c.data_ptr()), static_cast<size_t>(c.numel()));
}

struct OfflineState {
  int64_t update = 0, frames = 0;
  double seconds = 0.0;
};

std::string Save(agents::ActorCritic& model, OfflineLearner& learner,
                 const agents::EpisodeSampler& sampler, const OfflineState& st,
                 const std::string& dir) {
  std::filesystem::create_directories(dir);
  char name[64];
  std::snprintf(name, sizeof(name), "ckpt_%012lld.pt", static_cast<long long>(st.update));
  const std::string path = dir + "/" + name;
  torch::serialize::OutputArchive archive, model_archive, optimizer_archive;
  model->save(model_archive);
  archive.write("model", model_archive);
  learner.optimizer().save(optimizer_archive);
  archive.write("optimizer", optimizer_archive);
  if (learner.target() != nullptr) {
    torch::serialize::OutputArchive target_archive;
    (*learner.target())->save(target_archive);
    archive.write("target", target_archive);
  }
  archive.write("update", Int64Tensor(st.update));
  archive.write("frames", Int64Tensor(st.frames));
  archive.write("seconds", torch::tensor({st.seconds}, torch::kFloat64));
  archive.write("sampler", TextTensor(sampler.Save()));
  archive.write("torch_rng", GetTorchRngState());
  archive.save_to(path + ".tmp");
  std::filesystem::rename(path + ".tmp", path);
  return path;
}

void Load(const std::string& path, agents::ActorCritic& model, OfflineLearner& learner,
          agents::EpisodeSampler* sampler, OfflineState* st) {
  try {
    torch::serialize::InputArchive archive, model_archive, optimizer_archive;
    archive.load_from(path);
    archive.read("model", model_archive);
    model->load(model_archive);
    archive.read("optimizer", optimizer_archive);
    learner.optimizer().load(optimizer_archive);
    if (learner.target() != nullptr) {
      torch::serialize::InputArchive target_archive;
      archive.read("target", target_archive);
      (*learner.target())->load(target_archive);
    }
    // A fresh tensor for each entry: reading into one already holding a value resizes its
    // storage, which a loaded tensor's is not.
    const auto get = [&archive](const char* key) {
      torch::Tensor t;
      archive.read(key, t);
      return t;
    };
    st->update = get("update").item<int64_t>();
    st->frames = get("frames").item<int64_t>();
    st->seconds = get("seconds").item<double>();
    sampler->Load(TensorText(get("sampler")));
    SetTorchRngState(get("torch_rng"));
  } catch (const c10::Error& e) {
    throw std::runtime_error(path + ": not a checkpoint of this run (" +
                             std::string(e.what_without_backtrace()) + ")");
  }
}

}  // namespace

bool IsOfflineConfig(const Config& config) {
  const Param* algo = config.Section("").Find("algo");
  return algo != nullptr && std::holds_alternative<std::string>(algo->value) &&
         (std::get<std::string>(algo->value) == "bc" ||
          std::get<std::string>(algo->value) == "crr");
}

int TrainOffline(Config config, const TrainArgs& args) {
  const bool resuming = !args.resume.empty();
  const OfflineRun run = OfflineRunFrom(config, StemOf(args.config));
  config.CheckSections({"env", "pool", "model", "core", run.algo, "log", "eval"});
  const EnvConfig env_config = EnvConfigFrom(config);
  const PoolOptions pool_options = PoolOptionsFrom(config);
  const EvalOptions eval = EvalOptionsFrom(config);
  for (const auto& split : eval.splits) env_config.WithSplit(split);
  torch::set_num_threads(run.torch_threads);
  torch::manual_seed(run.seed);

  const auto env = env_config.Make();
  const agents::EpisodeStore store = LoadDataset(run.dataset, env->Spec());
  agents::ActorCritic model = BuildModel(config, env->Spec());
  OfflineLearner learner(run.algo, config, model);
  agents::EpisodeSampler sampler(store.num_episodes(), learner.batch_episodes(), run.seed);
  OfflineState st;

  std::string dir;
  std::unique_ptr<MetricsCsv> csv;
  if (resuming) {
    dir = args.resume;
    const auto found = ListCheckpoints(dir + "/checkpoints");
    if (found.empty()) {
      throw std::invalid_argument(dir + ": nothing to resume, no checkpoints in " + dir +
                                  "/checkpoints");
    }
    Load(found.back(), model, learner, &sampler, &st);
    std::printf("resuming %s from %s (update %lld)\n", dir.c_str(), found.back().c_str(),
                static_cast<long long>(st.update));
    csv = std::make_unique<MetricsCsv>(dir + "/metrics.csv", kColumns, MetricsCsv::Mode::kResume,
                                       st.update);
    if (run.tensorboard) ReplaceTensorBoardFiles(dir + "/tb", st.update);
  } else {
    dir = CreateRunDir(args.runs_dir, run.name);
    WriteFileAtomic(dir + "/config.yaml", config.ToYaml());
    csv = std::make_unique<MetricsCsv>(dir + "/metrics.csv", kColumns, MetricsCsv::Mode::kCreate);
  }
  std::unique_ptr<TensorBoardWriter> tb;
  if (run.tensorboard) tb = std::make_unique<TensorBoardWriter>(dir + "/tb");
  std::printf(
      "run directory: %s\n%s on %s: %lld episodes, %lld steps; %s; %lld updates of %lld "
      "episodes\n",
      dir.c_str(), run.algo.c_str(), run.dataset.c_str(),
      static_cast<long long>(store.num_episodes()), static_cast<long long>(store.total_steps()),
      model->Describe().c_str(), static_cast<long long>(run.updates),
      static_cast<long long>(learner.batch_episodes()));
  std::fflush(stdout);

  std::string last_checkpoint;
  if (resuming) last_checkpoint = ListCheckpoints(dir + "/checkpoints").back();
  StopSignalScope signals;
  bool interrupted = false;
  std::vector<double> sums(OfflineStats().Values().size(), 0.0);
  int64_t window = 0;
  bool checkpoint_due = false;
  while (st.update < run.updates) {
    const auto start = std::chrono::steady_clock::now();
    const OfflineStats s =
        learner.Update(agents::MakeEpisodeBatch(store, sampler.Next()), st.update + 1);
    st.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ++st.update;
    st.frames += s.steps;
    if (!std::isfinite(s.policy_loss) ||
        (learner.target() != nullptr && !std::isfinite(s.critic_loss))) {
      std::fprintf(stderr,
                   "rimlab: failed: non-finite loss at update %lld. Stopped without saving; the "
                   "last good checkpoint is %s\n",
                   static_cast<long long>(st.update),
                   last_checkpoint.empty() ? "(none yet)" : last_checkpoint.c_str());
      return 1;
    }
    const auto values = s.Values();
    for (size_t i = 0; i < sums.size(); ++i) sums[i] += values[i];
    ++window;
    const bool last = st.update == run.updates;
    if (st.update % run.log_every == 0 || last) {
      std::vector<double> row = {static_cast<double>(st.update), static_cast<double>(st.frames),
                                 st.seconds};
      for (double v : sums) row.push_back(v / static_cast<double>(window));
      row.push_back(learner.lr());
      csv->Write(row);
      // row: update, frames, seconds, policy_loss, critic_loss, nll, accuracy, entropy, q_mean,
      // weight_mean, grad_norm, learning_rate
      if (tb) {
        std::vector<std::pair<std::string, double>> scalars = {
            {"losses/policy_loss", row[3]}, {"losses/nll", row[5]},
            {"losses/entropy", row[7]},     {"losses/grad_norm", row[10]},
            {"charts/accuracy", row[6]},    {"charts/learning_rate", row[11]}};
        if (!std::isnan(row[4])) {
          scalars.push_back({"losses/critic_loss", row[4]});
          scalars.push_back({"losses/q_values", row[8]});
          scalars.push_back({"charts/weight_mean", row[9]});
        }
        tb->AddScalars(st.update, scalars);
        tb->Flush();
      }
      std::printf("update %lld/%lld  frames %lld  policy %.4f", static_cast<long long>(st.update),
                  static_cast<long long>(run.updates), static_cast<long long>(st.frames), row[3]);
      if (!std::isnan(row[4]))
        std::printf("  critic %.4f  q %.3f  weight %.3f", row[4], row[8], row[9]);
      std::printf("  nll %.4f  accuracy %.3f  entropy %.3f  %.1f s\n", row[5], row[6], row[7],
                  st.seconds);
      std::fflush(stdout);
      std::fill(sums.begin(), sums.end(), 0.0);
      window = 0;
    }
    // Checkpoints and stops fall on log rows, so a resumed run's rows continue the same windows.
    if (st.update % run.checkpoint_updates == 0) checkpoint_due = true;
    const bool stop =
        StopRequested() || (args.stop_after_frames > 0 && st.frames >= args.stop_after_frames);
    if (window == 0 && (checkpoint_due || last || stop)) {
      last_checkpoint = Save(model, learner, sampler, st, dir + "/checkpoints");
      PruneCheckpoints(dir + "/checkpoints", run.keep_checkpoints);
      checkpoint_due = false;
    }
    if (stop && !last && window == 0) {
      interrupted = true;
      break;
    }
  }
  if (tb) tb->Flush();
  if (interrupted) {
    std::printf("stopped at update %lld; checkpoint %s\nresume with: rimlab train --resume %s\n",
                static_cast<long long>(st.update), last_checkpoint.c_str(), dir.c_str());
    return StopRequested() ? 130 : 0;
  }
  std::printf("done: %lld updates, %lld frames in %.1f s; checkpoint %s\n",
              static_cast<long long>(st.update), static_cast<long long>(st.frames), st.seconds,
              last_checkpoint.c_str());
  RunFinalEvaluation(model, env_config, pool_options, eval, run.seed, last_checkpoint, dir);
  return 0;
}

}  // namespace rimlab
