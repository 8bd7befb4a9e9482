#include "runners/study/plots.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <stdexcept>

namespace rimlab::study {

std::string GnuplotQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

bool GnuplotAvailable() {
  return std::system("command -v gnuplot > /dev/null 2>&1") == 0;
}

void RunGnuplot(const std::string& script) {
  // The shell's single quotes: a quote inside closes, escapes and reopens them.
  std::string quoted = "'";
  for (char c : script) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  quoted += "'";
  FILE* p = popen(("gnuplot " + quoted + " 2>&1").c_str(), "r");
  if (p == nullptr) throw std::runtime_error("cannot run gnuplot");
  std::string output;
  char buf[512];
  while (std::fgets(buf, sizeof(buf), p) != nullptr) output += buf;
  const int rc = pclose(p);
  if (rc != 0) throw std::runtime_error("gnuplot failed on " + script + ": " + output);
}

namespace {

// The PNG terminal, output and title every study plot shares.
void WriteHeader(std::ostream& out, const std::string& png_path, const std::string& title) {
  out << "set terminal pngcairo size 760,440 font 'sans,10' noenhanced\n"
      << "set output " << GnuplotQuote(png_path) << "\nset title " << GnuplotQuote(title) << "\n";
}

}  // namespace

std::vector<CurvePoint> MeanCurve(
    const std::vector<std::vector<std::pair<int64_t, double>>>& runs) {
  std::vector<CurvePoint> out;
  if (runs.empty()) return out;
  std::map<int64_t, std::vector<double>> at;
  for (const auto& run : runs) {
    for (const auto& [frames, value] : run) at[frames].push_back(value);
  }
  for (const auto& [frames, values] : at) {
    if (values.size() != runs.size()) continue;
    CurvePoint p;
    p.frames = frames;
    double sum = 0.0;
    for (double v : values) sum += v;
    p.mean = sum / static_cast<double>(values.size());
    p.low = *std::min_element(values.begin(), values.end());
    p.high = *std::max_element(values.begin(), values.end());
    out.push_back(p);
  }
  return out;
}

std::string PlotLearningCurves(const StudyResults& results, const std::string& dir) {
  const std::string dat = dir + "/learning_curves.dat";
  const std::string gp = dir + "/learning_curves.gp";
  const std::string png = "learning_curves.png";
  const bool bce = results.metric == Metric::kRolloutBce;
  {
    // One gnuplot index block per variant: frames, mean, lowest seed, highest seed.
    std::ofstream out(dat);
    out << (bce ? "# validation BCE per frame (teacher-forced); per variant: sequences mean low "
                  "high\n"
                : "# success over the last 100 training episodes; per variant: frames mean low "
                  "high\n");
    for (const auto& v : results.variants) {
      std::vector<std::vector<std::pair<int64_t, double>>> runs;
      for (const auto& c : results.cells) {
        if (c.variant == v)
          runs.push_back(ReadLearningCurve(c.dir + "/metrics.csv", results.metric));
      }
      out << "# " << v << "\n";
      for (const auto& p : MeanCurve(runs)) {
        char line[160];
        std::snprintf(line, sizeof(line), "%lld %.6f %.6f %.6f\n", p.frames, p.mean, p.low, p.high);
        out << line;
      }
      out << "\n\n";
    }
  }
  {
    std::ofstream out(gp);
    WriteHeader(out, dir + "/" + png,
                "study " + results.name + (bce ? ": validation BCE" : ": training success") +
                    " (mean over seeds, band: lowest to highest seed)");
    if (bce) {
      out << "set xlabel 'sequences seen (thousands)'\n"
          << "set ylabel 'BCE per frame, teacher-forced (nats)'\nset logscale y\n"
          << "set key top right\nset grid\nplot ";
    } else {
      out << "set xlabel 'frames (millions)'\nset ylabel 'success, last 100 episodes'\n"
          << "set yrange [0:1]\nset key bottom right\nset grid\nplot ";
    }
    const char* x = bce ? "($1/1e3)" : "($1/1e6)";
    for (size_t k = 0; k < results.variants.size(); ++k) {
      const std::string d = GnuplotQuote(dat);
      out << (k ? ", " : "") << d << " index " << k << " using " << x
          << ":3:4 with filledcurves fs transparent solid 0.2 lc " << k + 1 << " notitle, " << d
          << " index " << k << " using " << x << ":2 with lines lw 2 lc " << k + 1 << " title "
          << GnuplotQuote(results.variants[k]);
    }
    out << "\n";
  }
  if (!GnuplotAvailable()) return "";
  RunGnuplot(gp);
  return png;
}

std::string PlotSplitBars(const StudyResults& results, const StudySummary& summary,
                          const std::string& dir) {
  const std::string dat = dir + "/splits.dat";
  const std::string gp = dir + "/splits.gp";
  const std::string png = "splits.png";
  const bool bce = results.metric == Metric::kRolloutBce;
  {
    std::ofstream out(dat);
    out << "# split, then per variant: mean low high, then the " << ReferenceName(results.metric)
        << "\n# split";
    for (const auto& v : results.variants) out << " " << v << " low high";
    out << " random\n";
    for (const auto& split : results.splits) {
      out << split;
      for (const auto& v : results.variants) {
        const VariantSplit* vs = summary.Find(v, split);
        if (vs == nullptr || vs->score.n == 0) {
          out << " 0 0 0";
        } else {
          char buf[96];
          std::snprintf(buf, sizeof(buf), " %.6f %.6f %.6f", vs->score.mean,
                        std::max(0.0, vs->score.low),
                        bce ? vs->score.high : std::min(1.0, vs->score.high));
          out << buf;
        }
      }
      auto it = results.random.find(split);
      out << " "
          << (it == results.random.end() ? std::string("NaN") : std::to_string(it->second.score))
          << "\n";
    }
  }
  {
    const size_t nv = results.variants.size();
    std::ofstream out(gp);
    WriteHeader(out, dir + "/" + png,
                "study " + results.name + ": " + MetricName(results.metric) +
                    " per split (mean over seeds, 95% t interval; x: the " +
                    ReferenceName(results.metric) + ")");
    // Boxes and error bars at explicit positions: split i's cluster is centred on x = i.
    const double width = 0.8 / static_cast<double>(nv);
    out << "set style fill solid 0.6 border -1\n"
        << (bce ? "set yrange [0:*]\nset ylabel 'BCE per frame over the rollout (nats)'\n"
                : "set yrange [0:1.15]\nset ytics 0, 0.2, 1\nset ylabel 'success'\n")
        << "set xrange [-0.6:" << static_cast<double>(results.splits.size()) - 0.4 << "]\n"
        << "set key top left horizontal\nset grid ytics\nset xtics scale 0\nplot ";
    const std::string d = GnuplotQuote(dat);
    for (size_t k = 0; k < nv; ++k) {
      const size_t col = 2 + 3 * k;
      char x[64];
      std::snprintf(x, sizeof(x), "($0%+.4f)", (static_cast<double>(k) + 0.5) * width - 0.4);
      out << (k ? ", " : "") << d << " using " << x << ":" << col << ":(" << width
          << ") with boxes lc " << k + 1 << " title " << GnuplotQuote(results.variants[k]) << ", "
          << d << " using " << x << ":" << col << ":" << col + 1 << ":" << col + 2
          << " with yerrorbars pt 0 lc rgb 'black' notitle";
    }
    // The random policy as a marker over each cluster's centre, which also labels the clusters.
    out << ", " << d << " using 0:" << 2 + 3 * nv
        << ":xtic(1) with points pt 2 ps 2 lw 2 lc rgb 'black' title "
        << GnuplotQuote(ReferenceName(results.metric)) << "\n";
  }
  if (!GnuplotAvailable()) return "";
  RunGnuplot(gp);
  return png;
}

std::string PlotRolloutCurves(const StudyResults& results, const std::string& dir) {
  if (results.metric != Metric::kRolloutBce || results.cells.empty()) return "";
  const std::string dat = dir + "/rollout.dat";
  const std::string gp = dir + "/rollout.gp";
  const std::string png = "rollout.png";
  {
    // One index block per split and variant (split-major): step, mean, lowest and highest seed.
    std::ofstream out(dat);
    out << "# BCE per frame at each rollout step; per split and variant: step mean low high\n";
    for (const auto& split : results.splits) {
      for (const auto& v : results.variants) {
        std::vector<std::vector<std::pair<int64_t, double>>> runs;
        for (const auto& c : results.cells) {
          const SplitScore* s = c.variant == v ? c.Find(split) : nullptr;
          if (s == nullptr) continue;
          runs.emplace_back();
          for (size_t k = 0; k < s->per_step.size(); ++k) {
            runs.back().emplace_back(static_cast<int64_t>(k + 1), s->per_step[k]);
          }
        }
        out << "# " << split << " " << v << "\n";
        for (const auto& p : MeanCurve(runs)) {
          char line[160];
          std::snprintf(line, sizeof(line), "%lld %.6f %.6f %.6f\n", p.frames, p.mean, p.low,
                        p.high);
          out << line;
        }
        out << "\n\n";
      }
    }
  }
  {
    const size_t ns = results.splits.size(), nv = results.variants.size();
    std::ofstream out(gp);
    out << "set terminal pngcairo size " << 380 * ns + 80 << ",420 font 'sans,10' noenhanced\n"
        << "set output " << GnuplotQuote(dir + "/" + png) << "\nset multiplot layout 1," << ns
        << " title "
        << GnuplotQuote("study " + results.name +
                        ": BCE per rollout step (mean over seeds, band: lowest to highest seed)")
        << "\n"
        << "set xlabel 'rollout step'\nset ylabel 'BCE per frame (nats)'\nset key top left\n"
        << "set grid\n";
    const std::string d = GnuplotQuote(dat);
    for (size_t i = 0; i < ns; ++i) {
      out << "set title " << GnuplotQuote(results.splits[i]) << "\nplot ";
      for (size_t k = 0; k < nv; ++k) {
        const size_t block = i * nv + k;
        out << (k ? ", " : "") << d << " index " << block
            << " using 1:3:4 with filledcurves fs transparent solid 0.2 lc " << k + 1
            << " notitle, " << d << " index " << block << " using 1:2 with lines lw 2 lc " << k + 1
            << " title " << GnuplotQuote(results.variants[k]);
      }
      auto it = results.random.find(results.splits[i]);
      if (it != results.random.end() && !it->second.per_step.empty()) {
        out << ", " << it->second.score << " with lines dt 2 lc rgb 'black' title "
            << GnuplotQuote(ReferenceName(results.metric));
      }
      out << "\n";
    }
    out << "unset multiplot\n";
  }
  if (!GnuplotAvailable()) return "";
  RunGnuplot(gp);
  return png;
}

}  // namespace rimlab::study
