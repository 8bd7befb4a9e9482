// No heap allocation per step in the steady state. This executable replaces the global operator
// new/delete with counting versions, so every allocation in the process counts, the pool's worker
// threads included; after a warm-up, many sync and async steps must allocate nothing.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "envs/registry.h"
#include "runners/actor_pool.h"
#include "tests/pool_fake_env.h"

namespace {
std::atomic<long long> g_allocations{0};

void* Allocate(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* AllocateAligned(std::size_t n, std::align_val_t align) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  const auto a = static_cast<std::size_t>(align);
  if (void* p = std::aligned_alloc(a, (std::max<std::size_t>(n, 1) + a - 1) / a * a)) return p;
  throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t n) {
  return Allocate(n);
}
void* operator new[](std::size_t n) {
  return Allocate(n);
}
void* operator new(std::size_t n, std::align_val_t a) {
  return AllocateAligned(n, a);
}
void* operator new[](std::size_t n, std::align_val_t a) {
  return AllocateAligned(n, a);
}
// The nothrow forms too, so that no allocation reaches another allocator's delete.
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return Allocate(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return Allocate(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  try {
    return AllocateAligned(n, a);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  try {
    return AllocateAligned(n, a);
  } catch (...) {
    return nullptr;
  }
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}

using namespace rimlab;
using rimlab::testing::CounterEnv;

namespace {

/// Allocations over `steps` sync steps after `warmup` steps.
long long SyncAllocations(ActorPool& pool, int warmup, int steps) {
  std::vector<Action> actions(static_cast<size_t>(pool.num_envs()));
  pool.Reset();
  long long before = 0;
  for (int k = 0; k < warmup + steps; ++k) {
    if (k == warmup) before = g_allocations.load();
    for (size_t e = 0; e < actions.size(); ++e) {
      actions[e].index = testing::TestAction(static_cast<int>(e), k) % 4;
    }
    pool.Step(actions.data());
  }
  return g_allocations.load() - before;
}

/// Allocations over `steps` async Recv/Send rounds after `warmup` rounds.
long long AsyncAllocations(ActorPool& pool, int warmup, int steps) {
  std::vector<Action> actions(static_cast<size_t>(pool.batch_size()));
  pool.AsyncReset();
  long long before = 0;
  for (int k = 0; k < warmup + steps; ++k) {
    if (k == warmup) before = g_allocations.load();
    const BatchView& v = pool.Recv();
    for (int i = 0; i < v.size; ++i) {
      actions[static_cast<size_t>(i)].index = testing::TestAction(v.env_id[i], k) % 4;
    }
    pool.Send(actions.data(), v.env_id, v.size);
  }
  return g_allocations.load() - before;
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
    const long long canary = g_allocations.load();
    auto* p = new int(3);
    delete p;
    REQUIRE(g_allocations.load() == canary + 1);  // the counter does see allocations
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
