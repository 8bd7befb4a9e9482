#pragma once
/// Runs a study's cells as child processes, at most N at a time, with one progress line for the
/// whole study. Children run in their own process group, so Ctrl-C reaches the scheduler alone;
/// it forwards one SIGINT to each running child (which checkpoints and exits) and waits for
/// them. A child whose scheduler dies gets SIGINT too (PR_SET_PDEATHSIG), so no cell trains on
/// as an orphan.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace rimlab::study {

struct CellJob {
  std::string id;
  std::vector<std::string> argv;  ///< argv[0] is the program to run, unless `program` is set
  /// The file executed, when not argv[0]. "/proc/self/exe" runs the scheduler's own executable
  /// even after its file has been replaced (a rebuild while a study runs), so that every cell of
  /// a study runs the code the study started with.
  std::string program;
  std::string log_path;  ///< stdout and stderr, appended
  /// The cell's progress in [0, 1] (read from its run directory), polled about once a second.
  std::function<double()> progress;
};

struct ScheduleResult {
  std::vector<std::string> finished;
  std::vector<std::pair<std::string, int>> failed;  ///< (cell, exit status or 128 + signal)
  bool interrupted = false;
};

/// `already_done` cells count towards the progress line's total. Throws std::runtime_error when
/// a child cannot be started.
ScheduleResult RunCells(const std::vector<CellJob>& jobs, int parallel, int already_done,
                        bool show_progress);

/// The study's progress line: "cells 3/10 done, 2 running (rim-s2 45%, lstm-s3 12%), elapsed
/// 4:12, eta 9:30". `eta_seconds` < 0 leaves the ETA out.
std::string FormatStudyProgress(int done, int total,
                                const std::vector<std::pair<std::string, double>>& running,
                                double elapsed_seconds, double eta_seconds);

/// The running executable's path (/proc/self/exe), for re-executing it per cell.
std::string SelfExecutable();

}  // namespace rimlab::study
