#include "runners/study/report.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace rimlab::study {

namespace {

std::string Fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), format, v);
  return buf;
}

std::string Signed(double v, Metric metric) {
  return Fmt(metric == Metric::kSuccess ? "%+.3f" : "%+.1f", v);
}

std::string Cell(const MeanInterval& m, Metric metric) {
  const char* f = MetricFormat(metric);
  if (m.n == 0) return "-";
  if (!m.has_interval) return Fmt(f, m.mean) + " (1 seed)";
  return Fmt(f, m.mean) + " [" + Fmt(f, m.low) + ", " + Fmt(f, m.high) + "]";
}

std::string Reference(const StudyResults& results, const std::string& split) {
  auto it = results.random.find(split);
  return it == results.random.end() ? "-" : Fmt(MetricFormat(results.metric), it->second.score);
}

}  // namespace

const VariantSplit* StudySummary::Find(const std::string& variant, const std::string& split) const {
  for (const auto& s : scores) {
    if (s.variant == variant && s.split == split) return &s;
  }
  return nullptr;
}

constexpr int kTrustedSeeds = 5;

std::string ComparisonSentence(const Comparison& c, int seeds_variant, int seeds_baseline,
                               double variant_mean, double baseline_mean) {
  std::string seeds =
      seeds_variant == seeds_baseline
          ? std::to_string(seeds_variant) + (seeds_variant == 1 ? " seed each" : " seeds each")
          : std::to_string(seeds_variant) + " and " + std::to_string(seeds_baseline) + " seeds";
  const char* f = MetricFormat(c.metric);
  std::string s = "`" + c.split + "`: " + c.variant + " " + Fmt(f, variant_mean) + " against " +
                  c.baseline + " " + Fmt(f, baseline_mean) + ", a difference of " +
                  Signed(c.diff.estimate, c.metric) + " (95% bootstrap interval " +
                  Signed(c.diff.low, c.metric) + " to " + Signed(c.diff.high, c.metric) + ", " +
                  seeds + "): ";
  if (seeds_variant < 2 || seeds_baseline < 2) {
    return s + "with a single seed on a side there is no interval to speak of; run more seeds.";
  }
  if (c.diff.excludes_zero()) {
    std::string verdict = s + "the interval excludes zero: " + c.variant + " is " +
                          ((c.diff.estimate > 0) == HigherIsBetter(c.metric) ? "better" : "worse") +
                          " than " + c.baseline + " on `" + c.split + "` in this study.";
    // Resampling 2-4 seeds gives a handful of distinct means, so the percentile interval is far
    // narrower than the uncertainty it stands for.
    if (std::min(seeds_variant, seeds_baseline) < kTrustedSeeds) {
      verdict += " With " + std::to_string(std::min(seeds_variant, seeds_baseline)) +
                 " seeds a side the bootstrap understates the uncertainty: a hint, not a finding.";
    }
    return verdict;
  }
  return s +
         "the interval includes zero, so at this budget and seed count the two are not "
         "told apart.";
}

StudySummary Summarise(const StudyResults& results, int resamples, uint64_t seed) {
  StudySummary out;
  out.train_split = results.splits.empty() ? "" : results.splits.front();
  for (const auto& s : results.splits) {
    if (s == "train") out.train_split = s;
  }
  for (const auto& v : results.variants) {
    for (const auto& split : results.splits) {
      VariantSplit vs;
      vs.variant = v;
      vs.split = split;
      for (const auto& c : results.cells) {
        if (c.variant != v) continue;
        if (const SplitScore* sc = c.Find(split)) vs.per_seed.push_back(sc->score);
      }
      vs.score = MeanWithInterval(vs.per_seed);
      // A success rate lies in [0, 1] and a BCE above 0; with few seeds the t interval can reach
      // past either end.
      vs.score.low = std::max(0.0, vs.score.low);
      if (results.metric == Metric::kSuccess) vs.score.high = std::min(1.0, vs.score.high);
      out.scores.push_back(vs);
    }
    for (const auto& split : results.splits) {
      if (split == out.train_split) continue;
      std::vector<double> gaps;
      for (const auto& c : results.cells) {
        if (c.variant != v) continue;
        const SplitScore* tr = c.Find(out.train_split);
        const SplitScore* held = c.Find(split);
        // How much worse the held-out split is: less success, or more BCE.
        if (tr && held) {
          gaps.push_back(HigherIsBetter(results.metric) ? tr->score - held->score
                                                        : held->score - tr->score);
        }
      }
      out.gaps.push_back({v, split, MeanWithInterval(gaps)});
    }
  }
  // Each comparison gets its own bootstrap stream, so adding a split or a variant does not move
  // the intervals of the others.
  uint64_t stream = 0;
  for (const auto& v : results.variants) {
    if (v == results.baseline) continue;
    for (const auto& split : results.splits) {
      ++stream;
      const VariantSplit* a = out.Find(v, split);
      const VariantSplit* b = out.Find(results.baseline, split);
      if (!a || !b || a->per_seed.empty() || b->per_seed.empty()) continue;
      Comparison c;
      c.variant = v;
      c.baseline = results.baseline;
      c.split = split;
      c.metric = results.metric;
      c.diff = BootstrapDifference(a->per_seed, b->per_seed, resamples, seed + 7919 * stream);
      c.sentence = ComparisonSentence(c, a->score.n, b->score.n, a->score.mean, b->score.mean);
      out.comparisons.push_back(c);
    }
  }
  return out;
}

std::string ReportMarkdown(const StudyResults& results, const StudySummary& summary,
                           const ReportInfo& info) {
  const Metric metric = results.metric;
  const char* f = MetricFormat(metric);
  std::ostringstream md;
  md << "# Study `" << results.name << "`\n\n";
  md << "Study file `" << info.study_file << "`, base config `" << info.base_config << "`; "
     << info.budget << "; seeds";
  for (size_t i = 0; i < results.seeds.size(); ++i) md << (i ? ", " : " ") << results.seeds[i];
  md << "; every run evaluated on " << info.evaluation << ". " << results.cells.size() << " of "
     << results.cells.size() + results.missing.size() << " cells finished";
  if (!results.missing.empty()) {
    md << " (missing:";
    for (const auto& m : results.missing) md << " " << m;
    md << "; the figures below cover the finished ones)";
  }
  md << ".\n\n";
  if (!info.parameters.empty()) {
    md << "Parameters:";
    for (size_t i = 0; i < info.parameters.size(); ++i) {
      md << (i ? "," : "") << " " << info.parameters[i].first << " " << info.parameters[i].second;
    }
    md << ".\n\n";
  }

  std::string name = MetricName(metric);
  name[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[0])));
  md << "## " << name << " per split\n\nMean over seeds with a 95% t interval ("
     << (metric == Metric::kSuccess ? "cut to [0, 1]; higher is better"
                                    : "nats per frame, lower is better")
     << "); the " << ReferenceName(metric) << "'s score on the same split (" << info.reference
     << ") shows how hard the split is.\n\n| split |";
  for (const auto& v : results.variants) md << " " << v << " |";
  md << " " << ReferenceName(metric) << " |\n| --- |";
  for (size_t i = 0; i <= results.variants.size(); ++i) md << " --- |";
  md << "\n";
  for (const auto& split : results.splits) {
    md << "| `" << split << "` |";
    for (const auto& v : results.variants) {
      const VariantSplit* vs = summary.Find(v, split);
      md << " " << (vs ? Cell(vs->score, metric) : "-") << " |";
    }
    md << " " << Reference(results, split) << " |\n";
  }

  md << "\nPer seed:\n\n| variant | seed |";
  for (const auto& split : results.splits) md << " `" << split << "` |";
  md << "\n| --- | --- |";
  for (size_t i = 0; i < results.splits.size(); ++i) md << " --- |";
  md << "\n";
  for (const auto& c : results.cells) {
    md << "| " << c.variant << " | " << c.seed << " |";
    for (const auto& split : results.splits) {
      const SplitScore* s = c.Find(split);
      md << " " << (s ? Fmt(f, s->score) : "-") << " |";
    }
    md << "\n";
  }

  if (!summary.gaps.empty()) {
    md << "\n## Generalisation gap\n\n"
       << (metric == Metric::kSuccess ? "`" + summary.train_split + "` minus each held-out split"
                                      : "Each held-out split minus `" + summary.train_split + "`")
       << ", per seed, then the mean with a 95% t interval (smaller is better).\n\n| variant |";
    std::vector<std::string> held;
    for (const auto& s : results.splits) {
      if (s != summary.train_split) held.push_back(s);
    }
    for (const auto& s : held) md << " `" << s << "` |";
    md << "\n| --- |";
    for (size_t i = 0; i < held.size(); ++i) md << " --- |";
    md << "\n";
    for (const auto& v : results.variants) {
      md << "| " << v << " |";
      for (const auto& s : held) {
        for (const auto& g : summary.gaps) {
          if (g.variant == v && g.split == s) md << " " << Cell(g.gap, metric) << " |";
        }
      }
      md << "\n";
    }
  }

  if (!summary.comparisons.empty()) {
    md << "\n## Against " << results.baseline
       << "\n\nThe difference of the means over seeds, with a percentile bootstrap over seeds "
          "(each variant's seeds resampled with replacement).\n\n";
    for (const auto& c : summary.comparisons) md << "- " << c.sentence << "\n";
  }
  if (!info.plots.empty()) {
    md << "\n## Plots\n\n";
    for (const auto& p : info.plots) md << "![" << p.first << "](" << p.second << ")\n\n";
  }
  if (!info.extra_markdown.empty()) md << "\n" << info.extra_markdown;
  return md.str();
}

std::string ConsoleReport(const StudyResults& results, const StudySummary& summary) {
  std::ostringstream out;
  char buf[256];
  out << MetricName(results.metric) << ", mean over seeds [95% interval]"
      << (HigherIsBetter(results.metric) ? "" : ", lower is better") << "\n";
  // Wide enough for the longest split name ("balls3curtain"), so the columns stay aligned.
  int width = 10;
  for (const auto& split : results.splits) width = std::max(width, static_cast<int>(split.size()));
  std::snprintf(buf, sizeof(buf), "%-*s", width, "split");
  out << buf;
  for (const auto& v : results.variants) {
    std::snprintf(buf, sizeof(buf), "  %-26s", v.c_str());
    out << buf;
  }
  out << "  " << (results.metric == Metric::kSuccess ? "random" : "mean frame") << "\n";
  for (const auto& split : results.splits) {
    std::snprintf(buf, sizeof(buf), "%-*s", width, split.c_str());
    out << buf;
    for (const auto& v : results.variants) {
      const VariantSplit* vs = summary.Find(v, split);
      std::snprintf(buf, sizeof(buf), "  %-26s",
                    vs ? Cell(vs->score, results.metric).c_str() : "-");
      out << buf;
    }
    out << "  " << Reference(results, split) << "\n";
  }
  for (const auto& c : summary.comparisons) out << "- " << c.sentence << "\n";
  return out.str();
}

}  // namespace rimlab::study
