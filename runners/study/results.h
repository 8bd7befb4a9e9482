#pragma once
/// A study's results as data: each finished cell's evaluation per split (written by the cell as
/// cells/ID/study_eval.json), the random policy's score per split, and results.csv. Torch-free,
/// so that merging and reporting need no model.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace rimlab::study {

struct SplitScore {
  std::string split;
  int episodes = 0;
  double success = 0.0;
  double success_low = 0.0;  ///< 95% Wilson interval over the episodes
  double success_high = 0.0;
  double return_mean = 0.0;
  double return_ci95 = 0.0;
  double length_mean = 0.0;
};

struct CellResult {
  std::string id;
  std::string variant;
  int64_t seed = 0;
  int64_t frames = 0;      ///< frames trained
  std::string checkpoint;  ///< the evaluated checkpoint
  std::string dir;         ///< the cell's run directory (for its metrics.csv)
  std::vector<SplitScore> splits;
  const SplitScore* Find(const std::string& split) const;
};

struct StudyResults {
  std::string name;
  std::vector<std::string> variants;  ///< in the study file's order
  std::string baseline;
  std::vector<std::string> splits;
  std::vector<int64_t> seeds;
  std::vector<CellResult> cells;             ///< finished cells, in the study's cell order
  std::vector<std::string> missing;          ///< cells without a result
  std::map<std::string, SplitScore> random;  ///< a random policy's score per split
};

/// cells/ID/study_eval.json.
std::string CellResultJson(const CellResult& cell);
/// Parses a cell's study_eval.json; throws std::invalid_argument naming `path` and the field.
CellResult ParseCellResult(const std::string& text, const std::string& path);

/// results.csv: one row per cell and split, in cell order then split order: study, cell,
/// variant, seed, split, frames, episodes, success, success_low, success_high, return_mean,
/// return_ci95, length_mean (9 significant digits, so two equal studies give equal bytes).
std::string ResultsCsv(const StudyResults& results);

/// random.json (a random policy's score per split) and back.
std::string RandomScoresJson(const std::map<std::string, SplitScore>& random);
std::map<std::string, SplitScore> ParseRandomScores(const std::string& text,
                                                    const std::string& path);

/// (frames, success_rate) rows of a run's metrics.csv; empty when the file is missing. Rows
/// whose success_rate is empty (no episode finished yet) are skipped.
std::vector<std::pair<int64_t, double>> ReadSuccessCurve(const std::string& metrics_csv);

}  // namespace rimlab::study
