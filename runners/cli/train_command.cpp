// `rimlab train CONFIG`: dispatches on the config's `task`: `rl` (the default; PPO or A2C, see
// train_rl.cpp; `algo: dqn`, train_dqn.cpp; or with `algo: bc` or `crr` learning from a dataset,
// train_offline.cpp), `copying`
// (the paper's supervised copying task) or `predict` (bouncing-balls next-frame prediction,
// train_predict.cpp).
#include <cstdio>
#include <fstream>

#include "agents/copying_task.h"
#include "runners/cli/commands.h"
#include "runners/cli/train_dqn.h"
#include "runners/cli/train_offline.h"
#include "runners/cli/train_predict.h"
#include "runners/cli/train_rl.h"
#include "runners/config/config.h"
#include "runners/run/run_dir.h"

namespace rimlab {

namespace {

int TrainCopying(const Config& config, const TrainArgs& args, const std::string& name) {
  config.CheckSections({"core"});
  Params task = config.Section("");
  task.Erase("name");
  const agents::CopyingOptions options =
      agents::CopyingOptionsFromParams(task, config.Section("core"));
  const std::string dir = CreateRunDir(args.runs_dir, name);
  WriteFileAtomic(dir + "/config.yaml", config.ToYaml());
  std::ofstream csv(dir + "/metrics.csv");
  csv << "update,seconds,train_ce,test_ce_all,test_ce_copy,test_copy_accuracy,"
         "test_sequence_accuracy\n";
  std::printf("run directory: %s\n", dir.c_str());
  const auto result = agents::RunCopying(options, [&](const agents::CopyingEval& e) {
    std::printf(
        "update %6lld  %7.1f s  train_ce %.4f  test (blank %lld): ce_all %.4f  ce_copy %.4f  "
        "copy_acc %.4f  seq_acc %.4f\n",
        static_cast<long long>(e.update), e.seconds, e.train_ce,
        static_cast<long long>(options.test_blank), e.ce_all, e.ce_copy, e.copy_accuracy,
        e.sequence_accuracy);
    std::fflush(stdout);
    csv << e.update << ',' << e.seconds << ',' << e.train_ce << ',' << e.ce_all << ',' << e.ce_copy
        << ',' << e.copy_accuracy << ',' << e.sequence_accuracy << '\n';
    csv.flush();
  });
  std::printf(
      "done: %s core, %lld parameters, %.1f ms/update, test ce_all %.4f, copy accuracy "
      "%.4f\n",
      options.core.type.c_str(), static_cast<long long>(result.parameters), result.ms_per_update,
      result.final_eval.ce_all, result.final_eval.copy_accuracy);
  return 0;
}

}  // namespace

int CmdTrain(const TrainArgs& args) {
  if (!args.resume.empty()) {
    // Exact resume means the same config: overrides would silently change the run.
    if (!args.overrides.empty() || !args.config.empty()) {
      throw std::invalid_argument("--resume takes the run's own config.yaml; drop '" +
                                  (args.config.empty() ? args.overrides[0] : args.config) + "'");
    }
    TrainArgs a = args;
    a.config = args.resume + "/config.yaml";
    if (IsPredictionRun(args.resume)) return TrainPrediction(Config::Load(a.config), a);
    Config config = Config::Load(a.config);
    if (IsOfflineConfig(config)) return TrainOffline(config, a);
    if (IsDqnConfig(config)) return TrainDqn(config, a);
    return TrainOnPolicy(config, a);
  }
  if (args.config.empty()) throw std::invalid_argument("train: give a CONFIG or --resume RUN_DIR");
  Config config = Config::Load(args.config);
  for (const auto& o : args.overrides) config.Override(o);
  ParamReader root(config.Section(""), "config");
  const std::string task = root.Choice("task", "rl", {"rl", "copying", "predict"});
  if (task == "predict") return TrainPrediction(config, args);
  if (task == "copying") {
    const std::string name = root.String("name", StemOf(args.config));
    return TrainCopying(config, args, name);
  }
  config.MutableSection("")->Erase("task");
  if (IsOfflineConfig(config)) return TrainOffline(config, args);
  if (IsDqnConfig(config)) return TrainDqn(config, args);
  return TrainOnPolicy(config, args);
}

}  // namespace rimlab
