// `rimlab train CONFIG` with `task: predict`: next-frame prediction on bouncing-balls sequences
// (predict/). Keeps the run directory as RL runs do: config.yaml, metrics.csv (one row per
// evaluation), TensorBoard events, checkpoints/ (Ctrl-C or --stop-after-frames, counted in
// sequences, saves one; --resume continues exactly).
#include "runners/cli/train_predict.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <limits>

#include "predict/frame_predictor.h"
#include "predict/prediction_eval.h"
#include "predict/prediction_trainer.h"
#include "predict/sequence_store.h"
#include "runners/run/metrics_csv.h"
#include "runners/run/progress.h"
#include "runners/run/run_dir.h"
#include "runners/run/stop_signal.h"
#include "runners/run/tensorboard.h"
#include "runners/train/checkpoint.h"

namespace rimlab {

namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kColumns = {
    "sequences", "update",    "seconds",           "sequences_per_second",
    "train_bce", "valid_bce", "valid_rollout_bce", "grad_norm"};

struct DataOptions {
  std::string file;
  int64_t sequences = 0;  ///< 0: all of the training split
  int frames = 51;
  int64_t validation_sequences = 100;
};

struct LogOptions {
  int64_t eval_every = 100;
  int64_t checkpoint_every = 500;
  int keep_checkpoints = 3;
  bool tensorboard = true;
  double progress_seconds = 10.0;
};

/// An error about `section.key`, placed where the value came from (file and line).
OptionError KeyError(const Config& config, const std::string& section, const std::string& key,
                     const std::string& message) {
  const Param* p = config.Section(section).Find(key);
  return OptionError(p != nullptr ? p->where : config.origin(), section + "." + key, message);
}

DataOptions DataOptionsFrom(const Config& config) {
  ParamReader r(config.Section("data"), "section 'data'");
  DataOptions o;
  o.file = r.String("file", "");
  o.sequences = r.Int("sequences", o.sequences, 0, int64_t{1} << 40);
  o.frames = static_cast<int>(r.Int("frames", o.frames, 2, 100000));
  o.validation_sequences = r.Int("validation_sequences", o.validation_sequences, 0, 1 << 30);
  r.Finish();
  if (o.file.empty()) {
    throw KeyError(config, "data", "file",
                   "required: an HDF5 file of sequences (make one with rimlab balls-data "
                   "--variant 4 --out datasets/balls4.h5)");
  }
  if (!fs::exists(o.file)) {
    throw KeyError(config, "data", "file",
                   o.file +
                       " does not exist; make it with rimlab balls-data --variant 4 "
                       "--sequences 2000 --out " +
                       o.file);
  }
  return o;
}

LogOptions LogOptionsFrom(const Config& config) {
  ParamReader r(config.Section("log"), "section 'log'");
  LogOptions o;
  o.eval_every = r.Int("eval_every", o.eval_every, 1, int64_t{1} << 40);
  o.checkpoint_every = r.Int("checkpoint_every", o.checkpoint_every, 1, int64_t{1} << 40);
  o.keep_checkpoints = static_cast<int>(r.Int("keep_checkpoints", o.keep_checkpoints, 0, 1 << 20));
  o.tensorboard = r.Bool("tensorboard", o.tensorboard);
  o.progress_seconds = r.Float("progress_seconds", o.progress_seconds, 0.0, 1e6);
  r.Finish();
  return o;
}

/// ckpt_<update, 12 digits>.pt, the name ListCheckpoints sorts.
std::string CheckpointPath(const std::string& dir, int64_t update) {
  char name[64];
  std::snprintf(name, sizeof(name), "ckpt_%012lld.pt", static_cast<long long>(update));
  return dir + "/" + name;
}

}  // namespace

bool IsPredictionRun(const std::string& path) {
  std::error_code ec;
  fs::path dir =
      fs::is_directory(path, ec) ? fs::path(path) : fs::path(path).parent_path().parent_path();
  const fs::path config = dir / "config.yaml";
  if (!fs::exists(config, ec)) return false;
  try {
    const Config c = Config::Load(config.string());
    const Param* task = c.Section("").Find("task");
    return task != nullptr && std::holds_alternative<std::string>(task->value) &&
           std::get<std::string>(task->value) == "predict";
  } catch (const std::exception&) {
    return false;
  }
}

int TrainPrediction(Config config, const TrainArgs& args) {
  const bool resuming = !args.resume.empty();
  config.CheckSections({"data", "model", "core", "train", "log", "eval"});
  ParamReader root(config.Section(""), "config");
  root.String("task", "predict");
  const std::string name = root.String("name", StemOf(args.config));
  const int64_t seed = root.Int("seed", 1, 0, std::numeric_limits<int32_t>::max());
  const int threads = static_cast<int>(root.Int("torch_threads", 1, 1, 256));
  root.Finish();
  const DataOptions data_options = DataOptionsFrom(config);
  const LogOptions log = LogOptionsFrom(config);
  const predict::FramePredictorOptions model_options =
      predict::FramePredictorOptionsFrom(config.Section("model"), config.Section("core"));
  const predict::PredictionTrainOptions train_options =
      predict::PredictionTrainOptionsFrom(config.Section("train"), seed);
  {
    // Read now so that a typo in eval fails before an hour of training, not after.
    ParamReader r(config.Section("eval"), "section 'eval'");
    r.StringList("files", {});
    r.String("split", "test");
    r.Int("sequences", 500, 1, 1 << 30);
    r.Int("burn_in", 15, 1, 100000);
    r.Int("rollout", 35, 1, 100000);
    r.Choice("feedback", "probabilities", {"probabilities", "binary"});
    r.Finish();
  }

  torch::set_num_threads(threads);
  torch::manual_seed(static_cast<uint64_t>(seed));
  std::printf("loading %s ...\n", data_options.file.c_str());
  std::fflush(stdout);
  const predict::SequenceStore train = predict::SequenceStore::Load(
      data_options.file, "training", data_options.sequences, data_options.frames);
  predict::SequenceStore valid;
  if (data_options.validation_sequences > 0) {
    valid = predict::SequenceStore::Load(data_options.file, "validation",
                                         data_options.validation_sequences, data_options.frames);
  }
  if (train.size() != model_options.image_size) {
    throw KeyError(config, "model", "image_size",
                   std::to_string(model_options.image_size) + " but " + data_options.file +
                       " holds " + std::to_string(train.size()) + "x" +
                       std::to_string(train.size()) + " frames");
  }
  predict::FramePredictor model(model_options);
  predict::PredictionTrainer trainer(model, &train, train_options);

  std::string dir;
  std::unique_ptr<MetricsCsv> csv;
  double seconds = 0.0;
  // The running sums of the current logging window, checkpointed so a resumed run logs exactly
  // the rows the uninterrupted run would have.
  double window_bce = 0.0, window_norm = 0.0, last_progress = -1e300;
  int64_t window = 0;
  if (resuming) {
    dir = args.resume;
    const auto checkpoints = ListCheckpoints(dir + "/checkpoints");
    if (checkpoints.empty()) {
      throw std::invalid_argument(dir + ": nothing to resume, no checkpoints in " + dir +
                                  "/checkpoints");
    }
    std::vector<double> window_state;
    seconds = trainer.Load(checkpoints.back(), &window_state);
    if (window_state.size() == 4) {
      window_bce = window_state[0];
      window_norm = window_state[1];
      window = static_cast<int64_t>(window_state[2]);
      last_progress = window_state[3];
    }
    std::printf("resuming %s from %s (update %lld)\n", dir.c_str(), checkpoints.back().c_str(),
                static_cast<long long>(trainer.update()));
    csv = std::make_unique<MetricsCsv>(dir + "/metrics.csv", kColumns, MetricsCsv::Mode::kResume,
                                       trainer.sequences_seen());
    if (log.tensorboard) ReplaceTensorBoardFiles(dir + "/tb", trainer.sequences_seen());
  } else {
    dir = CreateRunDir(args.runs_dir, name);
    WriteFileAtomic(dir + "/config.yaml", config.ToYaml());
    csv = std::make_unique<MetricsCsv>(dir + "/metrics.csv", kColumns, MetricsCsv::Mode::kCreate);
  }
  std::unique_ptr<TensorBoardWriter> tb;
  if (log.tensorboard) tb = std::make_unique<TensorBoardWriter>(dir + "/tb");
  std::printf(
      "run directory: %s\nnext-frame prediction: %s core, %lld parameters (core %lld); %lld "
      "training sequences of %d frames at %dx%d, batch %lld, %lld updates, torch threads %d\n",
      dir.c_str(), model_options.core.type.c_str(), static_cast<long long>(model->NumParameters()),
      static_cast<long long>(model->CoreParameters()), static_cast<long long>(train.count()),
      train.frames(), train.size(), train.size(), static_cast<long long>(train_options.batch_size),
      static_cast<long long>(train_options.updates), threads);
  std::fflush(stdout);

  const std::string ckpt_dir = dir + "/checkpoints";
  std::string last_checkpoint;
  const auto save = [&]() {
    last_checkpoint = CheckpointPath(ckpt_dir, trainer.update());
    trainer.Save(last_checkpoint, seconds,
                 {window_bce, window_norm, static_cast<double>(window), last_progress});
    PruneCheckpoints(ckpt_dir, log.keep_checkpoints);
  };

  StopSignalScope signals;
  bool interrupted = false;
  const int64_t stop_after = args.stop_after_frames;  // in sequences for this task
  while (!trainer.done()) {
    const auto t0 = std::chrono::steady_clock::now();
    const predict::UpdateStats s = trainer.Update();
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!std::isfinite(s.bce)) {
      std::fprintf(stderr,
                   "rimlab: failed: non-finite loss at update %lld; stopped without saving; the "
                   "last good checkpoint is %s\n",
                   static_cast<long long>(s.update),
                   last_checkpoint.empty() ? "(none yet)" : last_checkpoint.c_str());
      return 1;
    }
    window_bce += s.bce;
    window_norm += s.grad_norm;
    ++window;
    const double rate = static_cast<double>(trainer.sequences_seen()) / std::max(seconds, 1e-9);
    if (s.update % log.eval_every == 0 || trainer.done()) {
      double valid_bce = std::numeric_limits<double>::quiet_NaN();
      double rollout_bce = valid_bce;
      if (valid.count() > 0) {
        valid_bce = predict::TeacherForcedBce(model, valid);
        if (valid.frames() >= 50) rollout_bce = predict::RolloutBce(model, valid).Average();
      }
      const double train_bce = window_bce / static_cast<double>(window);
      csv->Write({static_cast<double>(trainer.sequences_seen()), static_cast<double>(s.update),
                  seconds, rate, train_bce, valid_bce, rollout_bce,
                  window_norm / static_cast<double>(window)});
      if (tb) {
        std::vector<std::pair<std::string, double>> scalars = {
            {"losses/train_bce", train_bce},
            {"charts/sequences_per_second", rate},
            {"losses/grad_norm", window_norm / static_cast<double>(window)}};
        if (std::isfinite(valid_bce)) scalars.push_back({"eval/valid_bce", valid_bce});
        if (std::isfinite(rollout_bce)) scalars.push_back({"eval/valid_rollout_bce", rollout_bce});
        tb->AddScalars(trainer.sequences_seen(), scalars);
        tb->Flush();
      }
      window_bce = window_norm = 0.0;
      window = 0;
      if (seconds - last_progress >= log.progress_seconds || trainer.done()) {
        last_progress = seconds;
        const double eta = static_cast<double>(train_options.updates - s.update) * seconds /
                           static_cast<double>(s.update);
        std::printf(
            "update %lld/%lld  seq/s %.1f  train_bce %.2f  valid_bce %.2f  rollout_bce "
            "%.2f  elapsed %s  eta %s\n",
            static_cast<long long>(s.update), static_cast<long long>(train_options.updates), rate,
            train_bce, valid_bce, rollout_bce, FormatDuration(seconds).c_str(),
            FormatDuration(eta).c_str());
        std::fflush(stdout);
      }
    }
    const bool stop = StopRequested() || (stop_after > 0 && trainer.sequences_seen() >= stop_after);
    if (s.update % log.checkpoint_every == 0 || trainer.done() || stop) save();
    if (stop && !trainer.done()) {
      interrupted = true;
      break;
    }
  }
  if (tb) tb->Flush();
  if (interrupted) {
    std::printf("stopped at update %lld; checkpoint %s\nresume with: rimlab train --resume %s\n",
                static_cast<long long>(trainer.update()), last_checkpoint.c_str(), dir.c_str());
    return StopRequested() ? 130 : 0;
  }
  std::printf("done: %lld updates in %s; checkpoint %s\nevaluate with: rimlab eval %s\n",
              static_cast<long long>(trainer.update()), FormatDuration(seconds).c_str(),
              last_checkpoint.c_str(), dir.c_str());
  return 0;
}

}  // namespace rimlab
