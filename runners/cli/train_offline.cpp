// `rimlab train` for the offline algorithms (algo: bc): learns from a recorded Minari dataset
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

const std::vector<std::string> kColumns = {"update",   "frames",  "seconds",   "nll",
                                           "accuracy", "entropy", "grad_norm", "learning_rate"};

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
  o.algo = r.Choice("algo", "bc", {"bc"});
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

std::string Save(agents::ActorCritic& model, agents::BehaviourCloning& bc,
                 const agents::EpisodeSampler& sampler, const OfflineState& st,
                 const std::string& dir) {
  std::filesystem::create_directories(dir);
  char name[64];
  std::snprintf(name, sizeof(name), "ckpt_%012lld.pt", static_cast<long long>(st.update));
  const std::string path = dir + "/" + name;
  torch::serialize::OutputArchive archive, model_archive, optimizer_archive;
  model->save(model_archive);
  archive.write("model", model_archive);
  bc.optimizer().save(optimizer_archive);
  archive.write("optimizer", optimizer_archive);
  archive.write("update", Int64Tensor(st.update));
  archive.write("frames", Int64Tensor(st.frames));
  archive.write("seconds", torch::tensor({st.seconds}, torch::kFloat64));
  archive.write("sampler", TextTensor(sampler.Save()));
  archive.write("torch_rng", GetTorchRngState());
  archive.save_to(path + ".tmp");
  std::filesystem::rename(path + ".tmp", path);
  return path;
}

void Load(const std::string& path, agents::ActorCritic& model, agents::BehaviourCloning& bc,
          agents::EpisodeSampler* sampler, OfflineState* st) {
  try {
    torch::serialize::InputArchive archive, model_archive, optimizer_archive;
    archive.load_from(path);
    archive.read("model", model_archive);
    model->load(model_archive);
    archive.read("optimizer", optimizer_archive);
    bc.optimizer().load(optimizer_archive);
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
         std::get<std::string>(algo->value) == "bc";
}

int TrainOffline(Config config, const TrainArgs& args) {
  const bool resuming = !args.resume.empty();
  const OfflineRun run = OfflineRunFrom(config, StemOf(args.config));
  config.CheckSections({"env", "pool", "model", "core", run.algo, "log", "eval"});
  const EnvConfig env_config = EnvConfigFrom(config);
  const PoolOptions pool_options = PoolOptionsFrom(config);
  const EvalOptions eval = EvalOptionsFrom(config);
  const agents::BcConfig bc_config = agents::BcConfigFromParams(config.Section(run.algo));
  for (const auto& split : eval.splits) env_config.WithSplit(split);
  torch::set_num_threads(run.torch_threads);
  torch::manual_seed(run.seed);

  const auto env = env_config.Make();
  const agents::EpisodeStore store = LoadDataset(run.dataset, env->Spec());
  agents::ActorCritic model = BuildModel(config, env->Spec());
  agents::BehaviourCloning bc(model, bc_config);
  agents::EpisodeSampler sampler(store.num_episodes(), bc_config.batch_episodes, run.seed);
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
    Load(found.back(), model, bc, &sampler, &st);
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
      static_cast<long long>(bc_config.batch_episodes));
  std::fflush(stdout);

  std::string last_checkpoint;
  if (resuming) last_checkpoint = ListCheckpoints(dir + "/checkpoints").back();
  StopSignalScope signals;
  bool interrupted = false;
  double nll = 0.0, accuracy = 0.0, entropy = 0.0, grad_norm = 0.0;
  int64_t window = 0;
  bool checkpoint_due = false;
  while (st.update < run.updates) {
    const auto start = std::chrono::steady_clock::now();
    const agents::BcStats s = bc.Update(agents::MakeEpisodeBatch(store, sampler.Next()));
    st.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ++st.update;
    st.frames += s.steps;
    if (!std::isfinite(s.nll)) {
      std::fprintf(stderr,
                   "rimlab: failed: non-finite loss at update %lld. Stopped without saving; the "
                   "last good checkpoint is %s\n",
                   static_cast<long long>(st.update),
                   last_checkpoint.empty() ? "(none yet)" : last_checkpoint.c_str());
      return 1;
    }
    nll += s.nll;
    accuracy += s.accuracy;
    entropy += s.entropy;
    grad_norm += s.grad_norm;
    ++window;
    const bool last = st.update == run.updates;
    if (st.update % run.log_every == 0 || last) {
      const double n = static_cast<double>(window);
      csv->Write({static_cast<double>(st.update), static_cast<double>(st.frames), st.seconds,
                  nll / n, accuracy / n, entropy / n, grad_norm / n, bc_config.lr});
      if (tb) {
        tb->AddScalars(st.update, {{"losses/nll", nll / n},
                                   {"losses/entropy", entropy / n},
                                   {"losses/grad_norm", grad_norm / n},
                                   {"charts/accuracy", accuracy / n},
                                   {"charts/learning_rate", bc_config.lr}});
        tb->Flush();
      }
      std::printf("update %lld/%lld  frames %lld  nll %.4f  accuracy %.3f  entropy %.3f  %.1f s\n",
                  static_cast<long long>(st.update), static_cast<long long>(run.updates),
                  static_cast<long long>(st.frames), nll / n, accuracy / n, entropy / n,
                  st.seconds);
      std::fflush(stdout);
      nll = accuracy = entropy = grad_norm = 0.0;
      window = 0;
    }
    // Checkpoints and stops fall on log rows, so a resumed run's rows continue the same windows.
    if (st.update % run.checkpoint_updates == 0) checkpoint_due = true;
    const bool stop =
        StopRequested() || (args.stop_after_frames > 0 && st.frames >= args.stop_after_frames);
    if (window == 0 && (checkpoint_due || last || stop)) {
      last_checkpoint = Save(model, bc, sampler, st, dir + "/checkpoints");
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
