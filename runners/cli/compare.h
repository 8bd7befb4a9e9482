#pragma once
/// `rimlab compare STUDY.yaml`: trains every (variant, seed) cell of a study as an ordinary run
/// in the study's directory, evaluates each on the study's splits, and reports: results.csv,
/// report.md, plots. LibTorch builds only.

#include <cstdint>
#include <string>
#include <vector>

namespace rimlab {

struct CompareArgs {
  std::string study;
  std::string out;   ///< the study's directory (default: studies/NAME)
  int jobs = 0;      ///< cells side by side (0: one per core)
  int threads = 0;   ///< pool threads per cell (0: cores / jobs)
  std::string cell;  ///< run this cell only, in this process
  bool list_cells = false;
  std::vector<std::string> merge;  ///< study directories whose cells are joined into --out
  bool report_only = false;        ///< no training: report what is finished
  bool check = false;              ///< check the study file and every variant's config, then exit
  // In place of the study file's values; the study directory remembers them with the file.
  int64_t frames = 0;   ///< total_frames per cell (RL studies)
  int64_t updates = 0;  ///< updates per cell (prediction studies)
  int seeds = 0;        ///< seeds 1..N
  int episodes = 0;     ///< eval.episodes
};

int CmdCompare(const CompareArgs& args);

}  // namespace rimlab
