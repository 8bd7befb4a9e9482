// The report side of `rimlab compare`: the reference scores (a random policy, or the mean frame)
// and the finished cells gathered into results.csv, report.md, plots and the console summary.
#include "runners/cli/compare_study.h"

// The report side of `rimlab compare`: the reference scores (a random policy, or the mean frame)
// and the finished cells gathered into results.csv, report.md, plots and the console summary.

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "runners/cli/compare_predict.h"
#include "runners/cli/compare_study.h"
#include "runners/config/env_config.h"
#include "runners/run/run_dir.h"
#include "runners/study/plots.h"
#include "runners/study/report.h"
#include "runners/study/units.h"
#include "runners/train/evaluate.h"

namespace rimlab::compare {

namespace fs = std::filesystem;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Label(const std::string& split) {
  return split.empty() ? "env" : split;
}

namespace {

study::StudyResults CollectResults(const Study& study, const std::vector<std::string>& dirs) {
  const StudyFile& s = study.file;
  study::StudyResults r;
  r.metric = study.metric;
  r.name = s.name;
  for (const auto& v : s.variants) r.variants.push_back(v.name);
  r.baseline = s.baseline;
  for (const auto& split : study.splits) r.splits.push_back(Label(split));
  r.seeds = s.seeds;
  for (const auto& cell : s.Cells()) {
    bool found = false;
    std::string found_in;
    std::string found_csv;
    for (const auto& d : dirs) {
      const std::string path = d + "/cells/" + cell.id + "/" + kCellResultFile;
      if (!fs::exists(path)) continue;
      study::CellResult c = study::ParseCellResult(ReadFile(path), path);
      c.dir = d + "/cells/" + cell.id;
      if (c.metric != study.metric) {
        throw std::invalid_argument(path + ": scores " + study::MetricId(c.metric) +
                                    ", but the study scores " + study::MetricId(study.metric));
      }
      if (c.variant != s.variants[static_cast<size_t>(cell.variant)].name || c.seed != cell.seed) {
        throw std::invalid_argument(path + ": holds cell " + c.id + ", not " + cell.id);
      }
      study::StudyResults one;
      one.name = r.name;
      one.splits = r.splits;
      one.cells = {c};
      const std::string csv = study::ResultsCsv(one);
      if (found) {
        if (csv != found_csv) {
          throw std::invalid_argument("cell " + cell.id + " finished in both " + found_in +
                                      " and " + d + " with different results");
        }
        continue;
      }
      found = true;
      found_in = d;
      found_csv = csv;
      r.cells.push_back(c);
    }
    if (!found) r.missing.push_back(cell.id);
  }
  for (const auto& d : dirs) {
    const std::string path = d + "/random.json";
    if (fs::exists(path)) {
      r.random = study::ParseRandomScores(ReadFile(path), path, study.metric);
      break;
    }
  }
  return r;
}

}  // namespace

void EnsureRandomScores(const Study& study) {
  const StudyFile& s = study.file;
  const std::string path = study.dir + "/random.json";
  if (s.random_episodes <= 0) return;
  const bool predict = study.metric == study::Metric::kRolloutBce;
  if (fs::exists(path)) {
    const auto have = study::ParseRandomScores(ReadFile(path), path, study.metric);
    bool complete = true;
    for (const auto& split : study.splits) {
      auto it = have.find(Label(split));
      complete =
          complete && it != have.end() && (predict || it->second.episodes == s.random_episodes);
    }
    if (complete) return;
  }
  Config c = Config::Load(s.base);
  for (const auto& o : s.overrides) c.Override(o.assignment, o.where);
  if (predict) {
    EnsureStudyDatasets(s, study.dir);
    WriteFileAtomic(path, study::RandomScoresJson(MeanFrameScores(c, study.data_files, s.episodes),
                                                  study.metric));
    return;
  }
  const EnvConfig env = EnvConfigFrom(c);
  const PoolOptions pool_options = PoolOptionsFrom(c);
  std::map<std::string, study::SplitScore> scores;
  for (const auto& split : study.splits) {
    const EnvConfig ec = split.empty() ? env : env.WithSplit(split);
    ActorPool pool([&ec](int) { return ec.Make(); }, pool_options);
    const EpisodeStats st = Evaluate(&pool, s.random_episodes,
                                     RandomPolicy(pool.spec().action, pool_options.seed + 7919));
    scores[Label(split)] = {Label(split),    st.episodes,    st.success_rate, st.success_low,
                            st.success_high, st.return_mean, st.return_ci95,  st.length_mean};
  }
  WriteFileAtomic(path, study::RandomScoresJson(scores));
}

int WriteReport(const Study& study, const std::vector<std::string>& dirs) {
  const study::StudyResults results = CollectResults(study, dirs);
  const study::StudySummary summary = study::Summarise(results, study.file.bootstrap_resamples);
  fs::create_directories(study.dir);
  WriteFileAtomic(study.dir + "/results.csv", study::ResultsCsv(results));
  study::ReportInfo info;
  info.study_file = study.file.path;
  info.base_config = study.file.base;
  const StudyFile& f = study.file;
  if (study.metric == study::Metric::kRolloutBce) {
    info.budget = f.updates > 0 ? std::to_string(f.updates) + " updates per run"
                                : std::string("the base config's budget");
    info.evaluation = "up to " + std::to_string(f.episodes) +
                      " test sequences per data file (the base config's rollout protocol: true "
                      "frames, then the model's own predictions)";
    info.reference = "every pixel predicted at the training data's lit fraction";
  } else {
    info.budget = f.total_frames > 0 ? std::to_string(f.total_frames) + " frames per run"
                                     : std::string("the base config's budget");
    info.evaluation = std::to_string(f.episodes) + " episodes per split (" +
                      (f.greedy ? "greedy" : "sampled") + " actions)";
    info.reference = std::to_string(f.random_episodes) + " episodes";
  }
  for (size_t v = 0; v < study.plans.size(); ++v) {
    info.parameters.emplace_back(study.file.variants[v].name, study.plans[v].parameters);
  }
  std::vector<study::UnitAnalysis> units;
  for (const auto& c : results.cells) {
    const std::string path = c.dir + "/" + kUnitsFile;
    if (fs::exists(path)) units.push_back(study::ParseUnitAnalysis(ReadFile(path), path));
  }
  std::string note;
  std::string heatmap;
  if (!results.cells.empty()) {
    heatmap = study::PlotUnitHeatmap(units, study.dir);
    const std::string curves = study::PlotLearningCurves(results, study.dir);
    const std::string bars = study::PlotSplitBars(results, summary, study.dir);
    if (!curves.empty()) info.plots.emplace_back("learning curves", curves);
    if (!bars.empty()) {
      info.plots.emplace_back(study::MetricName(study.metric) + " per split", bars);
    }
    const std::string rollout = study::PlotRolloutCurves(results, study.dir);
    if (!rollout.empty()) info.plots.emplace_back("BCE per rollout step", rollout);
    if (curves.empty()) note = " (no plots: gnuplot is not installed; apt-get install gnuplot-nox)";
  }
  info.extra_markdown = study::UnitsMarkdown(units, heatmap);
  WriteFileAtomic(study.dir + "/report.md", study::ReportMarkdown(results, summary, info));
  std::printf("\n%s%s", study::ConsoleReport(results, summary).c_str(),
              study::UnitsConsole(units).c_str());
  if (!results.missing.empty()) {
    std::printf("%zu cell(s) not finished:", results.missing.size());
    for (const auto& m : results.missing) std::printf(" %s", m.c_str());
    std::printf("\n");
  }
  std::printf("wrote %s/results.csv and %s/report.md%s\n", study.dir.c_str(), study.dir.c_str(),
              note.c_str());
  return 0;
}

}  // namespace rimlab::compare
