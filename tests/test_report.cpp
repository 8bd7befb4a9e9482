// A study's summary and report (runners/study/report.h, results.h) on hand-made results: means
// and t intervals worked out by hand, gaps per seed, the direction and wording of comparisons,
// the clipping of success intervals to [0, 1], and results.csv.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "runners/study/plots.h"
#include "runners/study/report.h"
#include "runners/study/results.h"

using namespace rimlab::study;

namespace {

CellResult MakeCell(const std::string& variant, int seed, double train, double held) {
  CellResult c;
  c.id = variant + "-s" + std::to_string(seed);
  c.variant = variant;
  c.seed = seed;
  c.frames = 1000;
  c.checkpoint = "ckpt.pt";
  c.splits.push_back({"train", 100, train, train - 0.1, train + 0.1, train, 0.01, 20.0});
  c.splits.push_back({"more", 100, held, held - 0.1, held + 0.1, held, 0.01, 30.0});
  return c;
}

StudyResults TwoByThree(const std::vector<double>& rim_train, const std::vector<double>& rim_more,
                        const std::vector<double>& lstm_train,
                        const std::vector<double>& lstm_more) {
  StudyResults r;
  r.name = "t";
  r.variants = {"rim", "lstm"};
  r.baseline = "lstm";
  r.splits = {"train", "more"};
  r.seeds = {1, 2, 3};
  for (int s = 0; s < 3; ++s) r.cells.push_back(MakeCell("rim", s + 1, rim_train[s], rim_more[s]));
  for (int s = 0; s < 3; ++s) {
    r.cells.push_back(MakeCell("lstm", s + 1, lstm_train[s], lstm_more[s]));
  }
  return r;
}

}  // namespace

TEST_CASE("the summary's means, intervals and gaps match hand computation") {
  const StudyResults r =
      TwoByThree({0.8, 0.9, 0.7}, {0.5, 0.4, 0.6}, {0.9, 0.9, 0.9}, {0.2, 0.3, 0.1});
  const StudySummary s = Summarise(r, 2000);
  CHECK(s.train_split == "train");
  const VariantSplit* rim = s.Find("rim", "more");
  REQUIRE(rim != nullptr);
  // mean 0.5, sd 0.1, t(0.975, 2) = 4.302653: half-width 4.302653 * 0.1 / sqrt(3) = 0.248414.
  CHECK(rim->score.mean == Approx(0.5));
  CHECK(rim->score.low == Approx(0.5 - 0.248414).epsilon(1e-5));
  CHECK(rim->score.high == Approx(0.5 + 0.248414).epsilon(1e-5));
  // The same spread around 0.8 reaches past 1, and around 0.2 below 0: cut there.
  CHECK(s.Find("rim", "train")->score.high == 1.0);
  CHECK(s.Find("rim", "train")->score.low == Approx(0.8 - 0.248414).epsilon(1e-5));
  CHECK(s.Find("lstm", "more")->score.low == 0.0);
  CHECK(s.Find("lstm", "more")->score.high == Approx(0.2 + 0.248414).epsilon(1e-5));
  // No spread: the interval is the mean itself.
  CHECK(s.Find("lstm", "train")->score.low == Approx(0.9));
  // Gaps per seed: rim 0.3, 0.5, 0.1 (mean 0.3); lstm 0.7, 0.6, 0.8 (mean 0.7).
  REQUIRE(s.gaps.size() == 2);
  CHECK(s.gaps[0].variant == "rim");
  CHECK(s.gaps[0].split == "more");
  CHECK(s.gaps[0].gap.mean == Approx(0.3));
  CHECK(s.gaps[1].gap.mean == Approx(0.7));
}

TEST_CASE("comparisons say which way a split came out and whether the interval excludes zero") {
  const StudyResults r =
      TwoByThree({0.8, 0.9, 0.7}, {0.5, 0.4, 0.6}, {0.9, 0.9, 0.9}, {0.2, 0.3, 0.1});
  const StudySummary s = Summarise(r, 2000);
  REQUIRE(s.comparisons.size() == 2);
  const Comparison& train = s.comparisons[0];
  const Comparison& more = s.comparisons[1];
  CHECK(train.split == "train");
  CHECK(train.diff.estimate == Approx(-0.1));
  // Every resample of rim's train scores has a mean in [0.7, 0.9] and lstm's is 0.9: the interval
  // reaches zero from below, so the two are not told apart.
  CHECK(train.diff.high == Approx(0.0).margin(1e-12));
  CHECK_THAT(train.sentence, Catch::Contains("not told apart"));
  // On `more` rim's resampled means lie in [0.4, 0.6] and lstm's in [0.1, 0.3].
  CHECK(more.diff.estimate == Approx(0.3));
  CHECK(more.diff.low > 0.0);
  CHECK_THAT(more.sentence, Catch::Contains("excludes zero: rim is better than lstm on `more`"));
  CHECK_THAT(more.sentence, Catch::Contains("3 seeds each"));
  // Three seeds a side are too few for the bootstrap to be trusted, and the sentence says so.
  CHECK_THAT(more.sentence, Catch::Contains("With 3 seeds a side the bootstrap understates"));
  CHECK_THAT(train.sentence, !Catch::Contains("understates"));
  CHECK_THAT(ComparisonSentence(more, 5, 5, 0.5, 0.2), !Catch::Contains("understates"));
  CHECK_THAT(ComparisonSentence(more, 5, 4, 0.5, 0.2), Catch::Contains("With 4 seeds a side"));
}

TEST_CASE("results.csv has one row per cell and split, and the report every section") {
  const StudyResults r =
      TwoByThree({0.8, 0.9, 0.7}, {0.5, 0.4, 0.6}, {0.9, 0.9, 0.9}, {0.2, 0.3, 0.1});
  const std::string csv = ResultsCsv(r);
  int lines = 0;
  for (char c : csv) lines += c == '\n';
  CHECK(lines == 1 + 6 * 2);
  CHECK(csv.rfind("study,cell,variant,seed,split,", 0) == 0);
  CHECK(csv.find("t,rim-s2,rim,2,more,1000,100,0.4,") != std::string::npos);
  ReportInfo info;
  info.study_file = "s.yaml";
  info.evaluation = "100 episodes per split";
  const std::string md = ReportMarkdown(r, Summarise(r, 200), info);
  for (const char* section :
       {"## Success per split", "## Generalisation gap", "## Against lstm", "Per seed:"}) {
    CHECK_THAT(md, Catch::Contains(section));
  }
  CHECK_THAT(md, Catch::Contains("| `more` | 0.500 ["));
  const std::string console = ConsoleReport(r, Summarise(r, 200));
  CHECK_THAT(console, Catch::Contains("train"));
  CHECK_THAT(console, Catch::Contains("- `more`: rim 0.500 against lstm 0.200"));
}

TEST_CASE("a cell's result file round-trips and names the file when broken") {
  const CellResult c = MakeCell("rim", 4, 0.75, 0.25);
  const CellResult back = ParseCellResult(CellResultJson(c), "x.json");
  CHECK(back.id == "rim-s4");
  CHECK(back.seed == 4);
  REQUIRE(back.splits.size() == 2);
  CHECK(back.Find("more")->score == 0.25);
  CHECK(back.metric == Metric::kSuccess);
  CHECK_THROWS_WITH(ParseCellResult("{\"id\": 3}", "cells/a/study_eval.json"),
                    Catch::Contains("cells/a/study_eval.json"));
}

TEST_CASE("the split bars are drawn by gnuplot from a data file of one row per split") {
  namespace fs = std::filesystem;
  const StudyResults r =
      TwoByThree({0.8, 0.9, 0.7}, {0.5, 0.4, 0.6}, {0.9, 0.9, 0.9}, {0.2, 0.3, 0.1});
  const std::string dir = "build-test-report-plots";
  fs::remove_all(dir);
  fs::create_directories(dir);
  REQUIRE(GnuplotAvailable());  // scripts/setup.sh installs gnuplot-nox
  CHECK(PlotSplitBars(r, Summarise(r, 200), dir) == "splits.png");
  CHECK(fs::file_size(dir + "/splits.png") > 1000);
  std::ifstream dat(dir + "/splits.dat");
  std::vector<std::string> rows;
  for (std::string line; std::getline(dat, line);) {
    if (!line.empty() && line[0] != '#') rows.push_back(line);
  }
  REQUIRE(rows.size() == 2);  // the header is a comment, so that gnuplot's $0 counts splits
  CHECK(rows[1].rfind("more 0.500000 ", 0) == 0);
  fs::remove_all(dir);
}

TEST_CASE("a prediction study's BCE: lower is better, gaps held-out minus train, no cut at 1") {
  // BCE per frame: rim 100, 110, 120 on train and 300, 320, 340 held out; lstm 200 and 500 flat.
  StudyResults r = TwoByThree({100, 110, 120}, {300, 320, 340}, {200, 200, 200}, {500, 500, 500});
  r.metric = Metric::kRolloutBce;
  for (auto& c : r.cells) {
    c.metric = Metric::kRolloutBce;
    for (auto& sp : c.splits) sp.per_step = {sp.score - 1, sp.score + 1};
  }
  const StudySummary s = Summarise(r, 2000);
  const VariantSplit* rim = s.Find("rim", "train");
  REQUIRE(rim != nullptr);
  CHECK(rim->score.mean == Approx(110.0));
  // sd 10, t(0.975, 2) = 4.302653: 110 +- 24.84, not cut to [0, 1].
  CHECK(rim->score.high == Approx(110.0 + 4.302653 * 10.0 / std::sqrt(3.0)).epsilon(1e-5));
  for (const auto& g : s.gaps) {
    if (g.variant == "rim") CHECK(g.gap.mean == Approx(210.0));  // more minus train
    if (g.variant == "lstm") CHECK(g.gap.mean == Approx(300.0));
  }
  REQUIRE(s.comparisons.size() == 2);
  for (const auto& c : s.comparisons) {
    CHECK(c.diff.estimate < 0);  // rim's BCE is lower on both splits ...
    CHECK_THAT(c.sentence, Catch::Contains("rim is better than lstm"));  // ... which is better
  }
  CHECK_THAT(s.comparisons[0].sentence, Catch::Contains("rim 110.0 against lstm 200.0"));

  const std::string csv = ResultsCsv(r);
  CHECK(csv.rfind("study,cell,variant,seed,split,sequences_trained,test_sequences,rollout_bce,"
                  "rollout_bce_low,rollout_bce_high,bce_first_step,bce_last_step,rollout_steps\n",
                  0) == 0);
  CHECK(csv.find("t,rim-s2,rim,2,more,1000,100,320,319.9,320.1,319,321,2\n") != std::string::npos);
  const CellResult back = ParseCellResult(CellResultJson(r.cells[1]), "x.json");
  CHECK(back.metric == Metric::kRolloutBce);
  CHECK(back.Find("more")->per_step == std::vector<double>{319, 321});
  CHECK_THROWS_WITH(ParseCellResult("{\"metric\": \"accuracy\"}", "c/study_eval.json"),
                    Catch::Contains("c/study_eval.json: unknown metric 'accuracy'"));

  ReportInfo info;
  info.budget = "4 updates per run";
  const std::string md = ReportMarkdown(r, s, info);
  CHECK_THAT(md, Catch::Contains("## Rollout BCE per split"));
  CHECK_THAT(md, Catch::Contains("| `more` | 320.0 ["));
  CHECK_THAT(md, Catch::Contains("Each held-out split minus `train`"));
  CHECK_THAT(ConsoleReport(r, s),
             Catch::Contains("rollout BCE, mean over seeds [95% interval], lower is better"));

  // A split name longer than the usual column keeps every row's columns aligned.
  for (auto& c : r.cells) c.splits[1].split = "balls3curtain";
  r.splits = {"train", "balls3curtain"};
  const std::string console = ConsoleReport(r, Summarise(r, 200));
  std::vector<size_t> rim_column;
  std::istringstream lines(console);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("- ", 0) == 0 || line.find("mean over seeds") != std::string::npos) continue;
    rim_column.push_back(line.find_first_not_of(' ', line.find(' ')));  // the second column
  }
  REQUIRE(rim_column.size() == 3);  // the header, train, balls3curtain
  CHECK(rim_column[0] == rim_column[1]);
  CHECK(rim_column[1] == rim_column[2]);
}
