// `rimlab compare STUDY.yaml`: a study is a grid of ordinary training runs (cells), one per
// variant and seed, in STUDY_DIR/cells/. The scheduler re-executes this binary with --cell for
// each unfinished cell, so a cell run by hand, by GNU parallel or by a Slurm array does exactly
// what the scheduler does; a killed study picks up from the cells' checkpoints.
#include "runners/cli/compare.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>
#include <utility>

#include "envs/balls/sequences.h"
#include "runners/cli/commands.h"
#include "runners/cli/compare_predict.h"
#include "runners/cli/compare_study.h"
#include "runners/cli/train_rl.h"
#include "runners/config/env_config.h"
#include "runners/config/study_file.h"
#include "runners/run/progress.h"
#include "runners/run/run_dir.h"
#include "runners/study/plots.h"
#include "runners/study/report.h"
#include "runners/study/results.h"
#include "runners/study/scheduler.h"
#include "runners/study/units.h"
#include "runners/train/checkpoint.h"
#include "runners/train/evaluate.h"
#include "runners/train/policy.h"
#include "runners/train/unit_activity.h"

namespace rimlab {

namespace fs = std::filesystem;

using compare::kCellResultFile;
using compare::kUnitsFile;
using compare::Label;
using compare::ReadFile;
using compare::Study;

namespace {

/// Builds every variant's env, model and algorithm once, so that a bad override, split or budget
/// fails before any cell starts, and reports the parameter counts.
void CheckVariants(Study* study) {
  const StudyFile& s = study->file;
  for (const auto& d : s.datasets) {
    try {
      balls::SequenceVariantByName(d.variant);
    } catch (const std::invalid_argument& e) {
      throw ConfigError(d.where + ": key 'variant': " + e.what());
    }
  }
  for (size_t v = 0; v < s.variants.size(); ++v) {
    const bool predict =
        IsPredictionConfig(Config::Load(s.variants[v].base.empty() ? s.base : s.variants[v].base));
    if (v == 0) {
      study->metric = predict ? study::Metric::kRolloutBce : study::Metric::kSuccess;
    } else if (predict != (study->metric == study::Metric::kRolloutBce)) {
      throw ConfigError(s.variants[v].where + ": key 'base': variant '" + s.variants[v].name +
                        "' is " + (predict ? "a prediction" : "an RL") +
                        " config and the first variant is not; a study compares one kind");
    }
    if (predict && s.total_frames > 0) {
      throw ConfigError(s.total_frames_where +
                        ": key 'total_frames': a prediction study's budget is 'updates' "
                        "(Adam steps per cell), not frames");
    }
    if (!predict && s.updates > 0) {
      throw ConfigError(s.updates_where +
                        ": key 'updates': an RL study's budget is 'total_frames'; 'updates' is "
                        "for prediction studies");
    }
    StudyCell cell{s.variants[v].name + "-check", static_cast<int>(v), s.seeds.front()};
    Config c = s.CellConfig(cell);
    if (predict) {
      study->plans.push_back(PlanPrediction(c));
      study->analyse_units.push_back(false);
      if (v > 0) continue;
      study->data_files = PredictionEvalFiles(c);
      if (study->data_files.empty()) {
        throw ConfigError(s.base + ": key 'eval.files': a prediction study needs data files");
      }
      for (const auto& f : study->data_files) study->splits.push_back(DataSplitLabel(f));
      if (!s.splits.empty()) {
        std::vector<std::string> files;
        for (const auto& split : s.splits) {
          auto it = std::find(study->splits.begin(), study->splits.end(), split);
          if (it == study->splits.end()) {
            std::string known;
            for (const auto& k : study->splits) known += (known.empty() ? "" : ", ") + k;
            throw ConfigError(s.path + ": key 'splits': no data file '" + split +
                              "' in the base config's eval.files (" + known + ")");
          }
          files.push_back(study->data_files[static_cast<size_t>(it - study->splits.begin())]);
        }
        study->data_files = files;
        study->splits = s.splits;
      }
      continue;
    }
    if (const Param* task = c.Section("").Find("task")) {
      if (ParamToString(task->value) != "\"rl\"" && ParamToString(task->value) != "rl") {
        throw ConfigError(task->where + ": key 'task': compare trains RL policies (task rl), got " +
                          ParamToString(task->value));
      }
    }
    c.MutableSection("")->Erase("task");
    TrainPlan plan;
    TrainArgs args;
    args.config = s.base;
    args.plan = &plan;
    TrainOnPolicy(c, args);
    if (s.total_frames > 0 && s.total_frames < plan.frames_per_iteration) {
      throw ConfigError(s.total_frames_where +
                        ": key 'total_frames': " + std::to_string(s.total_frames) +
                        " frames is less than one iteration of "
                        "variant '" +
                        s.variants[v].name + "' (" + std::to_string(plan.frames_per_iteration) +
                        " frames: the envs times the steps per rollout)");
    }
    const EnvConfig env = EnvConfigFrom(c);
    if (v == 0) {
      study->splits = s.splits;
      if (study->splits.empty()) study->splits = env.Splits();
      if (study->splits.empty()) study->splits.push_back("");
    }
    for (const auto& split : study->splits) {
      if (split.empty()) continue;
      try {
        env.WithSplit(split);
      } catch (const std::invalid_argument& e) {
        throw ConfigError(s.path + ": key 'splits': " + e.what());
      }
    }
    study->plans.push_back(plan);
    study->analyse_units.push_back(s.unit_episodes > 0 && plan.rim &&
                                   (HasGridView(env) || HasBallsView(env)));
  }
}

/// The study directory remembers the study file it was made by; a different file gets an error
/// instead of mixing its cells with the earlier study's.
void GuardStudyDir(const Study& study) {
  fs::create_directories(study.dir + "/cells");
  fs::create_directories(study.dir + "/logs");
  const std::string copy = study.dir + "/study.yaml";
  std::string text = ReadFile(study.file.path);
  if (!study.flags.empty()) {
    text += "\n# and on the command line:";
    for (const auto& [flag, value] : study.flags) text += " " + flag + " " + value;
    text += "\n";
  }
  if (fs::exists(copy)) {
    if (ReadFile(copy) != text) {
      throw std::invalid_argument(
          study.dir +
          " holds a study made from another study file or other --frames, --seeds "
          "or --episodes (" +
          copy + " differs from " + study.file.path + "): give another --out, or delete " +
          study.dir + " to start over");
    }
    return;
  }
  WriteFileAtomic(copy, text);
}

/// The last complete row's frame count of a run's metrics.csv (0 when none).
long long LastFrames(const std::string& metrics_csv) {
  const std::string text = ReadFile(metrics_csv);
  size_t end = text.rfind('\n');
  if (end == std::string::npos || end == 0) return 0;
  size_t begin = text.rfind('\n', end - 1);
  begin = begin == std::string::npos ? 0 : begin + 1;
  try {
    return std::stoll(text.substr(begin, text.find(',', begin) - begin));
  } catch (const std::exception&) {
    return 0;
  }
}

long long FramesOfCheckpoint(const std::string& path) {
  const std::string stem = fs::path(path).stem().string();  // ckpt_000002000896
  const auto underscore = stem.rfind('_');
  try {
    return std::stoll(stem.substr(underscore + 1));
  } catch (const std::exception&) {
    return 0;
  }
}

const StudyCell& FindCell(const std::vector<StudyCell>& cells, const std::string& id,
                          const std::string& path) {
  for (const auto& c : cells) {
    if (c.id == id) return c;
  }
  std::string list;
  for (const auto& c : cells) list += (list.empty() ? "" : ", ") + c.id;
  throw std::invalid_argument(path + ": no cell '" + id + "' (cells: " + list + ")");
}

/// Finished: evaluated, and for a RIM variant its units analysed.
bool CellFinished(const Study& study, const StudyCell& cell) {
  const std::string dir = study.dir + "/cells/" + cell.id;
  return fs::exists(dir + "/" + kCellResultFile) &&
         (!study.analyse_units[static_cast<size_t>(cell.variant)] ||
          fs::exists(dir + "/" + kUnitsFile));
}

/// cells/ID/units.json: the units' activity against what the agent sees, on the first split.
void WriteUnits(const Study& study, const StudyCell& cell, const TrainedPolicy& policy) {
  const std::string split = study.splits.front();
  const EnvConfig base = EnvConfigFrom(policy.config);
  const EnvConfig env = split.empty() ? base : base.WithSplit(split);
  const uint64_t seed = static_cast<uint64_t>(cell.seed) * 7919ULL + 2000003ULL;
  study::UnitAnalysis a = study::AnalyseUnits(
      CollectUnitSteps(policy, env, study.file.unit_episodes, study.file.greedy, seed));
  a.cell = cell.id;
  a.split = Label(split);
  WriteFileAtomic(study.dir + "/cells/" + cell.id + "/" + kUnitsFile, study::UnitAnalysisJson(a));
  std::printf("cell %s: units analysed over %d episodes (%lld steps)\n", cell.id.c_str(),
              a.episodes, static_cast<long long>(a.steps));
}

/// A prediction cell: trains (or resumes) it and scores it on every data file.
int RunPredictionCell(const Study& study, const StudyCell& cell, const std::string& dir) {
  EnsureStudyDatasets(study.file, study.dir);
  const bool resume = !ListCheckpoints(dir + "/checkpoints").empty();
  if (!resume && fs::exists(dir)) fs::remove_all(dir);
  const int rc = TrainPredictionCell(study.file.CellConfig(cell), study.file.base,
                                     study.dir + "/cells", resume ? dir : "");
  if (rc != 0) return rc;
  study::CellResult result;
  result.metric = study.metric;
  result.id = cell.id;
  result.variant = study.file.variants[static_cast<size_t>(cell.variant)].name;
  result.seed = cell.seed;
  result.frames = LastFrames(dir + "/metrics.csv");  // sequences seen
  const auto checkpoints = ListCheckpoints(dir + "/checkpoints");
  result.checkpoint = checkpoints.empty() ? "" : checkpoints.back();
  result.splits = EvaluatePredictionRun(dir, study.data_files, study.file.episodes);
  std::printf("cell %s, rollout BCE per frame:", cell.id.c_str());
  for (const auto& s : result.splits) std::printf("  %s %.1f", s.split.c_str(), s.score);
  std::printf("\n");
  WriteFileAtomic(dir + "/" + kCellResultFile, study::CellResultJson(result));
  return 0;
}

/// Trains (or resumes) one cell and evaluates it; the result file is written last, so it marks
/// a finished cell.
int RunOneCell(const Study& study, const StudyCell& cell, int threads) {
  const std::string cells = study.dir + "/cells";
  const std::string dir = cells + "/" + cell.id;
  const std::string lock_path = cells + "/." + cell.id + ".lock";
  const int lock = open(lock_path.c_str(), O_RDWR | O_CREAT, 0644);
  if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) != 0) {
    throw std::runtime_error("cell " + cell.id + " is running in another process (" + lock_path +
                             " is locked)");
  }
  if (fs::exists(dir + "/" + kCellResultFile)) {
    // A cell finished before the study asked for its units (or by an older build) gets them now.
    if (!CellFinished(study, cell)) WriteUnits(study, cell, LoadTrainedPolicy(dir));
    std::printf("cell %s: finished earlier (%s/%s)\n", cell.id.c_str(), dir.c_str(),
                kCellResultFile);
    close(lock);
    return 0;
  }
  if (study.metric == study::Metric::kRolloutBce) {
    const int rc = RunPredictionCell(study, cell, dir);
    close(lock);
    return rc;
  }
  int rc = 0;
  if (!ListCheckpoints(dir + "/checkpoints").empty()) {
    TrainArgs args;
    args.resume = dir;
    args.config = dir + "/config.yaml";
    rc = TrainOnPolicy(Config::Load(args.config), args);
  } else {
    // A cell stopped before its first checkpoint has nothing to resume from: start it again.
    if (fs::exists(dir)) fs::remove_all(dir);
    Config c = study.file.CellConfig(cell);
    c.MutableSection("")->Erase("task");
    c.Override("pool.num_threads=" + std::to_string(threads), "rimlab compare");
    c.Override("eval.episodes=0", "rimlab compare");
    TrainArgs args;
    args.config = study.file.base;
    args.runs_dir = cells;
    rc = TrainOnPolicy(c, args);
  }
  if (rc != 0) {
    close(lock);
    return rc;
  }
  const TrainedPolicy policy = LoadTrainedPolicy(dir);
  if (study.analyse_units[static_cast<size_t>(cell.variant)]) WriteUnits(study, cell, policy);
  const auto stats =
      EvaluateTrainedPolicy(policy, study.splits, study.file.episodes, study.file.greedy);
  study::CellResult result;
  result.id = cell.id;
  result.variant = study.file.variants[static_cast<size_t>(cell.variant)].name;
  result.seed = cell.seed;
  result.frames = FramesOfCheckpoint(policy.checkpoint);
  result.checkpoint = policy.checkpoint;
  std::printf("cell %s, %d episodes per split:", cell.id.c_str(), study.file.episodes);
  for (size_t i = 0; i < stats.size(); ++i) {
    const EpisodeStats& st = stats[i];
    result.splits.push_back({Label(study.splits[i]), st.episodes, st.success_rate, st.success_low,
                             st.success_high, st.return_mean, st.return_ci95, st.length_mean});
    std::printf("  %s %.3f", Label(study.splits[i]).c_str(), st.success_rate);
  }
  std::printf("\n");
  WriteFileAtomic(dir + "/" + kCellResultFile, study::CellResultJson(result));
  close(lock);
  return 0;
}

}  // namespace

int CmdCompare(const CompareArgs& args) {
  Study study;
  study.file = LoadStudyFile(args.study);
  if (args.frames > 0) {
    study.file.total_frames = args.frames;
    study.file.total_frames_where = "--frames";
    study.flags.emplace_back("--frames", std::to_string(args.frames));
  }
  if (args.updates > 0) {
    study.file.updates = args.updates;
    study.file.updates_where = "--updates";
    study.flags.emplace_back("--updates", std::to_string(args.updates));
  }
  if (args.seeds > 0) {
    study.file.seeds.clear();
    for (int s = 1; s <= args.seeds; ++s) study.file.seeds.push_back(s);
    study.file.seeds_where = "--seeds";
    study.flags.emplace_back("--seeds", std::to_string(args.seeds));
  }
  if (args.episodes > 0) {
    study.file.episodes = args.episodes;
    study.flags.emplace_back("--episodes", std::to_string(args.episodes));
  }
  study.dir = args.out.empty() ? "studies/" + study.file.name : args.out;
  while (study.dir.size() > 1 && study.dir.back() == '/') study.dir.pop_back();
  const std::vector<StudyCell> cells = study.file.Cells();
  if (args.list_cells) {
    for (const auto& c : cells) std::printf("%s\n", c.id.c_str());
    return 0;
  }
  CheckVariants(&study);
  if (args.check) {
    std::printf("%s: %zu variants x %zu seeds = %zu cells, scored by %s on",
                study.file.path.c_str(), study.file.variants.size(), study.file.seeds.size(),
                cells.size(), study::MetricName(study.metric).c_str());
    for (const auto& split : study.splits) std::printf(" %s", Label(split).c_str());
    std::printf("\n");
    for (size_t v = 0; v < study.plans.size(); ++v) {
      std::printf("  %-12s %s\n", study.file.variants[v].name.c_str(),
                  study.plans[v].model.c_str());
    }
    return 0;
  }
  if (!args.merge.empty()) {
    for (const auto& d : args.merge) {
      if (!fs::is_directory(d + "/cells")) {
        throw std::invalid_argument("--merge: " + d + " is not a study directory (no cells/)");
      }
    }
    return compare::WriteReport(study, args.merge);
  }
  GuardStudyDir(study);
  if (study.metric == study::Metric::kRolloutBce && args.cell.empty()) {
    EnsureStudyDatasets(study.file, study.dir);
  }

  const int cores = std::max(1u, std::thread::hardware_concurrency());
  const int jobs = args.jobs > 0 ? args.jobs : cores;
  const int threads = args.threads > 0 ? args.threads : std::max(1, cores / jobs);
  if (!args.cell.empty()) {
    return RunOneCell(study, FindCell(cells, args.cell, study.file.path), threads);
  }

  int rc = 0;
  if (!args.report_only) {
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<study::CellJob> pending;
    int done = 0;
    const std::string self = study::SelfExecutable();
    for (const auto& c : cells) {
      const std::string dir = study.dir + "/cells/" + c.id;
      if (CellFinished(study, c)) {
        ++done;
        continue;
      }
      study::CellJob job;
      job.id = c.id;
      job.argv = {self,      "compare",   study.file.path,        "--cell", c.id, "--out",
                  study.dir, "--threads", std::to_string(threads)};
      for (const auto& [flag, value] : study.flags) {
        job.argv.push_back(flag);
        job.argv.push_back(value);
      }
      job.program = "/proc/self/exe";
      job.log_path = study.dir + "/logs/" + c.id + ".log";
      const double total =
          static_cast<double>(study.plans[static_cast<size_t>(c.variant)].total_frames);
      job.progress = [dir, total] {
        return std::min(1.0, static_cast<double>(LastFrames(dir + "/metrics.csv")) / total);
      };
      pending.push_back(job);
    }
    std::printf(
        "study %s: %zu variants x %zu seeds = %zu cells (%d finished earlier), %d side by "
        "side with %d pool thread(s) each; directory %s\n",
        study.file.name.c_str(), study.file.variants.size(), study.file.seeds.size(), cells.size(),
        done, jobs, threads, study.dir.c_str());
    for (size_t v = 0; v < study.plans.size(); ++v) {
      std::printf("  %-12s %s, %lld %s per run\n", study.file.variants[v].name.c_str(),
                  study.plans[v].model.c_str(), study.plans[v].total_frames,
                  study.metric == study::Metric::kRolloutBce ? "sequences" : "frames");
    }
    int update_threads = 1;
    for (const auto& p : study.plans) update_threads = std::max(update_threads, p.learner_threads);
    const int side_by_side = std::min<int>(jobs, static_cast<int>(pending.size()));
    if (side_by_side > 1 && side_by_side * update_threads > cores) {
      // Not changed behind the user's back: learner_threads is part of a run's result.
      std::printf(
          "  note: %d cells side by side with learner_threads %d use %d threads in their updates "
          "on %d cores; `learner_threads: 1` in the study's overrides avoids it (runs then "
          "differ in the last bits), or use --jobs %d\n",
          side_by_side, update_threads, side_by_side * update_threads, cores,
          std::max(1, cores / update_threads));
    }
    std::fflush(stdout);
    const study::ScheduleResult res = study::RunCells(pending, jobs, done, true);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (res.interrupted) {
      std::printf(
          "stopped after %s: %zu cell(s) finished in this run; the others saved "
          "checkpoints. Run the same command again to continue.\n",
          FormatDuration(seconds).c_str(), res.finished.size());
      return 130;
    }
    std::printf("trained and evaluated %zu cell(s) in %s\n", res.finished.size(),
                FormatDuration(seconds).c_str());
    if (!res.failed.empty()) {
      std::printf("failed:");
      for (const auto& f : res.failed) std::printf(" %s (status %d)", f.first.c_str(), f.second);
      std::printf("; logs in %s/logs/\n", study.dir.c_str());
      rc = 1;
    }
  }
  compare::EnsureRandomScores(study);
  compare::WriteReport(study, {study.dir});
  return rc;
}

}  // namespace rimlab
