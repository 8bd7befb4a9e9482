// Actor pool throughput: 64 envs (pickup 8x8 with 3 objects, random actions, auto-reset) stepped
// by a plain loop, by the pool on 1 thread and on 2 threads (sync), by the async pool and by a
// bare spin barrier (the floor under any sync pool); then the cost of a cross-core round trip and
// heap allocations per step in the steady state, when the binary counts them.
//
// The configurations take turns in slices of about 10 ms for the whole measuring time, and each
// figure is its total steps over its total time: on this virtual machine each vCPU's speed drifts
// by tens of percent within seconds, so figures measured one after the other compare the moments
// as much as the configurations. Interleaved, every configuration sees the same moments.
//
// Arguments: env=pickup|balls_touch|counter  envs=64  batch=32 (async)  spin=50 (microseconds)
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench.h"
#include "common/rng.h"
#include "envs/registry.h"
#include "runners/pool/actor_pool.h"
#include "runners/pool/pool_primitives.h"

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
    } else if (key == "envs" || key == "batch" || key == "spin") {
      const int v = std::atoi(value.c_str());
      (key == "envs" ? c.envs : key == "batch" ? c.batch : c.spin) = v;
    } else {
      throw std::invalid_argument("bench pool: unknown argument '" + key +
                                  "' (known: env, envs, batch, spin)");
    }
  }
  if (c.env != "pickup" && c.env != "counter" && c.env != "balls_touch") {
    throw std::invalid_argument("bench pool: env must be pickup, balls_touch or counter, got " +
                                c.env);
  }
  return c;
}

EnvMaker Maker(const Config& c) {
  if (c.env == "counter") {
    return [](int) -> std::unique_ptr<Environment> { return std::make_unique<CounterEnv>(); };
  }
  if (c.env == "balls_touch") return [](int) { return MakeEnv("balls_touch", Params{}); };
  Params p;
  p.Set("size", int64_t{8});
  p.Set("num_objects", int64_t{3});
  return [p](int) { return MakeEnv("pickup", p); };
}

PoolOptions Options(const Config& c, int threads, int batch, bool adaptive = true) {
  PoolOptions o;
  o.adaptive_ranges = adaptive;
  o.num_envs = c.envs;
  o.num_threads = threads;
  o.batch_size = batch;
  o.seed = 1;
  o.spin_microseconds = c.spin;
  return o;
}

/// One configuration's running totals: `step_batch` returns the env steps it did.
struct Meter {
  std::function<int()> step_batch;
  int64_t steps = 0;
  double seconds = 0.0;
  /// Steps batches for about `slice` seconds and adds them to the totals.
  void Slice(double slice) {
    const auto start = Clock::now();
    double elapsed = 0.0;
    while (elapsed < slice) {
      for (int i = 0; i < 16; ++i) steps += step_batch();
      elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    }
    seconds += elapsed;
  }
  double Rate() const { return static_cast<double>(steps) / seconds; }
};

/// Gives every meter `seconds` in all, in turns of `slice` seconds, after a warm-up.
void Interleave(std::vector<Meter*> meters, double seconds, double slice) {
  for (Meter* m : meters) {
    for (int i = 0; i < 200; ++i) m->step_batch();
  }
  const int turns = std::max(1, static_cast<int>(seconds / slice + 0.5));
  for (int t = 0; t < turns; ++t) {
    for (Meter* m : meters) m->Slice(slice);
  }
}

/// The baseline: the same envs stepped by a plain loop, auto-reset included, no pool.
struct RawLoop {
  std::vector<std::unique_ptr<Environment>> envs;
  std::vector<Observation> obs;
  std::vector<uint8_t> last;
  Rng rng{7};
  uint32_t n = 0;
  explicit RawLoop(const Config& c) : last(static_cast<size_t>(c.envs), 1) {
    const EnvMaker make = Maker(c);
    for (int i = 0; i < c.envs; ++i) {
      envs.push_back(make(i));
      envs.back()->Seed(1 + static_cast<uint64_t>(i));
      obs.emplace_back(envs.back()->Spec().observation);
    }
    n = static_cast<uint32_t>(envs[0]->Spec().action.num_actions);
  }
  int Step() {
    for (size_t e = 0; e < envs.size(); ++e) {
      Action a;
      a.index = static_cast<int32_t>(rng.Below(n));
      const TimeStep ts = last[e] ? envs[e]->Reset(obs[e].Ref()) : envs[e]->Step(a, obs[e].Ref());
      last[e] = ts.last() ? 1 : 0;
    }
    return static_cast<int>(envs.size());
  }
};

/// The floor under any sync pool on these envs: fixed halves, the caller's actions, one spin
/// barrier per round, each env writing into its own observation buffer and no results gathered.
/// The pool adds contiguous batch buffers, scalar results, balancing and error handling.
class BareBarrier {
 public:
  explicit BareBarrier(const Config& c)
      : envs_(c), actions_(static_cast<size_t>(c.envs)), last_(static_cast<size_t>(c.envs), 1) {
    half_ = c.envs / 2;
    worker_ = std::thread([this] { WorkerLoop(); });
  }
  ~BareBarrier() {
    stop_.store(true);
    { std::lock_guard<std::mutex> lock(mu_); }
    cv_.notify_all();
    worker_.join();
  }
  BareBarrier(const BareBarrier&) = delete;
  BareBarrier& operator=(const BareBarrier&) = delete;

  int Step() {
    for (auto& a : actions_) a = static_cast<int32_t>(rng_.Below(envs_.n));
    const uint32_t r = ++round_value_;
    round_.store(r, std::memory_order_seq_cst);
    if (sleeping_.load(std::memory_order_seq_cst)) {
      { std::lock_guard<std::mutex> lock(mu_); }
      cv_.notify_all();
    }
    Run(0, half_);
    while (done_.load(std::memory_order_acquire) != r) pool_detail::CpuRelax();
    return static_cast<int>(envs_.envs.size());
  }

 private:
  void Run(int begin, int end) {
    for (int e = begin; e < end; ++e) {
      const auto i = static_cast<size_t>(e);
      Action a;
      a.index = actions_[i];
      auto& env = *envs_.envs[i];
      const TimeStep ts =
          last_[i] ? env.Reset(envs_.obs[i].Ref()) : env.Step(a, envs_.obs[i].Ref());
      last_[i] = ts.last() ? 1 : 0;
    }
  }
  void WorkerLoop() {
    uint32_t seen = 0;
    auto has_work = [&] { return stop_.load() || round_.load(std::memory_order_seq_cst) != seen; };
    for (;;) {
      if (!pool_detail::SpinFor(std::chrono::microseconds(50), has_work)) {
        sleeping_.store(true, std::memory_order_seq_cst);
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, has_work);
        sleeping_.store(false, std::memory_order_relaxed);
      }
      if (stop_.load()) return;
      seen = round_.load(std::memory_order_acquire);
      Run(half_, static_cast<int>(envs_.envs.size()));
      done_.store(seen, std::memory_order_release);
    }
  }

  RawLoop envs_;
  std::vector<int32_t> actions_;
  // Four bytes per env: a line of 1-byte flags would be written by both threads at every step.
  std::vector<int32_t> last_;
  Rng rng_{7};
  int half_ = 0;
  uint32_t round_value_ = 0;
  alignas(64) std::atomic<uint32_t> round_{0};
  alignas(64) std::atomic<uint32_t> done_{0};
  alignas(64) std::atomic<bool> sleeping_{false};
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread worker_;
};

/// Nanoseconds for one cache line to go to the other thread and another to come back.
double CrossCoreRoundTripNs(int trips) {
  alignas(64) std::atomic<int> ping{0};
  alignas(64) std::atomic<int> pong{0};
  std::thread other([&] {
    for (int i = 1; i <= trips; ++i) {
      while (ping.load(std::memory_order_acquire) != i) pool_detail::CpuRelax();
      pong.store(i, std::memory_order_release);
    }
  });
  const auto start = Clock::now();
  for (int i = 1; i <= trips; ++i) {
    ping.store(i, std::memory_order_release);
    while (pong.load(std::memory_order_acquire) != i) pool_detail::CpuRelax();
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  other.join();
  return seconds / trips * 1e9;
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

SyncRun MakeSync(const Config& c, int threads, bool adaptive = true) {
  SyncRun r;
  r.pool = std::make_unique<ActorPool>(Maker(c), Options(c, threads, 0, adaptive));
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
  const double seconds = args.quick ? 0.05 : args.seconds;
  const std::string tag = "pool/" + c.env + "_" + std::to_string(c.envs) + "envs";

  RawLoop raw_loop(c);
  BareBarrier bare(c);
  SyncRun one = MakeSync(c, 1);
  SyncRun two = MakeSync(c, 2);
  SyncRun two_equal = MakeSync(c, 2, false);
  AsyncRun async_two = MakeAsync(c, 2);
  Meter raw{[&] { return raw_loop.Step(); }};
  Meter m1{[&] { return one.Step(); }};
  Meter m2{[&] { return two.Step(); }};
  Meter m2_equal{[&] { return two_equal.Step(); }};
  Meter a2{[&] { return async_two.Step(); }};
  Meter barrier{[&] { return bare.Step(); }};
  Interleave({&raw, &m1, &m2, &m2_equal, &a2, &barrier}, seconds, args.quick ? 0.005 : 0.01);
  const double t1 = m1.Rate(), t2 = m2.Rate();
  Report(tag + "/plain_loop_1_thread", raw.Rate(), "steps/s");
  Report(tag + "/sync_1_thread", t1, "steps/s");
  Report(tag + "/sync_2_threads", t2, "steps/s");
  Report(tag + "/sync_2_threads_equal_ranges", m2_equal.Rate(), "steps/s");
  Report(tag + "/async_2_threads", a2.Rate(), "steps/s");
  Report(tag + "/bare_barrier_2_threads", barrier.Rate(), "steps/s");
  Report("pool/overhead_1_thread_over_plain_loop", raw.Rate() / t1, "x");
  // Time per batch beyond a perfect split of the one-thread time over two threads.
  Report("pool/sync_handoff_per_batch", (c.envs / t2 - c.envs / t1 / 2) * 1e6, "us");
  Report("pool/async_over_sync_2_threads", a2.Rate() / t2, "x");
  Report("pool/equal_ranges_speedup_2_over_1", m2_equal.Rate() / t1, "x");
  Report("pool/bare_barrier_over_plain_loop", barrier.Rate() / raw.Rate(), "x");
  Report("pool/speedup_2_over_1", t2 / t1, "x");
  // The unit of every hand-off above: a round needs at least one (publish, then completion).
  Report("pool/cross_core_round_trip", CrossCoreRoundTripNs(args.quick ? 1000 : 200000), "ns");

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
