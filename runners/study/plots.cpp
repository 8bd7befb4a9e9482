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
  {
    // One gnuplot index block per variant: frames, mean, lowest seed, highest seed.
    std::ofstream out(dat);
    out << "# success over the last 100 training episodes; per variant: frames mean low high\n";
    for (const auto& v : results.variants) {
      std::vector<std::vector<std::pair<int64_t, double>>> runs;
      for (const auto& c : results.cells) {
        if (c.variant == v) runs.push_back(ReadSuccessCurve(c.dir + "/metrics.csv"));
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
                "study " + results.name +
                    ": training success (mean over seeds, band: lowest to highest seed)");
    out << "set xlabel 'frames (millions)'\nset ylabel 'success, last 100 episodes'\n"
        << "set yrange [0:1]\nset key bottom right\nset grid\nplot ";
    for (size_t k = 0; k < results.variants.size(); ++k) {
      const std::string d = GnuplotQuote(dat);
      out << (k ? ", " : "") << d << " index " << k
          << " using ($1/1e6):3:4 with filledcurves fs transparent solid 0.2 lc " << k + 1
          << " notitle, " << d << " index " << k << " using ($1/1e6):2 with lines lw 2 lc " << k + 1
          << " title " << GnuplotQuote(results.variants[k]);
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
  {
    std::ofstream out(dat);
    out << "# split, then per variant: mean low high, then the random policy\n# split";
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
                        std::max(0.0, vs->score.low), std::min(1.0, vs->score.high));
          out << buf;
        }
      }
      auto it = results.random.find(split);
      out << " "
          << (it == results.random.end() ? std::string("NaN") : std::to_string(it->second.success))
          << "\n";
    }
  }
  {
    const size_t nv = results.variants.size();
    std::ofstream out(gp);
    WriteHeader(out, dir + "/" + png,
                "study " + results.name +
                    ": success per split (mean over seeds, 95% t interval; x: a random policy)");
    // Boxes and error bars at explicit positions: split i's cluster is centred on x = i.
    const double width = 0.8 / static_cast<double>(nv);
    out << "set style fill solid 0.6 border -1\nset yrange [0:1.15]\nset ytics 0, 0.2, 1\n"
        << "set xrange [-0.6:" << static_cast<double>(results.splits.size()) - 0.4 << "]\n"
        << "set ylabel 'success'\nset key top center horizontal\nset grid ytics\n"
        << "set xtics scale 0\nplot ";
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
        << ":xtic(1) with points pt 2 ps 2 lw 2 lc rgb 'black' title 'random policy'\n";
  }
  if (!GnuplotAvailable()) return "";
  RunGnuplot(gp);
  return png;
}

}  // namespace rimlab::study
