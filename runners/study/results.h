#pragma once
/// A study's results as data: each finished cell's evaluation per split (written by the cell as
/// cells/ID/study_eval.json), the reference score per split (a random policy's, or for a
/// prediction study the mean frame's), and results.csv. Torch-free, so that merging and reporting
/// need no model.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace rimlab::study {

/// What a study scores, set by its base config's task. An RL study: the success rate (in [0, 1],
/// higher is better), beside a random policy's. A prediction study (the bouncing balls): the
/// binary cross-entropy per frame (nats) averaged over the rollout's steps (lower is better),
/// beside the BCE of predicting every pixel at the training data's mean density.
enum class Metric { kSuccess, kRolloutBce };

bool HigherIsBetter(Metric m);
std::string MetricName(Metric m);     ///< "success", "rollout BCE"
std::string ReferenceName(Metric m);  ///< "random policy", "mean frame"
const char* MetricFormat(Metric m);   ///< printf format of one score: "%.3f", "%.1f"
std::string MetricId(Metric m);       ///< in files: "success", "rollout_bce"

struct SplitScore {
  std::string split;
  int episodes = 0;    ///< evaluation episodes (prediction: test sequences)
  double score = 0.0;  ///< the success rate, or the mean BCE per frame over the rollout
  double low = 0.0;    ///< 95% interval: Wilson over episodes, or normal over sequences
  double high = 0.0;
  double return_mean = 0.0;  ///< RL only
  double return_ci95 = 0.0;
  double length_mean = 0.0;
  std::vector<double> per_step = {};  ///< prediction only: the mean BCE at each rollout step
};

struct CellResult {
  Metric metric = Metric::kSuccess;
  std::string id;
  std::string variant;
  int64_t seed = 0;
  int64_t frames = 0;      ///< frames trained (prediction: sequences seen)
  std::string checkpoint;  ///< the evaluated checkpoint
  std::string dir;         ///< the cell's run directory (for its metrics.csv)
  std::vector<SplitScore> splits;
  const SplitScore* Find(const std::string& split) const;
};

struct StudyResults {
  Metric metric = Metric::kSuccess;
  std::string name;
  std::vector<std::string> variants;  ///< in the study file's order
  std::string baseline;
  std::vector<std::string> splits;
  std::vector<int64_t> seeds;
  std::vector<CellResult> cells;             ///< finished cells, in the study's cell order
  std::vector<std::string> missing;          ///< cells without a result
  std::map<std::string, SplitScore> random;  ///< the reference score per split
};

/// cells/ID/study_eval.json.
std::string CellResultJson(const CellResult& cell);
/// Parses a cell's study_eval.json (a file without "metric" scores success); throws
/// std::invalid_argument naming `path` and the field.
CellResult ParseCellResult(const std::string& text, const std::string& path);

/// results.csv: one row per cell and split, in cell order then split order: study, cell,
/// variant, seed, split, frames, episodes, success, success_low, success_high, return_mean,
/// return_ci95, length_mean; for a prediction study study, cell, variant, seed, split,
/// sequences_trained, test_sequences, rollout_bce, rollout_bce_low, rollout_bce_high,
/// bce_first_step, bce_last_step, rollout_steps (9 significant digits, so two equal studies give
/// equal bytes).
std::string ResultsCsv(const StudyResults& results);

/// random.json (the reference score per split) and back.
std::string RandomScoresJson(const std::map<std::string, SplitScore>& random,
                             Metric metric = Metric::kSuccess);
std::map<std::string, SplitScore> ParseRandomScores(const std::string& text,
                                                    const std::string& path,
                                                    Metric metric = Metric::kSuccess);

/// (first column, `column`) rows of a run's metrics.csv; empty when the file or the column is
/// missing. Rows whose `column` is empty (no episode finished yet) are skipped.
std::vector<std::pair<int64_t, double>> ReadCurve(const std::string& metrics_csv,
                                                  const std::string& column);
/// The learning curve a study plots: success_rate against frames, or for a prediction run the
/// validation BCE (teacher-forced) against sequences seen.
std::vector<std::pair<int64_t, double>> ReadLearningCurve(const std::string& metrics_csv,
                                                          Metric metric);

}  // namespace rimlab::study
