#pragma once
/// Study files for `rimlab compare`: a base training config, named variants (overrides each),
/// seeds, a training budget, and the splits and episodes to evaluate. Each (variant, seed) pair
/// is a cell: an ordinary training run. Example and every key: configs/studies/README.md.

#include <cstdint>
#include <string>
#include <vector>

#include "runners/config/config.h"

namespace rimlab {

/// One `section.key=value` assignment and the study file's line it came from.
struct StudyOverride {
  std::string assignment;
  std::string where;  ///< "configs/studies/x.yaml:12"
};

struct StudyVariant {
  std::string name;
  std::string base;  ///< its own base config (resolved), or "" for the study's
  std::vector<StudyOverride> overrides;
  std::string where;
};

struct StudyCell {
  std::string id;  ///< "<variant>-s<seed>", also the cell's run directory name
  int variant = 0;
  int64_t seed = 0;
};

/// A bouncing-balls data file a prediction study needs, made with `rimlab balls-data` before its
/// cells start when it does not exist yet.
struct StudyDataset {
  std::string file;  ///< as the configs name it (relative to the working directory)
  std::string variant = "4";
  int64_t sequences = 1000;
  int64_t validation = -1;  ///< -1: balls-data's default
  int64_t test = -1;
  int frames = 51;
  int64_t seed = 0;
  std::string where;
};

struct StudyFile {
  std::string path;
  std::string name;  ///< `study:`; default: the file's stem
  std::string base;  ///< the base config, resolved against the study file's folder
  std::string base_where;
  std::vector<int64_t> seeds;
  std::string seeds_where;
  int64_t total_frames = 0;  ///< 0: the base config's
  std::string total_frames_where;
  int64_t updates = 0;  ///< a prediction study's budget (train.updates); 0: the base config's
  std::string updates_where;
  std::vector<StudyDataset> datasets;
  std::vector<StudyOverride> overrides;  ///< applied to every variant, before its own
  std::vector<StudyVariant> variants;
  std::string baseline;  ///< the variant the others are compared with
  std::vector<std::string> splits;
  int episodes = 500;
  int random_episodes = 2000;
  bool greedy = false;
  int bootstrap_resamples = 10000;
  /// Episodes per RIM cell for the unit analysis on the first split; 0 turns it off.
  int unit_episodes = 200;

  /// Every cell, variant by variant, seeds in the file's order.
  std::vector<StudyCell> Cells() const;
  int VariantIndex(const std::string& name) const;  ///< -1 when absent
  /// The cell's training config: the base, the study's overrides, the variant's, then the seed
  /// and the budget. Throws ConfigError or OptionError naming the study file's line.
  Config CellConfig(const StudyCell& cell) const;
};

/// Reads and checks a study file. Throws ConfigError ("file:line: key 'k': ...") for a missing
/// file, YAML errors, unknown keys (top level or in a variant), a duplicate or malformed variant
/// name, bad seeds, a budget below one frame, an unknown baseline, or a missing base config.
StudyFile LoadStudyFile(const std::string& path);

}  // namespace rimlab
