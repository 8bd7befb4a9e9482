// `rimlab bench ppo`: end-to-end PPO frames per second, collection and updates together, with
// rl-starter-files' settings: pickup 8x8 with 3 objects, 16 envs, 128 steps per env, 4 epochs,
// batch 256, recurrence 4, its policy (2x2 convs 16-32-64, mission GRU 128, LSTM 64, heads 64).
// The RIM policy swaps only the core for configs/pickup_rim.yaml's: 6 units of 16, top 4 (the
// paper's K and k_A).
//
// Policies are measured in interleaved rounds (the machine is shared); each figure is the median
// over rounds and ratios are taken between medians of the same run. rl-starter-files measured
// about 3,000 FPS with these settings on this machine (the baseline).
//
// Keys: threads=N (torch intra-op threads, default 1), pool_threads=N (default 2), rounds=3,
// iterations=3 (per round, after one warm-up iteration), update_threads=N (torch threads for the
// update only; collection then runs on 1), learner_threads=N[,M...] (threads that split each
// minibatch, see agents/parallel_gradient.h; default 2, the configs' default; a list measures
// each), cores=lstm,rim, rim_units=6, rim_top_k=4, rim_dropout=0.1 (the configs'),
// profile=PREFIX (also
// write an autograd-profiler trace of one iteration per policy to PREFIX_<core>.json), ops=N
// (print the N operators with the most self time in one iteration, by name and input shapes:
// the trace alone cannot tell a 64x64 product from a large one), fused=1,0 (also measure the
// same policy with torch's operators in place of the fused image network, RNN cells and loss),
// gemm=direct[,packed,blas] (the fused cells' per-step weight products as models/gemm.h offers
// them: the default, weights read in place or packed; large weights packed and the rest through
// sgemm; everything through sgemm; a list measures each).
#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "agents/on_policy.h"
#include "agents/parallel_gradient.h"
#include "bench/bench.h"
#include "envs/registry.h"
#include "models/gemm.h"
#include "models/rnn_cores.h"
#include "runners/cli/process_tuning.h"
#include "runners/train/rl_trainer.h"

namespace rimlab::bench {

namespace {

constexpr double kStarterFps = 3000.0;

struct Measured {
  std::vector<double> fps, collect, update;
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

std::string ShapesKey(const std::vector<std::vector<int64_t>>& shapes) {
  std::string out;
  for (const auto& s : shapes) {
    out += '[';
    for (size_t k = 0; k < s.size(); ++k) out += (k ? "," : "") + std::to_string(s[k]);
    out += ']';
  }
  return out;
}

// Self time (own time minus nested operators') per (operator, input shapes), all threads.
void PrintOpTable(const std::string& label, int top, const std::function<void()>& fn) {
  namespace prof = torch::autograd::profiler;
  prof::enableProfilerLegacy(
      torch::profiler::impl::ProfilerConfig(torch::profiler::impl::ProfilerState::CPU, true));
  fn();
  auto lists = prof::disableProfilerLegacy();
  struct Row {
    double self_us = 0;
    int64_t calls = 0;
  };
  std::map<std::string, Row> rows;
  double total = 0;
  for (auto& events : lists) {
    struct Open {
      const prof::LegacyEvent* event;
      double child_us;
    };
    std::vector<Open> stack;
    for (const auto& e : events) {
      if (e.kind() == prof::EventKind::PushRange) {
        stack.push_back({&e, 0.0});
      } else if (e.kind() == prof::EventKind::PopRange && !stack.empty()) {
        const Open top_open = stack.back();
        stack.pop_back();
        const double us = top_open.event->cpuElapsedUs(e);
        if (!stack.empty()) stack.back().child_us += us;
        auto& row =
            rows[std::string(top_open.event->name()) + " " + ShapesKey(top_open.event->shapes())];
        row.self_us += us - top_open.child_us;
        row.calls += 1;
        total += us - top_open.child_us;
      }
    }
  }
  std::vector<std::pair<std::string, Row>> sorted(rows.begin(), rows.end());
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return a.second.self_us > b.second.self_us; });
  std::printf("# %s: operators by self time over one iteration (%.1f ms in all)\n", label.c_str(),
              total / 1000.0);
  for (int k = 0; k < top && k < static_cast<int>(sorted.size()); ++k) {
    std::printf("%9.2f ms %7lld calls  %s\n", sorted[k].second.self_us / 1000.0,
                static_cast<long long>(sorted[k].second.calls), sorted[k].first.c_str());
  }
}

}  // namespace

int RunPpoSuite(const BenchArgs& args) {
  std::map<std::string, std::string> kv;
  for (const auto& e : args.extra) {
    const auto eq = e.find('=');
    if (eq == std::string::npos) {
      std::fprintf(stderr, "bench ppo: expected key=value, got '%s'\n", e.c_str());
      return 2;
    }
    kv[e.substr(0, eq)] = e.substr(eq + 1);
  }
  const auto get = [&kv](const std::string& k, const std::string& d) {
    auto it = kv.find(k);
    return it == kv.end() ? d : it->second;
  };
  const int threads = std::stoi(get("threads", "1"));
  const int pool_threads = std::stoi(get("pool_threads", "2"));
  const int rounds = args.quick ? 1 : std::stoi(get("rounds", "3"));
  const int iterations = args.quick ? 1 : std::stoi(get("iterations", "3"));
  const auto list = [&get](const std::string& key, const std::string& fallback) {
    std::vector<std::string> out;
    std::stringstream ss(get(key, fallback));
    std::string c;
    while (std::getline(ss, c, ',')) out.push_back(c);
    return out;
  };
  // One variant per core and learner-thread count, all measured in the same interleaved rounds;
  // a variant is named after its core, plus "_lt<N>" when several thread counts are compared.
  const auto learner_threads = list("learner_threads", "2");
  const auto fused = list("fused", "1");
  // The modes to measure: the process's own (RIMLAB_GEMM) unless the `gemm` key lists them.
  const models::GemmMode initial_gemm = models::CurrentGemmMode();
  std::vector<models::GemmMode> gemm;
  try {
    for (const auto& g : list("gemm", models::GemmModeName(initial_gemm))) {
      gemm.push_back(models::ParseGemmMode(g));
    }
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "error: %s (the gemm= key)\n", e.what());
    return 2;
  }
  std::vector<std::string> cores, core_types;
  std::vector<models::GemmMode> variant_gemm;
  std::vector<int> variant_threads;
  std::vector<bool> variant_fused;
  for (const auto& core : list("cores", "lstm,rim")) {
    for (const auto& lt : learner_threads) {
      for (const auto& f : fused) {
        for (const auto& g : gemm) {
          std::string name = learner_threads.size() > 1 ? core + "_lt" + lt : core;
          if (fused.size() > 1) name += f == "0" ? "_ops" : "_fused";
          if (gemm.size() > 1) name += std::string("_") + models::GemmModeName(g);
          cores.push_back(name);
          core_types.push_back(core);
          variant_threads.push_back(std::stoi(lt));
          variant_fused.push_back(f != "0");
          variant_gemm.push_back(g);
        }
      }
    }
  }
  // The products' mode is process-wide: set before each variant's iterations.
  const auto set_gemm = [&](size_t v) { models::SetGemmMode(variant_gemm[v]); };
  const int rim_units = std::stoi(get("rim_units", "6"));
  const int rim_top_k = std::stoi(get("rim_top_k", "4"));
  // The shipped RIM configs keep the cell's default dropout (0.1 on the read and on the
  // communication branch), and PPO's model stays in training mode while it acts.
  const double rim_dropout = std::stod(get("rim_dropout", "0.1"));
  torch::set_num_threads(threads);
  if (get("mkldnn", "1") == "0") at::globalContext().setUserEnabledMkldnn(false);

  Params env_params;
  env_params.Set("size", int64_t{8});
  env_params.Set("num_objects", int64_t{3});
  Params ppo;
  ppo.Set("steps", int64_t{args.quick ? 16 : 128});
  ppo.Set("epochs", int64_t{4});
  ppo.Set("batch_size", int64_t{args.quick ? 64 : 256});
  ppo.Set("recurrence", int64_t{4});

  struct Bench {
    std::unique_ptr<ActorPool> pool;
    std::unique_ptr<OnPolicyTrainer> trainer;
  };
  std::vector<Bench> benches;
  for (size_t v = 0; v < cores.size(); ++v) {
    const auto& core = core_types[v];
    torch::manual_seed(1);
    Bench b;
    PoolOptions po;
    po.num_envs = 16;
    po.num_threads = pool_threads;
    po.seed = 1;
    b.pool = std::make_unique<ActorPool>(
        [&env_params](int) { return MakeEnv("pickup", env_params); }, po);
    agents::ActorCriticOptions o;
    o.core.type = core;
    o.core.hidden_size = 64;
    o.core.rim.num_units(rim_units)
        .top_k(rim_top_k)
        .unit_size(16)
        .input_dropout(rim_dropout)
        .comm_dropout(rim_dropout);
    o.core.rim.fused(variant_fused[v]);
    o.grid.fused(variant_fused[v]);
    agents::ActorCritic model(b.pool->spec(), o);
    for (auto& m : model->modules()) {
      if (auto* rnn = m->as<models::GatedRNNCoreImpl>()) rnn->fused = variant_fused[v];
    }
    auto algo = agents::MakeOnPolicyAlgorithm("ppo", ppo, model, 16);
    algo->set_fused(variant_fused[v]);
    b.trainer =
        std::make_unique<OnPolicyTrainer>(b.pool.get(), model, std::move(algo), int64_t{1} << 40);
    const int lt = b.trainer->algorithm().set_learner_threads(variant_threads[v]);
    std::printf("# %s: %s, learner threads %d\n", cores[v].c_str(), model->Describe().c_str(), lt);
    const int update_threads = std::stoi(get("update_threads", "0"));
    b.trainer->set_update_threads(update_threads);
    set_gemm(v);
    b.trainer->RunIteration();  // warm-up: allocations, first-touch
    benches.push_back(std::move(b));
  }
  if (kv.count("profile")) {
    for (size_t i = 0; i < cores.size(); ++i) {
      set_gemm(i);
      torch::autograd::profiler::RecordProfile guard(kv.at("profile") + "_" + cores[i] + ".json");
      benches[i].trainer->RunIteration();
    }
  }
  if (kv.count("ops")) {
    for (size_t i = 0; i < cores.size(); ++i) {
      set_gemm(i);
      PrintOpTable(cores[i], std::stoi(kv.at("ops")), [&] { benches[i].trainer->RunIteration(); });
    }
  }
  if (kv.count("breakdown")) {
    // Where an update's time goes, per minibatch of batch_size rows (64 chunks of 4 for the
    // default settings), on random observations of the right shapes.
    for (size_t i = 0; i < cores.size(); ++i) {
      set_gemm(i);
      auto& model = benches[i].trainer->model();
      auto& opt = benches[i].trainer->algorithm().optimizer();
      const int64_t chunks = (args.quick ? 64 : 256) / 4;
      agents::ObsTensors obs = {torch::randint(0, 6, {4, chunks, 7, 7, 3}, torch::kUInt8),
                                torch::randint(0, 4, {4, chunks, 1}, torch::kInt32),
                                torch::stack({torch::ones({4, chunks}, torch::kInt32),
                                              torch::randint(3, 9, {4, chunks}, torch::kInt32),
                                              torch::randint(9, 11, {4, chunks}, torch::kInt32)},
                                             2)};
      auto state = model->InitialState(chunks);
      auto resets = torch::zeros({4, chunks});
      const int reps = 20;
      const auto time = [&](const char* what, const std::function<void()>& fn) {
        fn();
        const auto t0 = std::chrono::steady_clock::now();
        for (int k = 0; k < reps; ++k) fn();
        const double ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count() /
            reps;
        Report(cores[i] + "_" + what, ms, "ms");
      };
      time("encode", [&] {
        torch::NoGradGuard g;
        model->Encode({obs[0].flatten(0, 1), obs[1].flatten(0, 1), obs[2].flatten(0, 1)});
      });
      time("encode_image", [&] {
        torch::NoGradGuard g;
        model->grid->forward(obs[0].flatten(0, 1), {}, {});
      });
      time("encode_mission", [&] {
        torch::NoGradGuard g;
        model->mission->forward(obs[2].flatten(0, 1));
      });
      time("unroll_nograd", [&] {
        torch::NoGradGuard g;
        model->Unroll(obs, state, resets);
      });
      time("unroll_backward", [&] {
        auto out = model->Unroll(obs, state, resets);
        (out.logits.sum() + out.value.sum()).backward();
      });
      time("optimizer_step", [&] { opt.step(); });
      {
        agents::ChunkBatch mb;
        mb.obs = obs;
        mb.first = resets;
        mb.mask = torch::ones({4, chunks});
        mb.actions = torch::randint(0, model->num_actions(), {4, chunks}, torch::kInt64);
        mb.log_probs = -torch::rand({4, chunks});
        mb.values = torch::randn({4, chunks});
        mb.advantages = torch::randn({4, chunks});
        mb.returns = torch::randn({4, chunks});
        mb.state = state;
        agents::LossOptions lo;
        lo.clip = 0.2;
        for (const int t : {1, 2}) {
          agents::ParallelGradient pg(model, t);
          time(("minibatch_gradient_" + std::to_string(t) + "_threads").c_str(),
               [&] { pg.Compute(mb, lo); });
        }
      }
      agents::ObsTensors one = {obs[0][0].slice(0, 0, 16), obs[1][0].slice(0, 0, 16),
                                obs[2][0].slice(0, 0, 16)};
      auto s16 = model->InitialState(16);
      time("step16_nograd", [&] {
        torch::NoGradGuard g;
        model->Step(one, s16, {});
      });
    }
  }
  std::vector<Measured> m(cores.size());
  for (int r = 0; r < rounds; ++r) {
    for (size_t i = 0; i < cores.size(); ++i) {
      set_gemm(i);
      double collect = 0.0, update = 0.0;
      for (int k = 0; k < iterations; ++k) {
        const auto s = benches[i].trainer->RunIteration();
        collect += s.collect_seconds;
        update += s.update_seconds;
      }
      const double frames =
          static_cast<double>(iterations * benches[i].trainer->frames_per_iteration());
      m[i].fps.push_back(frames / (collect + update));
      m[i].collect.push_back(frames / collect);
      m[i].update.push_back(frames / update);
    }
  }
  models::SetGemmMode(initial_gemm);
  std::printf(
      "# pickup 8x8 N3, 16 envs x %lld steps, 4 epochs, batch %lld, recurrence 4; torch "
      "threads %d, pool threads %d; median of %d rounds of %d iterations; %s, %s\n",
      static_cast<long long>(args.quick ? 16 : 128), static_cast<long long>(args.quick ? 64 : 256),
      threads, pool_threads, rounds, iterations, BlasDescription().c_str(),
      AllocatorDescription().c_str());
  for (size_t i = 0; i < cores.size(); ++i) {
    const double fps = Median(m[i].fps);
    Report("ppo_" + cores[i] + "_fps", fps, "frames/s");
    Report("ppo_" + cores[i] + "_collect_fps", Median(m[i].collect), "frames/s");
    Report("ppo_" + cores[i] + "_update_fps", Median(m[i].update), "frames/s");
    Report("ppo_" + cores[i] + "_vs_rl_starter_files", fps / kStarterFps, "x");
  }
  for (size_t i = 1; i < cores.size(); ++i) {
    Report("ppo_" + cores[i] + "_over_" + cores[0] + "_time", Median(m[0].fps) / Median(m[i].fps),
           "x");
  }
  return 0;
}

}  // namespace rimlab::bench
