// rimlab: the command line. Each subcommand reads a YAML config (plus key=value overrides), builds
// the pieces it needs and reports; bad input exits with status 2 and a one-line error that names
// the file, the key and what was expected.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iostream>

#include "bench/bench.h"
#include "runners/cli/balls_data.h"
#include "runners/cli/commands.h"
#include "runners/cli/process_tuning.h"
#include "runners/config/config.h"
#ifdef RIMLAB_WITH_TORCH
#include "runners/cli/collect.h"
#include "runners/cli/compare.h"
#include "runners/cli/train_predict.h"
#include "runners/train/policy.h"
#endif

namespace {

constexpr const char* kDescription =
    "rimlab: recurrent independent mechanisms vs LSTMs in reinforcement learning.\n"
    "Configs are YAML files (see configs/README.md); append section.key=value to override.";

}  // namespace

int main(int argc, char** argv) {
  rimlab::TuneProcess(argc, argv);
  CLI::App app{kDescription, "rimlab"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "rimlab 0.1");

  rimlab::RolloutArgs rollout;
  auto* cmd_rollout =
      app.add_subcommand("rollout", "Step one env with a fixed action list and print every step");
  cmd_rollout->add_option("config", rollout.config, "YAML config with an `env` section")
      ->required();
  cmd_rollout->add_option("overrides", rollout.overrides, "section.key=value overrides");
  cmd_rollout->add_option("--seed", rollout.seed, "episode seed (default: the config's seed)");
  cmd_rollout->add_option("--actions", rollout.actions,
                          "comma-separated actions, ids or names: 2,2,1,3 or forward,left");
  cmd_rollout->add_option("--format", rollout.format, "json or text")
      ->check(CLI::IsMember({"json", "text"}));

  rimlab::EvalArgs eval;
  auto* cmd_eval = app.add_subcommand(
      "eval", "Evaluate a policy on the config's env and its splits; prints success with 95% CIs");
  cmd_eval
      ->add_option("config", eval.config,
                   "YAML config with `env` and `pool` sections (random policy), or a run "
                   "directory or checkpoint (trained policy; more runs may follow, compared side "
                   "by side)")
      ->required();
  cmd_eval->add_option("overrides", eval.overrides,
                       "section.key=value overrides, or further run directories");
  cmd_eval->add_option("--policy", eval.policy, "policy to evaluate: random")
      ->check(CLI::IsMember({"random"}));
  cmd_eval
      ->add_option("--split", eval.splits,
                   "splits to evaluate, comma-separated, or `all` (default: the config's)")
      ->delimiter(',');
  cmd_eval->add_option("--episodes", eval.episodes, "episodes per split")
      ->check(CLI::Range(1, 100000000));
  cmd_eval->add_flag("--greedy", eval.greedy,
                     "trained policies: take the most likely action (default: sample)");
  cmd_eval->add_option("--format", eval.format, "table or json")
      ->check(CLI::IsMember({"table", "json"}));
  cmd_eval
      ->add_option("--data", eval.data,
                   "prediction runs: HDF5 files of sequences, comma-separated (default: the "
                   "run's eval.files); --episodes counts sequences")
      ->delimiter(',');
  cmd_eval
      ->add_option("--feedback", eval.feedback,
                   "prediction runs: what the rollout feeds back, the predicted probabilities "
                   "(the paper's) or binary frames (default: the run's eval.feedback)")
      ->check(CLI::IsMember({"probabilities", "binary"}));
  cmd_eval->add_option("--out", eval.out,
                       "prediction runs: directory for the CSVs, JSON and plot (default: the "
                       "first run's eval/)");

#ifdef RIMLAB_WITH_TORCH
  rimlab::TrainArgs train;
  auto* cmd_train = app.add_subcommand(
      "train",
      "Train a policy (PPO, A2C or recurrent DQN with an lstm, gru or rim core: algo=ppo|a2c|dqn; "
      "or behaviour cloning or CRR "
      "from a dataset of rimlab collect: algo=bc|crr dataset=DIR), the copying task or the "
      "balls predictor; writes runs/NAME/ (config.yaml, metrics.csv, tb/, checkpoints/, "
      "episodes/). Ctrl-C saves a checkpoint; --resume continues exactly.");
  cmd_train->add_option("config", train.config, "YAML config (see configs/README.md)");
  cmd_train->add_option("overrides", train.overrides, "section.key=value overrides");
  cmd_train->add_option("--runs", train.runs_dir, "where run directories go (default: runs)");
  cmd_train->add_option("--resume", train.resume,
                        "continue the run in this directory from its newest checkpoint");
  cmd_train
      ->add_option("--stop-after-frames", train.stop_after_frames,
                   "save a checkpoint and stop once this many frames are done")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 50));

  rimlab::CompareArgs compare;
  auto* cmd_compare = app.add_subcommand(
      "compare",
      "Run a study: train every variant of a study file over its seeds (each an ordinary run in "
      "STUDY_DIR/cells/), evaluate them on the study's splits, and write results.csv, report.md "
      "(means over seeds with 95% intervals, generalisation gaps, bootstrap differences from "
      "the baseline) and plots. Run again to resume; see configs/studies/README.md.");
  cmd_compare->add_option("study", compare.study, "study file (YAML)")->required();
  cmd_compare->add_option("--out", compare.out, "the study's directory (default: studies/NAME)");
  cmd_compare->add_option("--jobs", compare.jobs, "cells side by side (default: one per core)")
      ->check(CLI::Range(1, 1024));
  cmd_compare
      ->add_option("--threads", compare.threads,
                   "actor-pool threads per cell (default: cores / jobs); results do not depend "
                   "on it")
      ->check(CLI::Range(1, 1024));
  cmd_compare->add_option("--cell", compare.cell,
                          "train and evaluate this one cell in this process (for schedulers)");
  cmd_compare->add_flag("--list-cells", compare.list_cells, "print the cells' ids and exit");
  cmd_compare
      ->add_option("--merge", compare.merge,
                   "study directories (comma-separated) whose finished cells are joined; the "
                   "report goes to --out")
      ->delimiter(',');
  cmd_compare
      ->add_option("--frames", compare.frames,
                   "training frames per cell, in place of the study file's total_frames")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 50));
  cmd_compare
      ->add_option("--updates", compare.updates,
                   "prediction studies: updates per cell, in place of the study file's updates")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  cmd_compare->add_option("--seeds", compare.seeds, "seeds 1..N in place of the study file's seeds")
      ->check(CLI::Range(1, 1000));
  cmd_compare
      ->add_option("--episodes", compare.episodes,
                   "evaluation episodes per split (prediction studies: test sequences per data "
                   "file), in place of the study file's eval.episodes")
      ->check(CLI::Range(1, 100000000));
  cmd_compare->add_flag("--check", compare.check,
                        "build every variant's config and print the cells, without training or "
                        "writing anything");
  cmd_compare->add_flag("--report", compare.report_only,
                        "train nothing: report the cells finished so far");
#endif

#ifdef RIMLAB_WITH_TORCH
  rimlab::CollectArgs collect;
  auto* cmd_collect = app.add_subcommand(
      "collect",
      "Record whole episodes of a random or trained policy as a Minari dataset "
      "(DIR/data/main_data.hdf5 and metadata.json), for offline agents (CRR, behaviour cloning) "
      "and Minari's own tools");
  cmd_collect
      ->add_option("source", collect.source,
                   "random, or a run directory or checkpoint whose policy acts")
      ->required();
  cmd_collect->add_option("overrides", collect.overrides,
                          "section.key=value overrides of --config (random policy only)");
  cmd_collect->add_option("--config", collect.config,
                          "YAML config whose `env` section names the env (random policy; a "
                          "trained run uses its own)");
  cmd_collect->add_option("--episodes", collect.episodes, "episodes to record")
      ->required()
      ->check(CLI::Range(int64_t{1}, int64_t{100000000}));
  cmd_collect
      ->add_option("--epsilon", collect.epsilon,
                   "probability of a uniform random action in place of the policy's (the "
                   "recorded probabilities include it)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd_collect->add_option("--split", collect.split, "the env's split to collect on");
  cmd_collect->add_option("--seed", collect.seed,
                          "seed of the first episode; episode i uses seed + i (default: the "
                          "config's seed)");
  cmd_collect->add_flag("--greedy", collect.greedy,
                        "the policy's most likely action instead of a sample");
  cmd_collect->add_option("--out", collect.out, "the dataset directory")->required();
  cmd_collect->add_flag("--append", collect.append,
                        "add the episodes to the dataset already in --out (same env and spaces)");
  cmd_collect->add_flag("--quiet", collect.quiet, "no progress or summary");
#endif

  rimlab::BallsDataArgs balls_data;
  auto* cmd_balls_data = app.add_subcommand(
      "balls-data",
      "Write bouncing-balls sequences (binary frames, per-pixel ball labels, positions, "
      "velocities, collisions) as HDF5 in Relational-NEM's layout: groups training, validation "
      "and test, each with features of shape (frames, sequences, size, size, 1)");
  cmd_balls_data
      ->add_option("--variant", balls_data.variant,
                   "4 (four balls of different masses), 678 (six to eight balls) or "
                   "curtain (three balls and an occluding band)")
      ->check(CLI::IsMember({"4", "678", "curtain"}))
      ->capture_default_str();
  cmd_balls_data->add_option("--sequences", balls_data.sequences, "training sequences")
      ->check(CLI::Range(int64_t{1}, int64_t{100000000}))
      ->capture_default_str();
  cmd_balls_data
      ->add_option("--validation", balls_data.validation,
                   "validation sequences (default: a tenth of --sequences)")
      ->check(CLI::Range(int64_t{0}, int64_t{100000000}));
  cmd_balls_data
      ->add_option("--test", balls_data.test, "test sequences (default: a fifth of --sequences)")
      ->check(CLI::Range(int64_t{0}, int64_t{100000000}));
  cmd_balls_data->add_option("--frames", balls_data.frames, "frames per sequence")
      ->check(CLI::Range(2, 100000))
      ->capture_default_str();
  cmd_balls_data->add_option("--size", balls_data.size, "frame width and height in pixels")
      ->check(CLI::Range(8, 1024))
      ->capture_default_str();
  cmd_balls_data->add_option("--seed", balls_data.seed, "the dataset's seed")
      ->capture_default_str();
  cmd_balls_data->add_option("--threads", balls_data.threads,
                             "simulation threads (default: every core; the file is the same "
                             "for any count)");
  cmd_balls_data->add_option("--out", balls_data.out, "the HDF5 file to write")->required();
  cmd_balls_data->add_flag("--force", balls_data.force, "replace --out if it exists");
  cmd_balls_data->add_flag("--quiet", balls_data.quiet, "no progress or summary");

  auto* cmd_envs = app.add_subcommand("envs", "List the registered environments and splits");

  std::vector<std::string> bench_args;
  auto* cmd_bench = app.add_subcommand(
      "bench", "Run a benchmark suite: rimlab bench SUITE [--seconds S] [--quick] [key=value]");
  cmd_bench->prefix_command();  // the bench driver parses its own arguments
  {
    std::string footer = "Suites (rimlab bench SUITE --help lists a suite's keys):";
    for (const auto& s : rimlab::bench::Suites()) {
      footer += "\n  " + std::string(s.name) +
                std::string(10 - std::min<size_t>(9, std::strlen(s.name)), ' ') + s.summary;
    }
    cmd_bench->footer(footer);
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }

  return rimlab::RunCommand([&]() -> int {
    if (*cmd_rollout) return rimlab::CmdRollout(rollout);
#ifdef RIMLAB_WITH_TORCH
    if (*cmd_eval && rimlab::IsPredictionRun(eval.config)) {
      rimlab::PredictEvalArgs p;
      p.runs = {eval.config};
      for (const auto& o : eval.overrides) p.runs.push_back(o);
      p.files = eval.data;
      if (!eval.splits.empty()) p.split = eval.splits.front();
      p.sequences = eval.episodes;
      p.out = eval.out;
      p.feedback = eval.feedback;
      return rimlab::EvalPrediction(p);
    }
    if (*cmd_eval && rimlab::IsRunOrCheckpoint(eval.config)) return rimlab::CmdEvalTrained(eval);
#endif
    if (*cmd_eval) return rimlab::CmdEval(eval);
    if (*cmd_envs) return rimlab::CmdEnvs();
    if (*cmd_balls_data) return rimlab::CmdBallsData(balls_data);
#ifdef RIMLAB_WITH_TORCH
    if (*cmd_train) return rimlab::CmdTrain(train);
    if (*cmd_compare) return rimlab::CmdCompare(compare);
    if (*cmd_collect) return rimlab::CmdCollect(collect);
#endif
    if (*cmd_bench) {
      std::vector<std::string> rest = cmd_bench->remaining();
      std::string prog = "rimlab bench";  // the bench driver's usage lines name it
      std::vector<char*> args = {prog.data()};
      for (auto& s : rest) args.push_back(s.data());
      return rimlab::bench::BenchMain(static_cast<int>(args.size()), args.data());
    }
    return 2;
  });
}
