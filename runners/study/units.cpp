#include "runners/study/units.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "common/rng.h"
#include "runners/study/plots.h"
#include "runners/study/statistics.h"

namespace rimlab::study {

int64_t UnitSteps::steps() const {
  int64_t n = 0;
  for (int l : episode_lengths) n += l;
  return n;
}

double MutualInformationBits(const Joint& j) {
  const double n = static_cast<double>(j.total());
  if (n == 0.0) return 0.0;
  const double c[2][2] = {{static_cast<double>(j.n00), static_cast<double>(j.n01)},
                          {static_cast<double>(j.n10), static_cast<double>(j.n11)}};
  double mi = 0.0;
  for (int a = 0; a < 2; ++a) {
    for (int f = 0; f < 2; ++f) {
      if (c[a][f] == 0.0) continue;
      const double row = c[a][0] + c[a][1];
      const double col = c[0][f] + c[1][f];
      mi += c[a][f] / n * std::log2(c[a][f] * n / (row * col));
    }
  }
  return std::max(0.0, mi);
}

double UnitFeature::p_active_present() const {
  const int64_t present = joint.n01 + joint.n11;
  return present == 0 ? std::numeric_limits<double>::quiet_NaN()
                      : static_cast<double>(joint.n11) / static_cast<double>(present);
}

double UnitFeature::p_active_absent() const {
  const int64_t absent = joint.n00 + joint.n10;
  return absent == 0 ? std::numeric_limits<double>::quiet_NaN()
                     : static_cast<double>(joint.n10) / static_cast<double>(absent);
}

double UnitFeature::difference() const {
  const double d = p_active_present() - p_active_absent();
  return std::isnan(d) ? 0.0 : d;
}

const UnitFeature& UnitAnalysis::At(int unit, int feature) const {
  return pairs.at(static_cast<size_t>(unit) * features.size() + static_cast<size_t>(feature));
}

namespace {

// Joint counts of unit u against feature f shifted by `shift` steps (0: aligned).
Joint CountJoint(const UnitSteps& s, int64_t n, int u, int f, int64_t shift) {
  const size_t units = static_cast<size_t>(s.num_units);
  const size_t feats = s.features.size();
  int64_t c[2][2] = {{0, 0}, {0, 0}};
  for (int64_t t = 0; t < n; ++t) {
    const int64_t tf = (t + shift) % n;
    const int a = s.active[static_cast<size_t>(t) * units + static_cast<size_t>(u)] != 0;
    const int p = s.feature[static_cast<size_t>(tf) * feats + static_cast<size_t>(f)] != 0;
    ++c[a][p];
  }
  Joint j;
  j.n00 = c[0][0];
  j.n01 = c[0][1];
  j.n10 = c[1][0];
  j.n11 = c[1][1];
  return j;
}

std::string Fixed(double v, int digits) {
  if (std::isnan(v)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

}  // namespace

std::vector<std::vector<double>> DifferenceCorrelation(const std::vector<UnitAnalysis>& analyses) {
  if (analyses.empty()) return {};
  const size_t nf = analyses[0].features.size();
  std::vector<std::vector<double>> columns(nf);
  for (const auto& a : analyses) {
    for (int u = 0; u < a.num_units; ++u) {
      for (size_t f = 0; f < nf; ++f) {
        columns[f].push_back(a.At(u, static_cast<int>(f)).difference());
      }
    }
  }
  std::vector<std::vector<double>> r(nf, std::vector<double>(nf, 0.0));
  for (size_t i = 0; i < nf; ++i) {
    for (size_t j = 0; j < nf; ++j) {
      const auto& x = columns[i];
      const auto& y = columns[j];
      const double n = static_cast<double>(x.size());
      double mx = 0.0, my = 0.0;
      for (size_t k = 0; k < x.size(); ++k) {
        mx += x[k] / n;
        my += y[k] / n;
      }
      double sxy = 0.0, sxx = 0.0, syy = 0.0;
      for (size_t k = 0; k < x.size(); ++k) {
        sxy += (x[k] - mx) * (y[k] - my);
        sxx += (x[k] - mx) * (x[k] - mx);
        syy += (y[k] - my) * (y[k] - my);
      }
      r[i][j] = sxx > 0.0 && syy > 0.0 ? sxy / std::sqrt(sxx * syy)
                                       : std::numeric_limits<double>::quiet_NaN();
    }
  }
  return r;
}

namespace {

// Units that tell two features apart respond to them differently; a correlation near +-1 across
// units says the features move every unit alike, so no unit separates them.
std::string DifferenceCorrelations(const std::vector<UnitAnalysis>& analyses) {
  const auto r = DifferenceCorrelation(analyses);
  const auto& features = analyses[0].features;
  std::vector<size_t> shown;
  for (size_t f = 0; f < features.size(); ++f) {
    if (!std::isnan(r[f][f])) shown.push_back(f);
  }
  if (shown.size() < 2) return "";
  int units = 0;
  for (const auto& a : analyses) units += a.num_units;
  std::ostringstream out;
  out << "Across all " << units
      << " units, the correlation of P(active | present) - P(active | absent) between features "
         "(near +1 or -1: the two features move every unit alike, so no unit tells them "
         "apart):\n\n|  |";
  for (size_t f : shown) out << " " << features[f] << " |";
  out << "\n|---|";
  for (size_t k = 0; k < shown.size(); ++k) out << "---|";
  out << "\n";
  for (size_t i : shown) {
    out << "| " << features[i] << " |";
    for (size_t j : shown) out << " " << Fixed(r[i][j], 2) << " |";
    out << "\n";
  }
  out << "\n";
  return out.str();
}

}  // namespace

UnitAnalysis AnalyseUnits(const UnitSteps& s, int shifts, uint64_t seed) {
  const int64_t n = s.steps();
  const size_t units = static_cast<size_t>(std::max(0, s.num_units));
  const size_t feats = s.features.size();
  if (s.num_units <= 0) throw std::invalid_argument("AnalyseUnits: no units");
  if (s.active.size() != static_cast<size_t>(n) * units ||
      s.feature.size() != static_cast<size_t>(n) * feats) {
    throw std::invalid_argument("AnalyseUnits: " + std::to_string(n) + " steps of " +
                                std::to_string(units) + " units and " + std::to_string(feats) +
                                " features, but " + std::to_string(s.active.size()) +
                                " activity and " + std::to_string(s.feature.size()) +
                                " feature values");
  }
  UnitAnalysis a;
  a.episodes = static_cast<int>(s.episode_lengths.size());
  a.steps = n;
  a.num_units = s.num_units;
  a.features = s.features;
  a.activity.assign(units, 0.0);
  a.feature_steps.assign(feats, 0);
  for (int64_t t = 0; t < n; ++t) {
    for (size_t u = 0; u < units; ++u)
      a.activity[u] += s.active[static_cast<size_t>(t) * units + u];
    for (size_t f = 0; f < feats; ++f)
      a.feature_steps[f] += s.feature[static_cast<size_t>(t) * feats + f];
  }
  for (auto& v : a.activity) v = n > 0 ? v / static_cast<double>(n) : 0.0;

  // A shift shorter than an episode would compare an episode with itself a few steps later.
  int64_t longest = 1;
  for (int l : s.episode_lengths) longest = std::max<int64_t>(longest, l);
  std::vector<int64_t> offsets;
  if (n - 2 * longest > 0) {
    Rng rng(seed);
    for (int k = 0; k < shifts; ++k) {
      offsets.push_back(
          longest + static_cast<int64_t>(rng.Below(static_cast<uint32_t>(n - 2 * longest + 1))));
    }
  }
  a.shifts = static_cast<int>(offsets.size());
  for (size_t u = 0; u < units; ++u) {
    for (size_t f = 0; f < feats; ++f) {
      UnitFeature p;
      p.unit = static_cast<int>(u);
      p.feature = static_cast<int>(f);
      p.joint = CountJoint(s, n, p.unit, p.feature, 0);
      p.mi_bits = MutualInformationBits(p.joint);
      if (!offsets.empty()) {
        std::vector<double> base;
        base.reserve(offsets.size());
        for (int64_t off : offsets) {
          base.push_back(MutualInformationBits(CountJoint(s, n, p.unit, p.feature, off)));
        }
        std::sort(base.begin(), base.end());
        double sum = 0.0;
        for (double b : base) sum += b;
        p.baseline_mean = sum / static_cast<double>(base.size());
        p.baseline_q95 = Quantile(base, 0.95);
        p.baseline_max = base.back();
      }
      a.pairs.push_back(p);
    }
  }
  return a;
}

std::string UnitAnalysisJson(const UnitAnalysis& a) {
  using nlohmann::json;
  json pairs = json::array();
  for (const auto& p : a.pairs) {
    pairs.push_back({{"unit", p.unit},
                     {"feature", a.features[static_cast<size_t>(p.feature)]},
                     {"counts", {p.joint.n00, p.joint.n01, p.joint.n10, p.joint.n11}},
                     {"mi_bits", p.mi_bits},
                     {"baseline_mean", p.baseline_mean},
                     {"baseline_q95", p.baseline_q95},
                     {"baseline_max", p.baseline_max}});
  }
  json j = {{"format", "rimlab-units"},
            {"version", 1},
            {"cell", a.cell},
            {"split", a.split},
            {"episodes", a.episodes},
            {"steps", a.steps},
            {"num_units", a.num_units},
            {"shifts", a.shifts},
            {"features", a.features},
            {"activity", a.activity},
            {"feature_steps", a.feature_steps},
            {"pairs", pairs}};
  return j.dump(1) + "\n";
}

UnitAnalysis ParseUnitAnalysis(const std::string& text, const std::string& path) {
  using nlohmann::json;
  UnitAnalysis a;
  std::string field = "(document)";
  try {
    const json j = json::parse(text);
    field = "format";
    if (j.at("format").get<std::string>() != "rimlab-units") {
      throw std::invalid_argument(path + ": not a units file (format is not \"rimlab-units\")");
    }
    field = "cell";
    a.cell = j.at("cell").get<std::string>();
    field = "split";
    a.split = j.at("split").get<std::string>();
    field = "episodes";
    a.episodes = j.at("episodes").get<int>();
    field = "steps";
    a.steps = j.at("steps").get<int64_t>();
    field = "num_units";
    a.num_units = j.at("num_units").get<int>();
    field = "shifts";
    a.shifts = j.at("shifts").get<int>();
    field = "features";
    a.features = j.at("features").get<std::vector<std::string>>();
    field = "activity";
    a.activity = j.at("activity").get<std::vector<double>>();
    field = "feature_steps";
    a.feature_steps = j.at("feature_steps").get<std::vector<int64_t>>();
    field = "pairs";
    for (const auto& p : j.at("pairs")) {
      UnitFeature u;
      u.unit = p.at("unit").get<int>();
      const auto name = p.at("feature").get<std::string>();
      const auto it = std::find(a.features.begin(), a.features.end(), name);
      if (it == a.features.end()) throw std::invalid_argument("unknown feature '" + name + "'");
      u.feature = static_cast<int>(it - a.features.begin());
      const auto c = p.at("counts").get<std::vector<int64_t>>();
      if (c.size() != 4) throw std::invalid_argument("counts: expected 4 numbers");
      u.joint = {c[0], c[1], c[2], c[3]};
      u.mi_bits = p.at("mi_bits").get<double>();
      u.baseline_mean = p.at("baseline_mean").get<double>();
      u.baseline_q95 = p.at("baseline_q95").get<double>();
      u.baseline_max = p.at("baseline_max").get<double>();
      a.pairs.push_back(u);
    }
    if (a.pairs.size() != static_cast<size_t>(a.num_units) * a.features.size() ||
        a.activity.size() != static_cast<size_t>(a.num_units)) {
      throw std::invalid_argument("expected num_units x features pairs and num_units activities");
    }
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    if (what.rfind(path, 0) == 0) throw;
    throw std::invalid_argument(path + ": " + field + ": " + what);
  } catch (const json::exception& e) {
    throw std::invalid_argument(path + ": " + field + ": " + e.what());
  }
  return a;
}

std::string UnitsConsole(const std::vector<UnitAnalysis>& analyses) {
  if (analyses.empty()) return "";
  std::ostringstream out;
  out << "units (" << analyses.size() << " RIM run(s); informative: more information than all "
      << analyses[0].shifts << " shifted sequences):\n";
  const auto& features = analyses[0].features;
  for (size_t f = 0; f < features.size(); ++f) {
    int cells_with = 0;
    int pairs_with = 0;
    const UnitFeature* best = nullptr;
    const UnitAnalysis* best_cell = nullptr;
    for (const auto& a : analyses) {
      bool any = false;
      for (int u = 0; u < a.num_units; ++u) {
        const UnitFeature& p = a.At(u, static_cast<int>(f));
        if (!p.informative()) continue;
        any = true;
        ++pairs_with;
        if (best == nullptr || std::fabs(p.difference()) > std::fabs(best->difference())) {
          best = &p;
          best_cell = &a;
        }
      }
      cells_with += any;
    }
    char line[256];
    if (best == nullptr) {
      std::snprintf(line, sizeof(line), "  %-18s no unit in any run\n", features[f].c_str());
    } else {
      std::snprintf(line, sizeof(line),
                    "  %-18s %d unit(s) in %d of %zu runs; strongest %s unit %d: active %.2f "
                    "with it, %.2f without\n",
                    features[f].c_str(), pairs_with, cells_with, analyses.size(),
                    best_cell->cell.c_str(), best->unit, best->p_active_present(),
                    best->p_active_absent());
    }
    out << line;
  }
  return out.str();
}

std::string UnitsMarkdown(const std::vector<UnitAnalysis>& analyses, const std::string& heatmap) {
  if (analyses.empty()) return "";
  std::ostringstream out;
  const UnitAnalysis& first = analyses[0];
  out << "\n## What the units do\n\n"
      << "From " << first.episodes << " evaluation episodes per RIM run on `" << first.split
      << "`, each unit's activity against what the agent sees at that step. A table cell reads "
         "P(active | feature present) / P(active | absent); **bold** marks a pair whose mutual "
         "information exceeds that of all "
      << first.shifts << " circular shifts of the feature sequence against the activity (p < "
      << Fixed(1.0 / (first.shifts + 1), 4)
      << " per pair). Dependence on the input is expected of any recurrent unit; specialisation "
         "would show as different units depending on different features.\n\n";
  if (!heatmap.empty()) {
    out << "![P(active | present) - P(active | absent) per unit](" << heatmap << ")\n\n";
  }
  const std::string summary = UnitsConsole(analyses);
  out << "```\n" << summary.substr(summary.find('\n') + 1) << "```\n\n";
  out << DifferenceCorrelations(analyses);
  for (const auto& a : analyses) {
    out << "### " << a.cell << " (" << a.steps << " steps)\n\n| unit | active |";
    for (size_t f = 0; f < a.features.size(); ++f) {
      out << " " << a.features[f] << " ("
          << Fixed(100.0 * static_cast<double>(a.feature_steps[f]) / std::max<int64_t>(1, a.steps),
                   0)
          << "%) |";
    }
    out << "\n|---|---|";
    for (size_t f = 0; f < a.features.size(); ++f) out << "---|";
    out << "\n";
    for (int u = 0; u < a.num_units; ++u) {
      out << "| " << u << " | " << Fixed(a.activity[static_cast<size_t>(u)], 2) << " |";
      for (size_t f = 0; f < a.features.size(); ++f) {
        const UnitFeature& p = a.At(u, static_cast<int>(f));
        const std::string cell =
            Fixed(p.p_active_present(), 2) + " / " + Fixed(p.p_active_absent(), 2);
        out << " " << (p.informative() ? "**" + cell + "**" : cell) << " |";
      }
      out << "\n";
    }
    out << "\n";
  }
  return out.str();
}

std::string PlotUnitHeatmap(const std::vector<UnitAnalysis>& analyses, const std::string& dir) {
  if (analyses.empty() || !GnuplotAvailable()) return "";
  // A feature no run ever saw (carrying, where any pick-up ends the episode) is a blank column.
  std::vector<size_t> shown;
  std::vector<std::string> features;
  for (size_t f = 0; f < analyses[0].features.size(); ++f) {
    bool seen = false;
    for (const auto& a : analyses) seen = seen || a.feature_steps.at(f) > 0;
    if (seen) {
      shown.push_back(f);
      features.push_back(analyses[0].features[f]);
    }
  }
  if (shown.empty()) return "";
  {
    std::ofstream dat(dir + "/units.dat");
    dat << "# column row difference informative\n";
    int row = 0;
    for (const auto& a : analyses) {
      for (int u = 0; u < a.num_units; ++u, ++row) {
        for (size_t col = 0; col < shown.size(); ++col) {
          const UnitFeature& p = a.At(u, static_cast<int>(shown[col]));
          dat << col << " " << row << " " << Fixed(p.difference(), 4) << " "
              << (p.informative() ? "*" : "-") << "\n";
        }
      }
    }
  }
  int rows = 0;
  for (const auto& a : analyses) rows += a.num_units;
  std::ofstream gp(dir + "/units.gp");
  gp << "set terminal pngcairo size 760," << std::max(300, 120 + 18 * rows)
     << " font 'sans,10' noenhanced\nset output " << GnuplotQuote(dir + "/units.png")
     << "\nset title 'P(active | feature) - P(active | no feature); * beats every shifted "
        "sequence'\nset cblabel 'colours end at +-0.5'\n"
     << "set cbrange [-0.5:0.5]\nset palette defined (-1 '#2166ac', 0 '#f7f7f7', 1 '#b2182b')\n"
     << "set xrange [-0.5:" << features.size() - 0.5 << "]\nset yrange [" << rows - 0.5
     << ":-0.5]\nset xtics (";
  for (size_t f = 0; f < features.size(); ++f) {
    gp << (f ? ", " : "") << GnuplotQuote(features[f]) << " " << f;
  }
  gp << ")\nset ytics (";
  int row = 0;
  for (const auto& a : analyses) {
    for (int u = 0; u < a.num_units; ++u, ++row) {
      gp << (row ? ", " : "") << GnuplotQuote(a.cell + " u" + std::to_string(u)) << " " << row;
    }
  }
  gp << ")\nset tics scale 0\nunset key\n"
     << "plot " << GnuplotQuote(dir + "/units.dat")
     << " using 1:2:3 with image, '' using 1:2:(stringcolumn(4) eq '*' ? '*' : '') with labels\n";
  gp.close();
  RunGnuplot(dir + "/units.gp");
  return "units.png";
}

}  // namespace rimlab::study
