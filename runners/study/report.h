#pragma once
/// What a study shows, from its results: per variant and split the mean score (success, or a
/// prediction study's rollout BCE) over seeds with a 95% t interval, the generalisation gap (how
/// much worse each held-out split is than the training split, per seed), a bootstrap 95% interval
/// of each variant's difference from the baseline per split, and one plain sentence per split.
/// Written as report.md and printed as a table.

#include <string>
#include <vector>

#include "runners/study/results.h"
#include "runners/study/statistics.h"

namespace rimlab::study {

struct VariantSplit {
  std::string variant;
  std::string split;
  std::vector<double> per_seed;
  MeanInterval score;
};

struct Gap {
  std::string variant;
  std::string split;  ///< the held-out split; the gap is train minus it
  MeanInterval gap;
};

struct Comparison {
  Metric metric = Metric::kSuccess;
  std::string variant;
  std::string baseline;
  std::string split;
  Difference diff;
  std::string sentence;
};

struct StudySummary {
  std::string train_split;  ///< "train" when evaluated, else the first split
  std::vector<VariantSplit> scores;
  std::vector<Gap> gaps;
  std::vector<Comparison> comparisons;
  const VariantSplit* Find(const std::string& variant, const std::string& split) const;
};

StudySummary Summarise(const StudyResults& results, int resamples, uint64_t seed = 12345);

/// The sentence for one comparison, e.g. "`more`: rim 0.412 against lstm 0.380, a difference of
/// +0.032 (95% bootstrap interval -0.021 to +0.088, 5 seeds each): the interval includes zero,
/// so at this budget and seed count the two are not told apart."
std::string ComparisonSentence(const Comparison& c, int seeds_variant, int seeds_baseline,
                               double variant_mean, double baseline_mean);

struct ReportInfo {
  std::string study_file;
  std::string base_config;
  std::string budget;      ///< "3000000 frames per run", "1500 updates per run"
  std::string evaluation;  ///< "500 episodes per split (sampled actions)"
  std::string reference;   ///< how the reference column was measured
  std::vector<std::pair<std::string, std::string>> plots;     ///< (caption, file name)
  std::vector<std::pair<std::string, long long>> parameters;  ///< (variant, parameter count)
  std::string extra_markdown;                                 ///< appended (specialisation)
};

std::string ReportMarkdown(const StudyResults& results, const StudySummary& summary,
                           const ReportInfo& info);

/// The table of train and held-out splits with intervals, and the sentences, for the terminal.
std::string ConsoleReport(const StudyResults& results, const StudySummary& summary);

}  // namespace rimlab::study
