// `rimlab eval RUN [RUN ...]` for prediction runs: the RIM paper's 15 + 35 protocol on every
// data file (the training variant and the unseen ones), BCE per rollout step with a 95% interval
// over sequences, written to RUN/eval/ (or --out) as CSV and JSON and plotted with gnuplot.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "predict/frame_predictor.h"
#include "predict/prediction_eval.h"
#include "predict/prediction_trainer.h"
#include "predict/sequence_store.h"
#include "runners/cli/train_predict.h"
#include "runners/run/run_dir.h"
#include "runners/study/plots.h"
#include "runners/train/checkpoint.h"

namespace rimlab {

namespace fs = std::filesystem;

namespace {

struct LoadedRun {
  std::string dir, checkpoint, label;
  Config config;
  predict::FramePredictor model{nullptr};
};

LoadedRun LoadRun(const std::string& path) {
  LoadedRun r;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    r.dir = path;
    const auto all = ListCheckpoints(path + "/checkpoints");
    if (all.empty()) {
      throw std::invalid_argument(path + ": no checkpoints in " + path + "/checkpoints");
    }
    r.checkpoint = all.back();
  } else {
    if (!fs::exists(path, ec)) throw std::invalid_argument(path + ": no such checkpoint");
    r.checkpoint = path;
    r.dir = fs::path(path).parent_path().parent_path().string();
  }
  r.config = Config::Load(r.dir + "/config.yaml");
  std::string name = r.dir;
  while (!name.empty() && name.back() == '/') name.pop_back();
  r.label = fs::path(name).filename().string();
  r.model = predict::FramePredictor(
      predict::FramePredictorOptionsFrom(r.config.Section("model"), r.config.Section("core")));
  predict::LoadPredictorWeights(r.model, r.checkpoint);
  return r;
}

using study::GnuplotQuote;

/// One panel per file, a line and a 95% band per run; returns false when gnuplot is missing.
bool Plot(const std::string& csv_dir, const std::vector<std::string>& runs,
          const std::vector<std::string>& files, const std::string& png, int burn_in) {
  if (std::system("command -v gnuplot > /dev/null 2>&1") != 0) return false;
  const std::string script_path = png.substr(0, png.size() - 4) + ".gp";  // kept: re-plot by hand
  {
    std::ofstream gp(script_path);
    gp << "set terminal pngcairo size " << 420 * files.size() + 80
       << ",420 font 'sans,10' noenhanced\n"
       << "set output " << GnuplotQuote(png) << "\nset datafile separator ','\n"
       << "set multiplot layout 1," << files.size() << "\n"
       << "set xlabel 'rollout step (after " << burn_in << " true frames)'\n"
       << "set ylabel 'BCE per frame (nats)'\nset key bottom right\nset grid\n";
    for (const auto& f : files) {
      gp << "set title " << GnuplotQuote(fs::path(f).stem().string()) << "\nplot ";
      for (size_t k = 0; k < runs.size(); ++k) {
        const std::string data =
            GnuplotQuote(csv_dir + "/" + runs[k] + "__" + fs::path(f).stem().string() + ".csv");
        gp << (k ? ", " : "") << data
           << " every ::1 using 1:5:6 with filledcurves fs transparent solid 0.25 lc " << k + 1
           << " notitle, " << data << " every ::1 using 1:3 with lines lw 2 lc " << k + 1
           << " title " << GnuplotQuote(runs[k]);
      }
      gp << "\n";
    }
    gp << "unset multiplot\n";
  }
  const int rc = std::system(("gnuplot " + script_path + " 2>&1").c_str());
  return rc == 0;
}

}  // namespace

int EvalPrediction(const PredictEvalArgs& args) {
  std::vector<LoadedRun> runs;
  for (const auto& p : args.runs) {
    if (!IsPredictionRun(p)) {
      throw std::invalid_argument(p +
                                  ": not a prediction run (its config.yaml has no task: "
                                  "predict); RL runs and prediction runs cannot be mixed");
    }
    runs.push_back(LoadRun(p));
  }
  ParamReader r(runs[0].config.Section("eval"), "section 'eval'");
  std::vector<std::string> files = args.files.empty() ? r.StringList("files", {}) : args.files;
  const std::string split = args.split.empty() ? r.String("split", "test") : args.split;
  const int64_t sequences =
      args.sequences > 0 ? args.sequences : r.Int("sequences", 500, 1, 1 << 30);
  const int burn_in = static_cast<int>(r.Int("burn_in", 15, 1, 100000));
  const int rollout = static_cast<int>(r.Int("rollout", 35, 1, 100000));
  const std::string feedback_name =
      args.feedback.empty() ? r.Choice("feedback", "probabilities", {"probabilities", "binary"})
                            : args.feedback;
  const auto feedback =
      feedback_name == "binary" ? predict::Feedback::kBinary : predict::Feedback::kProbabilities;
  if (files.empty()) {
    const Param* data = runs[0].config.Section("data").Find("file");
    if (data != nullptr) files.push_back(std::get<std::string>(data->value));
  }
  for (const auto& f : files) {
    if (!fs::exists(f)) {
      throw std::invalid_argument(f + ": no such data file (make it with rimlab balls-data)");
    }
  }
  const std::string out = args.out.empty() ? runs[0].dir + "/eval" : args.out;
  fs::create_directories(out);

  // curves[run][file]
  std::vector<std::vector<predict::RolloutCurve>> curves(runs.size());
  std::vector<std::string> labels;
  for (auto& run : runs) labels.push_back(run.label);
  for (const auto& f : files) {
    const auto store = predict::SequenceStore::Load(f, split, 0, burn_in + rollout);
    const int64_t n = std::min<int64_t>(sequences, store.count());
    for (size_t k = 0; k < runs.size(); ++k) {
      std::fprintf(stderr, "eval: %s on %s (%s, %lld sequences) ...\n", runs[k].label.c_str(),
                   f.c_str(), split.c_str(), static_cast<long long>(n));
      curves[k].push_back(
          predict::RolloutBce(runs[k].model, store, n, burn_in, rollout, 50, feedback));
    }
  }

  nlohmann::json doc;
  doc["protocol"] = {{"burn_in", burn_in},
                     {"rollout", rollout},
                     {"split", split},
                     {"feedback", feedback_name},
                     {"unit", "binary cross-entropy summed over a frame's pixels (nats)"}};
  for (size_t k = 0; k < runs.size(); ++k) {
    for (size_t i = 0; i < files.size(); ++i) {
      const auto& c = curves[k][i];
      const std::string stem = fs::path(files[i]).stem().string();
      std::string csv = "step,frame,bce_mean,bce_ci95,bce_low,bce_high\n";
      for (int s = 0; s < rollout; ++s) {
        const double m = c.mean[static_cast<size_t>(s)], h = c.ci95[static_cast<size_t>(s)];
        char line[160];
        std::snprintf(line, sizeof(line), "%d,%d,%.6g,%.6g,%.6g,%.6g\n", s + 1, burn_in + s, m, h,
                      m - h, m + h);
        csv += line;
      }
      WriteFileAtomic(out + "/" + runs[k].label + "__" + stem + ".csv", csv);
      doc["runs"][runs[k].label]["checkpoint"] = runs[k].checkpoint;
      doc["runs"][runs[k].label]["files"][files[i]] = {{"sequences", c.sequences},
                                                       {"bce_mean_over_steps", c.Average()},
                                                       {"bce_mean", c.mean},
                                                       {"bce_ci95", c.ci95}};
    }
  }
  WriteFileAtomic(out + "/rollout.json", doc.dump(2) + "\n");

  std::printf(
      "rollout BCE per frame (nats), mean over %d rollout steps after %d true frames, "
      "%s fed back; split %s\n",
      rollout, burn_in, feedback_name.c_str(), split.c_str());
  std::printf("%-22s", "data");
  for (const auto& l : labels) std::printf("  %-30s", l.c_str());
  std::printf("\n");
  for (size_t i = 0; i < files.size(); ++i) {
    std::printf("%-22s", fs::path(files[i]).stem().string().c_str());
    for (size_t k = 0; k < runs.size(); ++k) {
      const auto& c = curves[k][i];
      char cell[96];
      std::snprintf(cell, sizeof(cell), "%.2f (step 1 %.2f, step %d %.2f +- %.2f)", c.Average(),
                    c.mean.front(), rollout, c.mean.back(), c.ci95.back());
      std::printf("  %-30s", cell);
    }
    std::printf("\n");
  }
  const std::string png = out + "/rollout_bce.png";
  if (Plot(out, labels, files, png, burn_in)) {
    std::printf("wrote %s/rollout.json, per-step CSVs and %s\n", out.c_str(), png.c_str());
  } else {
    std::printf("wrote %s/rollout.json and per-step CSVs (no plot: install gnuplot-nox)\n",
                out.c_str());
  }
  return 0;
}

}  // namespace rimlab
