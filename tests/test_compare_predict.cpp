// `rimlab compare` on a prediction study (runners/cli/compare_predict.h), as a user runs it: a
// tiny bouncing-balls study (RIM and LSTM predictors, 2 seeds, a few updates) makes its datasets,
// trains its cells, scores each on the rollout per data file, and reports; the mean frame's
// score matches one computed by h5py and numpy from the files; a finished study run again trains
// nothing; bad prediction studies end in one line naming the file, line and key.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "tests/cli_run.h"
#include "tests/file_test_util.h"
#include "tests/study_test_util.h"

using cli_test::Lines;
using cli_test::ReadFile;
using cli_test::Result;
using cli_test::Run;
using cli_test::WriteFile;

namespace fs = std::filesystem;

namespace {

const std::string kDir = "build-test-compare-predict";

// Two data files (4 balls for training and testing, 6-8 balls for testing), 12-frame sequences,
// a rollout of 6 steps after 4 true frames, 4 updates of 2 sequences per cell.
std::string TinyStudy(const std::string& extra = "") {
  const std::string d = kDir + "/data";
  return "study: tinypredict\nbase: ../configs/balls_predict_lstm.yaml\nseeds: [1, 2]\n"
         "updates: 4\n" +
         extra +
         "datasets:\n"
         "  - {file: " +
         d + "/b4.h5, variant: 4, sequences: 6, validation: 2, test: 3, frames: 12}\n" +
         "  - {file: " + d +
         "/b678.h5, variant: 678, sequences: 1, validation: 1, test: 3, frames: 12}\n" +
         "overrides:\n  data.file: " + d +
         "/b4.h5\n  data.sequences: 0\n  data.frames: 12\n  data.validation_sequences: 2\n"
         "  train.batch_size: 2\n  log.eval_every: 2\n  log.checkpoint_every: 2\n"
         "  log.tensorboard: false\n  eval.files: [" +
         d + "/b4.h5, " + d +
         "/b678.h5]\n  eval.burn_in: 4\n  eval.rollout: 6\n"
         "variants:\n  - name: rim\n    base: ../configs/balls_predict_rim.yaml\n  - name: lstm\n"
         "baseline: lstm\neval: {episodes: 3, bootstrap_resamples: 200}\n";
}

void Fresh() {
  study_test::FreshDir(kDir);
}

}  // namespace

TEST_CASE("a prediction study makes its data, scores each cell's rollout and the mean frame",
          "[cli][compare][predict]") {
  Fresh();
  const std::string study = kDir + "/tiny.yaml";
  WriteFile(study, TinyStudy());
  const Result r = Run("compare " + study + " --out " + kDir + "/s --jobs 2");
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK(fs::exists(kDir + "/data/b4.h5"));
  CHECK(fs::exists(kDir + "/data/b678.h5"));
  CHECK_FALSE(fs::exists(kDir + "/data/b4.h5.partial"));

  const std::string csv = ReadFile(kDir + "/s/results.csv");
  CHECK(csv.rfind("study,cell,variant,seed,split,sequences_trained,test_sequences,rollout_bce,",
                  0) == 0);
  CHECK(Lines(csv) == 1 + 4 * 2);  // a header, then every cell on both files
  CHECK(csv.find("tinypredict,rim-s1,rim,1,b4,8,3,") != std::string::npos);  // 4 updates of 2
  CHECK(csv.find("tinypredict,lstm-s2,lstm,2,b678,8,3,") != std::string::npos);
  const std::string cell = ReadFile(kDir + "/s/cells/rim-s2/study_eval.json");
  CHECK(cell.find("\"metric\": \"rollout_bce\"") != std::string::npos);
  CHECK_FALSE(fs::exists(kDir + "/s/cells/rim-s1/units.json"));  // no agent, no unit analysis

  const std::string md = ReadFile(kDir + "/s/report.md");
  CHECK(md.find("## Rollout BCE per split") != std::string::npos);
  CHECK(md.find("| mean frame |") != std::string::npos);
  CHECK(md.find("4 updates per run") != std::string::npos);
  CHECK(md.find("Each held-out split minus `b4`") != std::string::npos);
  CHECK(fs::exists(kDir + "/s/rollout.dat"));
  if (fs::exists("/usr/bin/gnuplot")) CHECK(fs::exists(kDir + "/s/rollout.png"));

  // The mean frame, computed apart from rimlab: numpy over the files as h5py reads them, the
  // lit fraction of the training frames and each test frame's BCE at it.
  const std::string script =
      "import h5py, json, numpy as np\n"
      "d = \"" +
      kDir +
      "/data\"\n"
      "x = h5py.File(d + \"/b4.h5\", \"r\")[\"training\"][\"features\"][:10].astype(np.float64)\n"
      "p = x.mean()\n"
      "got = json.load(open(\"" +
      kDir +
      "/s/random.json\"))\n"
      "for name in (\"b4\", \"b678\"):\n"
      "    t = h5py.File(d + \"/\" + name + \".h5\", \"r\")[\"test\"][\"features\"][4:10]\n"
      "    lit = t.astype(np.float64).sum(axis=(2, 3, 4))\n"
      "    bce = -(lit * np.log(p) + (64 * 64 - lit) * np.log1p(-p))\n"
      "    want = bce.mean()\n"
      "    have = got[name][\"rollout_bce\"]\n"
      "    assert abs(have - want) < 1e-9 * want, (name, have, want)\n"
      "    steps = got[name][\"bce_per_step\"]\n"
      "    assert np.allclose(steps, bce.mean(axis=1), rtol=1e-9), (steps, bce.mean(axis=1))\n";
  CHECK(file_test::RunPython(script) == 0);

  // Run again: every cell finished, nothing retrained, the same results.
  const Result again = Run("compare " + study + " --out " + kDir + "/s");
  INFO(again.out << again.err);
  REQUIRE(again.status == 0);
  CHECK(again.out.find("(4 finished earlier)") != std::string::npos);
  CHECK(ReadFile(kDir + "/s/results.csv") == csv);
  fs::remove_all(kDir);
}

TEST_CASE("bad prediction studies end in one line naming the file, line and key",
          "[cli][compare][predict]") {
  Fresh();
  std::string frames = TinyStudy();
  frames.replace(frames.find("updates: 4"), 10, "total_frames: 4096");
  std::string variant = TinyStudy();
  variant.replace(variant.find("variant: 678"), 12, "variant: 9");
  std::string mixed = TinyStudy();
  mixed.replace(mixed.find("  - name: lstm\n"), 15,
                "  - name: lstm\n    base: ../configs/bandit_ppo.yaml\n");
  std::string split = TinyStudy();
  split.replace(split.find("eval: {"), 7, "eval: {splits: [b4, b5], ");
  const std::vector<study_test::BadStudy> cases = {
      {"a budget in frames", frames, ":4: key 'total_frames'"},
      {"an unknown balls variant", variant, ":7: key 'variant'"},
      {"RL and prediction variants mixed", mixed, ":23: key 'base'"},
      {"a split that is no data file", split, ": key 'splits': no data file 'b5'"},
  };
  study_test::CheckBadStudies(kDir, cases);
  CHECK_FALSE(fs::exists(kDir + "/data"));  // no data made for a study that cannot run
  fs::remove_all(kDir);
}
