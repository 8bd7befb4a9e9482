#pragma once
/// What a RIM policy's units do. From evaluation episodes, each unit's activity is set against
/// binary features of what the agent sees at that step (the target in view, ...): how often the
/// unit is active with and without the feature, and the mutual information between the two with
/// a shifted baseline. The baseline shifts the feature sequence circularly against the activity
/// sequence by at least one episode's length, which keeps both sequences' own autocorrelation
/// (shuffling single steps would not, and would make chance dependence look significant). A pair
/// counts as informative when its information exceeds every shifted sequence's: p < 1/(shifts+1)
/// for that pair, so with 1000 shifts and 6 units x 5 features a cell marks any pair by chance
/// less than 3% of the time.
/// Torch-free: a cell writes its counts to cells/ID/units.json; the report reads them back.

#include <cstdint>
#include <string>
#include <vector>

namespace rimlab::study {

/// Per-step records of evaluation episodes, concatenated in episode order.
struct UnitSteps {
  int num_units = 0;
  std::vector<std::string> features;
  std::vector<uint8_t> active;       ///< [steps][num_units], 1 = active
  std::vector<uint8_t> feature;      ///< [steps][features.size()], 1 = present
  std::vector<int> episode_lengths;  ///< sums to the number of steps
  int64_t steps() const;             ///< the sum of episode_lengths
};

/// Counts of (unit active, feature present) over the steps.
struct Joint {
  int64_t n00 = 0, n01 = 0, n10 = 0, n11 = 0;  ///< n[active][present]
  int64_t total() const { return n00 + n01 + n10 + n11; }
};

/// Mutual information in bits of the joint distribution the counts give; 0 when either variable
/// is constant.
double MutualInformationBits(const Joint& j);

struct UnitFeature {
  int unit = 0;
  int feature = 0;
  Joint joint;
  double mi_bits = 0.0;
  double baseline_mean = 0.0;  ///< over the shifted sequences
  double baseline_q95 = 0.0;   ///< their 95th percentile
  double baseline_max = -1.0;  ///< the largest; -1 when no shift ran
  /// P(active | present) and P(active | absent); NaN when the condition never occurs.
  double p_active_present() const;
  double p_active_absent() const;
  /// P(active | present) - P(active | absent); 0 when either is NaN.
  double difference() const;
  /// Informative: more information than every shifted sequence gave (and some shifts ran).
  bool informative() const { return baseline_max >= 0.0 && mi_bits > baseline_max; }
};

struct UnitAnalysis {
  std::string cell;
  std::string split;
  int episodes = 0;
  int64_t steps = 0;
  int num_units = 0;
  int shifts = 0;
  std::vector<std::string> features;
  std::vector<double> activity;        ///< per unit: fraction of steps active
  std::vector<int64_t> feature_steps;  ///< per feature: steps on which it is present
  std::vector<UnitFeature> pairs;      ///< unit-major: pairs[u * features.size() + f]
  const UnitFeature& At(int unit, int feature) const;
};

/// Counts and mutual information for every (unit, feature), with `shifts` circular shifts for
/// the baseline, drawn uniformly from [longest episode, steps - longest episode] with a fixed
/// seed (none when the steps are too few: the baseline is then -1 and nothing is informative).
/// Throws std::invalid_argument when the arrays disagree with the sizes.
UnitAnalysis AnalyseUnits(const UnitSteps& steps, int shifts = 1000, uint64_t seed = 2024);

/// Pearson correlation, over every unit of every analysis, of UnitFeature::difference() between
/// each pair of features ([features][features]; NaN for a feature whose differences do not vary).
std::vector<std::vector<double>> DifferenceCorrelation(const std::vector<UnitAnalysis>& analyses);

std::string UnitAnalysisJson(const UnitAnalysis& a);
/// Throws std::invalid_argument naming `path` and the field.
UnitAnalysis ParseUnitAnalysis(const std::string& text, const std::string& path);

/// The report's specialisation section over the RIM cells' analyses: per cell a table of units
/// by features (P(active | present) against P(active | absent), marked where the information
/// beats the baseline), and a closing paragraph saying whether the units specialise.
std::string UnitsMarkdown(const std::vector<UnitAnalysis>& analyses, const std::string& heatmap);
/// The same verdict in a few lines for the terminal.
std::string UnitsConsole(const std::vector<UnitAnalysis>& analyses);

/// Writes dir/units.{dat,gp,png}: one row per (cell, unit), one column per feature that some run
/// saw, coloured by
/// P(active | present) - P(active | absent), with informative pairs starred. Returns the PNG's
/// file name, or "" without gnuplot or analyses.
std::string PlotUnitHeatmap(const std::vector<UnitAnalysis>& analyses, const std::string& dir);

}  // namespace rimlab::study
