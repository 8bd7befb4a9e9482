#pragma once
// The prediction side of `rimlab compare`: a study whose base config has `task: predict` trains
// bouncing-balls frame predictors (runners/cli/train_predict.h) as its cells and scores each on
// the RIM paper's 15 + 35 rollout, one split per data file, beside the mean frame's score.

#include <map>
#include <string>
#include <vector>

#include "runners/cli/commands.h"
#include "runners/config/config.h"
#include "runners/config/study_file.h"
#include "runners/study/results.h"

namespace rimlab {

/// Whether a training config is a prediction task (`task: predict`).
bool IsPredictionConfig(const Config& config);

/// The model a prediction config builds (parameters and a one-line description) and its budget in
/// sequences, without reading any data. Throws OptionError for a bad key.
TrainPlan PlanPrediction(const Config& config);

/// The data files a prediction config is evaluated on: eval.files, else data.file.
std::vector<std::string> PredictionEvalFiles(const Config& config);

/// A data file's split label in a study: its stem ("datasets/balls678.h5" -> "balls678").
std::string DataSplitLabel(const std::string& file);

/// Makes each of the study's datasets that does not exist yet with `rimlab balls-data`, written
/// under a temporary name and renamed when complete, and under a lock in `study_dir`, so that
/// cells started side by side by a scheduler make each file once.
void EnsureStudyDatasets(const StudyFile& study, const std::string& study_dir);

/// Trains a prediction cell from `config` into runs_dir/NAME, or resumes `resume_dir` when given.
int TrainPredictionCell(const Config& config, const std::string& base, const std::string& runs_dir,
                        const std::string& resume_dir);

/// The 15 + 35 rollout of the run in `dir` (its last checkpoint) on each file, up to `sequences`
/// test sequences each, with the protocol of the run's eval section.
std::vector<study::SplitScore> EvaluatePredictionRun(const std::string& dir,
                                                     const std::vector<std::string>& files,
                                                     int64_t sequences);

/// The mean frame's scores on each file's test sequences: every pixel at the lit fraction of the
/// config's training data.
std::map<std::string, study::SplitScore> MeanFrameScores(const Config& config,
                                                         const std::vector<std::string>& files,
                                                         int64_t sequences);

}  // namespace rimlab
