#include "runners/cli/compare_predict.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include "data/balls_file.h"
#include "predict/frame_predictor.h"
#include "predict/prediction_eval.h"
#include "predict/prediction_trainer.h"
#include "predict/sequence_store.h"
#include "runners/cli/balls_data.h"
#include "runners/cli/train_predict.h"
#include "runners/train/checkpoint.h"

namespace rimlab {

namespace fs = std::filesystem;

namespace {

/// Sequences whose lit pixels estimate the mean frame: at 64 x 64 and 51 frames, 200 of them
/// count 42M pixels, far more than the third digit needs.
constexpr int64_t kDensitySequences = 200;

struct Protocol {
  std::string split;
  int burn_in = 15, rollout = 35;
  predict::Feedback feedback = predict::Feedback::kProbabilities;
};

Protocol ProtocolOf(const Config& config) {
  ParamReader r(config.Section("eval"), "section 'eval'");
  Protocol p;
  p.split = r.String("split", "test");
  p.burn_in = static_cast<int>(r.Int("burn_in", 15, 1, 100000));
  p.rollout = static_cast<int>(r.Int("rollout", 35, 1, 100000));
  p.feedback = r.Choice("feedback", "probabilities", {"probabilities", "binary"}) == "binary"
                   ? predict::Feedback::kBinary
                   : predict::Feedback::kProbabilities;
  return p;
}

study::SplitScore ScoreOf(const std::string& file, const predict::RolloutCurve& curve) {
  study::SplitScore s;
  s.split = DataSplitLabel(file);
  s.episodes = static_cast<int>(curve.sequences);
  s.score = curve.Average();
  const double h = curve.AverageCi95();
  s.low = s.score - h;
  s.high = s.score + h;
  s.per_step = curve.mean;
  return s;
}

std::string DataFile(const Config& config) {
  const Param* p = config.Section("data").Find("file");
  if (p == nullptr || !std::holds_alternative<std::string>(p->value)) return "";
  return std::get<std::string>(p->value);
}

}  // namespace

bool IsPredictionConfig(const Config& config) {
  const Param* task = config.Section("").Find("task");
  return task != nullptr && std::holds_alternative<std::string>(task->value) &&
         std::get<std::string>(task->value) == "predict";
}

TrainPlan PlanPrediction(const Config& config) {
  const auto model_options =
      predict::FramePredictorOptionsFrom(config.Section("model"), config.Section("core"));
  ParamReader root(config.Section(""), "config");
  const int64_t seed = root.Int("seed", 1, 0, 2147483647);
  const auto train = predict::PredictionTrainOptionsFrom(config.Section("train"), seed);
  ProtocolOf(config);
  predict::FramePredictor model(model_options);
  TrainPlan plan;
  plan.parameters = model->NumParameters();
  plan.frames_per_iteration = train.batch_size;
  plan.total_frames = train.updates * train.batch_size;
  plan.model = model_options.core.type + " core (" + std::to_string(model->CoreParameters()) +
               " parameters) between the frame encoder and decoder, " +
               std::to_string(plan.parameters) + " parameters in all, " +
               std::to_string(train.updates) + " updates of " + std::to_string(train.batch_size) +
               " sequences";
  plan.rim = false;  // the unit analysis reads what an agent sees; a predictor has no agent
  return plan;
}

std::vector<std::string> PredictionEvalFiles(const Config& config) {
  ParamReader r(config.Section("eval"), "section 'eval'");
  std::vector<std::string> files = r.StringList("files", {});
  if (files.empty() && !DataFile(config).empty()) files.push_back(DataFile(config));
  return files;
}

std::string DataSplitLabel(const std::string& file) {
  return fs::path(file).stem().string();
}

void EnsureStudyDatasets(const StudyFile& study, const std::string& study_dir) {
  bool missing = false;
  for (const auto& d : study.datasets) missing = missing || !fs::exists(d.file);
  if (!missing) return;
  fs::create_directories(study_dir);
  const std::string lock_path = study_dir + "/.datasets.lock";
  const int lock = open(lock_path.c_str(), O_RDWR | O_CREAT, 0644);
  if (lock < 0 || flock(lock, LOCK_EX) != 0) {
    throw std::runtime_error("cannot lock " + lock_path + " to make the study's datasets");
  }
  try {
    for (const auto& d : study.datasets) {
      if (fs::exists(d.file)) continue;  // made by another cell while this one waited
      BallsDataArgs a;
      a.variant = d.variant;
      a.sequences = d.sequences;
      a.validation = d.validation;
      a.test = d.test;
      a.frames = d.frames;
      a.seed = static_cast<uint64_t>(d.seed);
      a.out = d.file + ".partial";
      a.force = true;
      std::printf("making %s (%s: balls-data --variant %s --sequences %lld)\n", d.file.c_str(),
                  d.where.c_str(), d.variant.c_str(), static_cast<long long>(d.sequences));
      std::fflush(stdout);
      CmdBallsData(a);
      fs::rename(a.out, d.file);
    }
  } catch (...) {
    close(lock);
    throw;
  }
  close(lock);
}

int TrainPredictionCell(const Config& config, const std::string& base, const std::string& runs_dir,
                        const std::string& resume_dir) {
  TrainArgs args;
  if (!resume_dir.empty()) {
    args.resume = resume_dir;
    args.config = resume_dir + "/config.yaml";
    return TrainPrediction(Config::Load(args.config), args);
  }
  args.config = base;
  args.runs_dir = runs_dir;
  return TrainPrediction(config, args);
}

std::vector<study::SplitScore> EvaluatePredictionRun(const std::string& dir,
                                                     const std::vector<std::string>& files,
                                                     int64_t sequences) {
  const Config config = Config::Load(dir + "/config.yaml");
  const auto checkpoints = ListCheckpoints(dir + "/checkpoints");
  if (checkpoints.empty()) throw std::runtime_error(dir + ": no checkpoints to evaluate");
  predict::FramePredictor model(
      predict::FramePredictorOptionsFrom(config.Section("model"), config.Section("core")));
  predict::LoadPredictorWeights(model, checkpoints.back());
  const Protocol p = ProtocolOf(config);
  std::vector<study::SplitScore> out;
  for (const auto& f : files) {
    const auto store = predict::SequenceStore::Load(f, p.split, 0, p.burn_in + p.rollout);
    const int64_t n = std::min<int64_t>(sequences, store.count());
    out.push_back(
        ScoreOf(f, predict::RolloutBce(model, store, n, p.burn_in, p.rollout, 50, p.feedback)));
  }
  return out;
}

std::map<std::string, study::SplitScore> MeanFrameScores(const Config& config,
                                                         const std::vector<std::string>& files,
                                                         int64_t sequences) {
  const Protocol p = ProtocolOf(config);
  const std::string train_file = DataFile(config);
  const int64_t count =
      std::min<int64_t>(kDensitySequences, BallsFile::Open(train_file).Count("training"));
  const auto train =
      predict::SequenceStore::Load(train_file, "training", count, p.burn_in + p.rollout);
  const double density = predict::MeanDensity(train);
  std::map<std::string, study::SplitScore> out;
  for (const auto& f : files) {
    const auto store = predict::SequenceStore::Load(f, p.split, 0, p.burn_in + p.rollout);
    const int64_t n = std::min<int64_t>(sequences, store.count());
    out[DataSplitLabel(f)] =
        ScoreOf(f, predict::ConstantRollout(store, density, n, p.burn_in, p.rollout));
  }
  return out;
}

}  // namespace rimlab
