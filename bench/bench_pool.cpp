// Actor pool throughput: 64 envs (pickup 8x8 with 3 objects, random actions, auto-reset) stepped
// by a plain loop, by the pool on 1 thread and on 2 threads (sync), and by the async pool; plus
// heap allocations per step in the steady state, when the binary counts them.
//
// Each figure is the best of `reps` interleaved runs (default 3), so that a burst of load from
// another process hurts every configuration alike and is then discarded.
//
// Arguments: env=pickup|counter  envs=64  batch=32 (async)  reps=3  spin=50 (microseconds)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench.h"
#include "envs/core/rng.h"
#include "envs/registry.h"
#include "runners/actor_pool.h"

// Defined by bench/alloc_count.cpp in binaries that count heap allocations (rimlab_bench); null
// elsewhere.
extern "C" long long rimlab_bench_allocations() __attribute__((weak));

namespace rimlab::bench {

namespace {

using Clock = std::chrono::steady_clock;

/// A cheap stand-in env (for env=counter): a counter whose observation is 147 bytes like pickup's.
class CounterEnv : public Environment {
 public:
  CounterEnv() {
    spec_.name = "counter";
    spec_.observation.fields = {{"image", {7, 7, 3}, DType::kUInt8, 0, 255}};
    spec_.action = ActionSpec::Discrete(7);
    spec_.max_episode_steps = 100;
  }
  const EnvSpec& Spec() const override { return spec_; }
  void Seed(uint64_t seed) override { rng_.Seed(seed); }
  TimeStep Reset(const ObsRef& obs) override {
    t_ = 0;
    Write(obs);
    return TimeStep{};
  }
  TimeStep Step(const Action& a, const ObsRef& obs) override {
    ++t_;
    Write(obs);
    TimeStep ts;
    ts.type = t_ >= 100 || rng_.Below(50) == 0 ? StepType::kLast : StepType::kMid;
    ts.reward = static_cast<float>(a.index) * 0.01f;
    return ts;
  }
  void Render(Frame* /*frame*/) const override {}

 private:
  void Write(const ObsRef& obs) {
    auto* image = obs.Field<uint8_t>(0);
    for (int i = 0; i < 147; ++i) image[i] = static_cast<uint8_t>(rng_.Next());
  }
  EnvSpec spec_;
  Rng rng_;
  int t_ = 0;
};

struct Config {
  std::string env = "pickup";
  int envs = 64;
  int batch = 32;
  int reps = 3;
  int spin = 50;
};

Config ParseArgs(const BenchArgs& args) {
  Config c;
  for (const auto& kv : args.extra) {
    const auto eq = kv.find('=');
    const std::string key = kv.substr(0, eq);
    const std::string value = kv.substr(eq + 1);
    if (key == "env") {
      c.env = value;
    } else if (key == "envs" || key == "batch" || key == "reps" || key == "spin") {
      const int v = std::atoi(value.c_str());
      (key == "envs" ? c.envs : key == "batch" ? c.batch : key == "reps" ? c.reps : c.spin) = v;
    } else {
      throw std::invalid_argument("bench pool: unknown argument '" + key +
                                  "' (known: env, envs, batch, reps, spin)");
    }
  }
  if (c.env != "pickup" && c.env != "counter") {
    throw std::invalid_argument("bench pool: env must be pickup or counter, got " + c.env);
  }
  if (c.reps < 1) c.reps = 1;
  return c;
}

EnvMaker Maker(const Config& c) {
  if (c.env == "counter") {
    return [](int) -> std::unique_ptr<Environment> { return std::make_unique<CounterEnv>(); };
  }
  Params p;
  p.Set("size", int64_t{8});
  p.Set("num_objects", int64_t{3});
  return [p](int) { return MakeEnv("pickup", p); };
}

PoolOptions Options(const Config& c, int threads, int batch) {
  PoolOptions o;
  o.num_envs = c.envs;
  o.num_threads = threads;
  o.batch_size = batch;
  o.seed = 1;
  o.spin_microseconds = c.spin;
  return o;
}

/// Runs `step_batch` (which returns the env steps it did) for about `seconds`; steps per second.
double Rate(double seconds, const std::function<int()>& step_batch) {
  for (int i = 0; i < 200; ++i) step_batch();  // warm-up
  const auto start = Clock::now();
  int64_t steps = 0;
  double elapsed = 0.0;
  while (elapsed < seconds) {
    for (int i = 0; i < 64; ++i) steps += step_batch();
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  }
  return static_cast<double>(steps) / elapsed;
}

/// The baseline: the same envs stepped by a plain loop, auto-reset included, no pool.
double RawLoop(const Config& c, double seconds) {
  const EnvMaker make = Maker(c);
  std::vector<std::unique_ptr<Environment>> envs;
  std::vector<Observation> obs;
  std::vector<uint8_t> last(static_cast<size_t>(c.envs), 1);
  for (int i = 0; i < c.envs; ++i) {
    envs.push_back(make(i));
    envs.back()->Seed(1 + static_cast<uint64_t>(i));
    obs.emplace_back(envs.back()->Spec().observation);
  }
  Rng rng(7);
  const auto n = static_cast<uint32_t>(envs[0]->Spec().action.num_actions);
  return Rate(seconds, [&] {
    for (size_t e = 0; e < envs.size(); ++e) {
      Action a;
      a.index = static_cast<int32_t>(rng.Below(n));
      const TimeStep ts = last[e] ? envs[e]->Reset(obs[e].Ref()) : envs[e]->Step(a, obs[e].Ref());
      last[e] = ts.last() ? 1 : 0;
    }
    return c.envs;
  });
}

struct SyncRun {
  std::unique_ptr<ActorPool> pool;
  std::vector<Action> actions;
  Rng rng{7};
  uint32_t n = 0;
  int Step() {
    for (auto& a : actions) a.index = static_cast<int32_t>(rng.Below(n));
    return pool->Step(actions.data()).size;
  }
};

SyncRun MakeSync(const Config& c, int threads) {
  SyncRun r;
  r.pool = std::make_unique<ActorPool>(Maker(c), Options(c, threads, 0));
  r.actions.resize(static_cast<size_t>(c.envs));
  r.n = static_cast<uint32_t>(r.pool->spec().action.num_actions);
  r.pool->Reset();
  return r;
}

struct AsyncRun {
  std::unique_ptr<ActorPool> pool;
  std::vector<Action> actions;
  Rng rng{7};
  uint32_t n = 0;
  int Step() {
    const BatchView& v = pool->Recv();
    for (int i = 0; i < v.size; ++i) actions[static_cast<size_t>(i)].index = rng.Below(n);
    pool->Send(actions.data(), v.env_id, v.size);
    return v.size;
  }
};

AsyncRun MakeAsync(const Config& c, int threads) {
  AsyncRun r;
  r.pool = std::make_unique<ActorPool>(Maker(c), Options(c, threads, c.batch));
  r.actions.resize(static_cast<size_t>(c.batch));
  r.n = static_cast<uint32_t>(r.pool->spec().action.num_actions);
  r.pool->AsyncReset();
  return r;
}

}  // namespace

int RunPoolSuite(const BenchArgs& args) {
  const Config c = ParseArgs(args);
  const int reps = args.quick ? 1 : c.reps;
  const double seconds = (args.quick ? 0.05 : args.seconds) / reps;
  const std::string tag = "pool/" + c.env + "_" + std::to_string(c.envs) + "envs";
  const std::string async_tag = tag + "_batch" + std::to_string(c.batch);

  SyncRun one = MakeSync(c, 1);
  SyncRun two = MakeSync(c, 2);
  AsyncRun async_two = MakeAsync(c, 2);
  double raw = 0, t1 = 0, t2 = 0, a2 = 0;
  for (int r = 0; r < reps; ++r) {
    raw = std::max(raw, RawLoop(c, seconds));
    t1 = std::max(t1, Rate(seconds, [&] { return one.Step(); }));
    t2 = std::max(t2, Rate(seconds, [&] { return two.Step(); }));
    a2 = std::max(a2, Rate(seconds, [&] { return async_two.Step(); }));
  }
  Report(tag + "/plain_loop_1_thread", raw, "steps/s");
  Report(tag + "/sync_1_thread", t1, "steps/s");
  Report(tag + "/sync_2_threads", t2, "steps/s");
  Report(tag + "/async_2_threads", a2, "steps/s");
  Report("pool/overhead_1_thread_over_plain_loop", raw / t1, "x");
  // Time per batch of 64 beyond a perfect split of the one-thread time over two threads.
  Report("pool/sync_handoff_per_batch", (c.envs / t2 - c.envs / t1 / 2) * 1e6, "us");
  Report("pool/async_over_sync_2_threads", a2 / t2, "x");
  Report("pool/speedup_2_over_1", t2 / t1, "x");

  if (rimlab_bench_allocations == nullptr) {
    std::printf("# pool/allocs_per_step: not counted in this binary (rimlab_bench counts them)\n");
    return 0;
  }
  const int batches = args.quick ? 200 : 5000;
  auto allocs_per_step = [&](const std::function<int()>& step_batch) {
    for (int i = 0; i < 200; ++i) step_batch();
    const long long before = rimlab_bench_allocations();
    int64_t steps = 0;
    for (int i = 0; i < batches; ++i) steps += step_batch();
    return static_cast<double>(rimlab_bench_allocations() - before) / static_cast<double>(steps);
  };
  Report("pool/allocs_per_step_sync_2_threads", allocs_per_step([&] { return two.Step(); }),
         "allocs");
  Report("pool/allocs_per_step_async_2_threads", allocs_per_step([&] { return async_two.Step(); }),
         "allocs");
  return 0;
}

}  // namespace rimlab::bench
