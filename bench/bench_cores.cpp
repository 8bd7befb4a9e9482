// `rimlab bench cores`: forward+backward and inference cost of the recurrent cores per time step,
// RIM(K=6, k_A=4, d_h=100) against LSTM-600 and GRU-600 in the same process.
//
// The machine is shared and has 2 cores, so the models are measured in interleaved rounds and
// each figure is the median over rounds; ratios are taken between medians of the same run.
//
// Keys: threads=N (torch intra-op threads, default 2), input=D (input width, default 64),
// T=32, batch=64, rounds=5, only=lstm|gru|rim (skip the others), profile=PREFIX (also write an
// autograd-profiler trace of one training iteration per model to PREFIX_<model>.json),
// rim_ops=1 (also the RIM cell operator by operator, RIMCellOptions::fused(false), as `rim_ops`),
// gemm=direct[,packed,blas] (the per-step weight products as models/gemm.h offers them: the
// default, weights packed when large and read in place when small; packed when large and through
// BLAS's sgemm otherwise; all through sgemm. Each mode after the first measures every model again
// as `NAME_<mode>`, each ratio against the LSTM of the same mode: the same kernels on both sides),
// blas=1 (the same as gemm=direct,blas).
#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "agents/copying_task.h"
#include "bench/bench.h"
#include "models/cores.h"
#include "models/gemm.h"
#include "runners/config/config.h"

namespace rimlab::bench {

namespace {

using Clock = std::chrono::steady_clock;

std::map<std::string, std::string> ParseExtra(const BenchArgs& args) {
  std::map<std::string, std::string> kv;
  for (const auto& e : args.extra) {
    const auto eq = e.find('=');
    kv[e.substr(0, eq)] = e.substr(eq + 1);
  }
  return kv;
}

int64_t IntArg(const std::map<std::string, std::string>& kv, const std::string& key, int64_t def) {
  auto it = kv.find(key);
  return it == kv.end() ? def : std::stoll(it->second);
}

/// Seconds per call of `fn`, averaged over as many calls as fit in `budget` seconds (at least 2).
double TimeIt(const std::function<void()>& fn, double budget) {
  int64_t calls = 0;
  const auto start = Clock::now();
  double elapsed = 0;
  while (calls < 2 || elapsed < budget) {
    fn();
    ++calls;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  }
  return elapsed / static_cast<double>(calls);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Model {
  std::string name;
  models::RecurrentCore core{nullptr};
  models::GemmMode gemm = models::GemmMode::kDirect;  ///< how the per-step products run
  std::string suffix;  ///< "" for the first mode of the `gemm` key, "_<mode>" for the others
};

/// The LSTM this model's ratio is taken against: the one whose products run on the same kernels.
std::string Baseline(const Model& m) {
  return "lstm600" + m.suffix;
}

std::vector<Model> MakeModels(int64_t input, const std::string& only, bool rim_ops,
                              const std::vector<models::GemmMode>& gemm) {
  std::vector<Model> out;
  torch::manual_seed(0);
  for (const std::string type : {"lstm", "gru", "rim"}) {
    if (!only.empty() && only != type && type != "lstm") continue;
    models::CoreOptions o;
    o.type = type;
    o.hidden_size = 600;
    o.rim = models::RIMCellOptions().num_units(6).top_k(4).unit_size(100);
    out.push_back({type == "rim" ? "rim" : type + "600", models::MakeCore(o, input),
                   models::GemmMode::kDirect, ""});
    if (type == "rim" && rim_ops) {
      o.rim.fused(false);
      out.push_back({"rim_ops", models::MakeCore(o, input), models::GemmMode::kDirect, ""});
    }
  }
  for (auto& m : out) m.gemm = gemm.front();
  const size_t n = out.size();
  for (size_t g = 1; g < gemm.size(); ++g) {
    for (size_t i = 0; i < n; ++i) {
      if (out[i].name == "rim_ops") continue;
      const std::string suffix = std::string("_") + models::GemmModeName(gemm[g]);
      out.push_back({out[i].name + suffix, out[i].core, gemm[g], suffix});
    }
  }
  return out;
}

}  // namespace

int RunCoresSuite(const BenchArgs& args) {
  const auto kv = ParseExtra(args);
  const int64_t threads = IntArg(kv, "threads", 2);
  const int64_t input = IntArg(kv, "input", 64);
  const int64_t T = IntArg(kv, "T", args.quick ? 4 : 32);
  const int64_t batch = IntArg(kv, "batch", args.quick ? 8 : 64);
  const int64_t rounds = IntArg(kv, "rounds", args.quick ? 1 : 5);
  const std::string only = kv.count("only") ? kv.at("only") : "";
  torch::set_num_threads(static_cast<int>(threads));
  const double budget = args.quick ? 0.01 : args.seconds / static_cast<double>(rounds);

  // The modes to measure: the process's own (RIMLAB_GEMM) unless the `gemm` key lists them.
  const models::GemmMode initial = models::CurrentGemmMode();
  std::vector<models::GemmMode> gemm;
  try {
    std::string list = kv.count("gemm") ? kv.at("gemm") : models::GemmModeName(initial);
    if (IntArg(kv, "blas", 0) != 0) list += ",blas";
    std::stringstream ss(list);
    for (std::string name; std::getline(ss, name, ',');)
      gemm.push_back(models::ParseGemmMode(name));
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "error: %s (the gemm= key)\n", e.what());
    return 2;
  }
  auto models = MakeModels(input, only, IntArg(kv, "rim_ops", 0) != 0, gemm);
  const bool packed = models::PackedWeights();
  Report("cores/packed_weights", packed ? 1.0 : 0.0, "on");
  Report("cores/threads", static_cast<double>(threads), "threads");
  for (auto& m : models)
    Report("cores/params/" + m.name, double(m.core->NumParameters()), "params");

  // Training: Unroll over T, a loss on every output, backward. Per time step.
  const std::string train = "cores/fwd_bwd_T" + std::to_string(T) + "_B" + std::to_string(batch);
  {
    auto x = torch::randn({T, batch, input});
    auto resets = torch::zeros({T, batch}, torch::kBool);
    std::map<std::string, std::vector<double>> times;
    for (auto& m : models) m.core->train();
    for (int64_t r = 0; r < rounds; ++r) {
      for (auto& m : models) {
        auto s0 = m.core->InitialState(batch);
        auto head = torch::randn({m.core->output_size()});
        auto fn = [&] {
          auto out = m.core->Unroll(x, s0, resets);
          (out.outputs * head).sum().backward();
          m.core->zero_grad();
        };
        models::SetGemmMode(m.gemm);
        fn();  // warm-up: allocator and BLAS buffers
        times[m.name].push_back(TimeIt(fn, budget) / static_cast<double>(T));
      }
    }
    for (auto& m : models) Report(train + "/" + m.name, Median(times[m.name]) * 1e3, "ms/step");
    for (auto& m : models) {
      if (m.name == Baseline(m)) continue;
      Report(train + "/" + m.name + "_over_lstm",
             Median(times[m.name]) / Median(times[Baseline(m)]), "x");
    }
  }

  if (kv.count("profile")) {
    auto x = torch::randn({T, batch, input});
    for (auto& m : models) {
      auto s0 = m.core->InitialState(batch);
      auto once = [&] {
        auto out = m.core->Unroll(x, s0, {});
        out.outputs.sum().backward();
        m.core->zero_grad();
      };
      once();
      torch::autograd::profiler::RecordProfile guard(kv.at("profile") + "_" + m.name + ".json");
      once();
    }
  }

  // Inference: one Step at a time without autograd, as an actor steps its environments.
  for (int64_t b : {int64_t{16}, batch}) {
    if (args.quick && b != batch) continue;
    const std::string name = "cores/infer_step_B" + std::to_string(b);
    torch::NoGradGuard no_grad;
    auto x = torch::randn({b, input});
    std::map<std::string, std::vector<double>> times;
    for (auto& m : models) m.core->eval();
    for (int64_t r = 0; r < rounds; ++r) {
      for (auto& m : models) {
        auto s = m.core->InitialState(b);
        auto fn = [&] { s = m.core->Step(x, s, {}).state; };
        models::SetGemmMode(m.gemm);
        fn();
        times[m.name].push_back(TimeIt(fn, budget / 2));
      }
    }
    for (auto& m : models) Report(name + "/" + m.name, Median(times[m.name]) * 1e3, "ms/step");
    for (auto& m : models) {
      if (m.name == Baseline(m)) continue;
      Report(name + "/" + m.name + "_over_lstm", Median(times[m.name]) / Median(times[Baseline(m)]),
             "x");
    }
  }
  models::SetGemmMode(initial);
  return 0;
}

/// `rimlab bench copying config=configs/copying_rim.yaml [key=value ...]`: trains on the copying
/// task and prints each evaluation and the final figures. key=value (or core.key=value) pairs
/// override the file, as on the rimlab command line.
int RunCopyingSuite(const BenchArgs& args) {
  Config config;
  std::string name = "copying";
  agents::CopyingOptions o;
  try {
    for (const auto& e : args.extra) {
      const auto eq = e.find('=');
      if (e.substr(0, eq) != "config") continue;
      config = Config::Load(e.substr(eq + 1));
      name = e.substr(e.find_last_of('/') + 1);
      name = name.substr(0, name.find('.'));
    }
    for (const auto& e : args.extra) {
      if (e.rfind("config=", 0) != 0) config.Override(e);
    }
    if (args.quick) {
      config.Override("updates=3");
      config.Override("eval_batches=1");
    }
    config.CheckSections({"core"});
    o = agents::CopyingOptionsFromParams(config.Section(""), config.Section("core"));
  } catch (const std::exception& err) {
    std::fprintf(stderr, "error: %s\n", err.what());
    return 2;
  }
  auto print = [&](const agents::CopyingEval& e) {
    std::printf(
        "%s update %6lld  %7.1f s  train_ce %.4f  test: ce_all %.4f  ce_copy %.4f  "
        "copy_acc %.4f  seq_acc %.4f\n",
        name.c_str(), static_cast<long long>(e.update), e.seconds, e.train_ce, e.ce_all, e.ce_copy,
        e.copy_accuracy, e.sequence_accuracy);
    std::fflush(stdout);
  };
  const auto r = agents::RunCopying(o, print);
  const std::string p = "copying/" + name + "/";
  Report(p + "params", static_cast<double>(r.parameters), "params");
  Report(p + "core_params", static_cast<double>(r.core_parameters), "params");
  Report(p + "updates", static_cast<double>(r.final_eval.update), "updates");
  Report(p + "ms_per_update", r.ms_per_update, "ms");
  Report(p + "train_ce", r.final_eval.train_ce, "nats");
  Report(p + "test_ce_all", r.final_eval.ce_all, "nats");
  Report(p + "test_ce_copy", r.final_eval.ce_copy, "nats");
  Report(p + "test_copy_accuracy", r.final_eval.copy_accuracy, "fraction");
  Report(p + "test_sequence_accuracy", r.final_eval.sequence_accuracy, "fraction");
  return 0;
}

}  // namespace rimlab::bench
