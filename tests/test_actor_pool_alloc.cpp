// No heap allocation per step in the steady state. This executable links the counting global
// operator new/delete of bench/alloc_count.cpp, so every allocation in the process counts, the
// pool's worker threads included; after a warm-up, many sync and async steps must allocate nothing.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "envs/registry.h"
#include "runners/pool/actor_pool.h"
#include "tests/pool_fake_env.h"

// bench/alloc_count.cpp, linked into this executable, replaces operator new/delete.
extern "C" long long rimlab_bench_allocations();

using namespace rimlab;
using rimlab::testing::CounterEnv;

namespace {

/// Allocations over `steps` sync steps after `warmup` steps.
long long SyncAllocations(ActorPool& pool, int warmup, int steps) {
  std::vector<Action> actions(static_cast<size_t>(pool.num_envs()));
  pool.Reset();
  long long before = 0;
  for (int k = 0; k < warmup + steps; ++k) {
    if (k == warmup) before = rimlab_bench_allocations();
    for (size_t e = 0; e < actions.size(); ++e) {
      actions[e].index = testing::TestAction(static_cast<int>(e), k) % 4;
    }
    pool.Step(actions.data());
  }
  return rimlab_bench_allocations() - before;
}

/// Allocations over `steps` async Recv/Send rounds after `warmup` rounds.
long long AsyncAllocations(ActorPool& pool, int warmup, int steps) {
  std::vector<Action> actions(static_cast<size_t>(pool.batch_size()));
  pool.AsyncReset();
  long long before = 0;
  for (int k = 0; k < warmup + steps; ++k) {
    if (k == warmup) before = rimlab_bench_allocations();
    const BatchView& v = pool.Recv();
    for (int i = 0; i < v.size; ++i) {
      actions[static_cast<size_t>(i)].index = testing::TestAction(v.env_id[i], k) % 4;
    }
    pool.Send(actions.data(), v.env_id, v.size);
  }
  return rimlab_bench_allocations() - before;
}

/// An env that allocates on every step, to show that the count sees the workers' allocations.
class AllocatingEnv : public CounterEnv {
 public:
  TimeStep Step(const Action& action, const ObsRef& obs) override {
    note_ = std::string(64 + (count_++ % 2), 'x');  // a fresh heap buffer each time
    return CounterEnv::Step(action, obs);
  }

 private:
  std::string note_;
  int count_ = 0;
};

PoolOptions Opts(int envs, int threads, int batch, int spin) {
  PoolOptions o;
  o.num_envs = envs;
  o.num_threads = threads;
  o.batch_size = batch;
  o.seed = 1;
  o.spin_microseconds = spin;
  return o;
}

}  // namespace

TEST_CASE("Pool allocates nothing per step in the steady state (fake env)", "[pool][alloc]") {
  auto make = [](int) { return std::make_unique<CounterEnv>(); };
  {
    const long long canary = rimlab_bench_allocations();
    // An explicit call: a new-expression paired with delete may be elided by the optimiser.
    void* p = ::operator new(16);
    ::operator delete(p);
    REQUIRE(rimlab_bench_allocations() == canary + 1);  // the counter does see allocations
  }
  for (int threads : {1, 2, 3}) {
    for (int spin : {0, 50}) {  // spin 0: workers sleep on the condition variable every step
      INFO("threads " << threads << " spin " << spin);
      ActorPool sync(make, Opts(16, threads, 0, spin));
      CHECK(SyncAllocations(sync, 50, 2000) == 0);
      ActorPool async(make, Opts(16, threads, 5, spin));
      CHECK(AsyncAllocations(async, 50, 2000) == 0);
    }
  }
}

TEST_CASE("The allocation count includes allocations on worker threads", "[pool][alloc]") {
  // Only env 3 allocates; with 2 threads it is owned by the worker, not the calling thread.
  auto make = [](int id) -> std::unique_ptr<Environment> {
    if (id == 3) return std::make_unique<AllocatingEnv>();
    return std::make_unique<CounterEnv>();
  };
  ActorPool pool(make, Opts(4, 2, 0, 50));
  CHECK(SyncAllocations(pool, 10, 100) >= 50);
}

TEST_CASE("Pool allocates nothing per step in the steady state (pickup)", "[pool][alloc]") {
  Params p;
  p.Set("size", int64_t{8});
  p.Set("num_objects", int64_t{3});
  auto make = [&p](int) { return MakeEnv("pickup", p); };
  ActorPool sync(make, Opts(64, 2, 0, 50));
  CHECK(SyncAllocations(sync, 200, 2000) == 0);
  ActorPool async(make, Opts(64, 2, 32, 50));
  CHECK(AsyncAllocations(async, 200, 2000) == 0);
}
