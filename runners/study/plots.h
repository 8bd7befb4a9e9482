#pragma once
/// A study's plots, drawn by gnuplot (Debian's gnuplot-nox) from data files written beside them:
/// learning curves per variant with a band over seeds, grouped bars per split with 95%
/// intervals and the reference's score, and for prediction studies the BCE per rollout step. The
/// .dat and .gp files stay, to re-plot by hand.

#include <string>
#include <vector>

#include "runners/study/report.h"
#include "runners/study/results.h"

namespace rimlab::study {

/// Mean success over a variant's seeds at each frame count that every one of them logged, with
/// the lowest and highest seed.
struct CurvePoint {
  long long frames = 0;
  double mean = 0.0;
  double low = 0.0;
  double high = 0.0;
};
std::vector<CurvePoint> MeanCurve(const std::vector<std::vector<std::pair<int64_t, double>>>& runs);

bool GnuplotAvailable();

/// Writes dir/learning_curves.{dat,gp,png}; returns the PNG's file name, or "" without gnuplot.
/// Throws std::runtime_error when gnuplot fails.
std::string PlotLearningCurves(const StudyResults& results, const std::string& dir);

/// Writes dir/splits.{dat,gp,png}; returns the PNG's file name, or "" without gnuplot.
std::string PlotSplitBars(const StudyResults& results, const StudySummary& summary,
                          const std::string& dir);

/// A prediction study's BCE at each rollout step, one panel per split, a line per variant (mean
/// over seeds, band from the lowest to the highest seed) and the mean frame's level. Writes
/// dir/rollout.{dat,gp,png}; returns the PNG's file name, or "" without gnuplot or for an RL
/// study.
std::string PlotRolloutCurves(const StudyResults& results, const std::string& dir);

/// Runs `gnuplot script`; throws std::runtime_error with its output when it fails.
void RunGnuplot(const std::string& script);

/// Gnuplot's single-quoted strings: a quote is doubled.
std::string GnuplotQuote(const std::string& s);

}  // namespace rimlab::study
