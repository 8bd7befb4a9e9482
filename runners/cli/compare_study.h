#pragma once
// What `rimlab compare` knows about a study once its file is read and its variants are checked,
// shared by the command (runners/cli/compare.cpp) and its report (compare_report.cpp).

#include <string>
#include <utility>
#include <vector>

#include "runners/cli/commands.h"
#include "runners/config/study_file.h"
#include "runners/study/results.h"

namespace rimlab::compare {

constexpr const char* kCellResultFile = "study_eval.json";
constexpr const char* kUnitsFile = "units.json";

std::string ReadFile(const std::string& path);

/// A split's name in results ("" is the config's own env, with no splits).
std::string Label(const std::string& split);

struct Study {
  StudyFile file;
  std::string dir;
  study::Metric metric = study::Metric::kSuccess;  ///< kRolloutBce: a prediction study
  std::vector<std::string> splits;      ///< "" evaluates the config's own env (no splits)
  std::vector<std::string> data_files;  ///< a prediction study's, one per split
  std::vector<TrainPlan> plans;         ///< per variant
  std::vector<bool> analyse_units;      ///< per variant: a RIM core on a gridworld
  /// --frames/--updates/--seeds/--episodes as given, passed on to the cells.
  std::vector<std::pair<std::string, std::string>> flags;
};

/// random.json: a random policy on every split of the base config (with the study's common
/// overrides), or for a prediction study the mean frame on every data file; kept when complete.
void EnsureRandomScores(const Study& study);

/// results.csv, report.md, the plots and the console summary from the finished cells of `dirs`
/// (the first holding a cell wins; a cell finished in two with different results is an error).
int WriteReport(const Study& study, const std::vector<std::string>& dirs);

}  // namespace rimlab::compare
