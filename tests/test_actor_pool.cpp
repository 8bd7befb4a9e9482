// The actor pool: sync order and determinism across thread counts, seeding, auto-reset, async
// service (every env served, ids matching data, shuffled sends), errors and misuse.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <numeric>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

#include "envs/registry.h"
#include "runners/pool/actor_pool.h"
#include "tests/pool_fake_env.h"

using namespace rimlab;
using rimlab::testing::CounterEnv;
using rimlab::testing::CounterOptions;
using rimlab::testing::TestAction;

namespace {

/// One result, copied out of a batch (or built from a standalone env).
struct Rec {
  int32_t env = -1;
  StepType type = StepType::kFirst;
  float reward = 0, discount = 0, episode_return = 0;
  uint8_t success = 0;
  int32_t episode_length = 0;
  std::vector<uint8_t> obs;

  bool operator==(const Rec& o) const {
    return env == o.env && type == o.type && reward == o.reward && discount == o.discount &&
           success == o.success && episode_return == o.episode_return &&
           episode_length == o.episode_length && obs == o.obs;
  }
  int32_t State(int k) const {
    int32_t v;
    std::memcpy(&v, obs.data() + 4 * k, 4);
    return v;
  }
};

std::ostream& operator<<(std::ostream& os, const Rec& r) {
  os << "{env " << r.env << " " << StepTypeName(r.type) << " r=" << r.reward << " d=" << r.discount
     << " ret=" << r.episode_return << " len=" << r.episode_length << " state=[" << r.State(0)
     << "," << r.State(1) << "," << r.State(2) << "," << r.State(3) << "]}";
  return os;
}

Rec Slot(const BatchView& v, const EnvSpec& spec, int i) {
  Rec r;
  r.env = v.env_id[i];
  r.type = v.step_type[i];
  r.reward = v.reward[i];
  r.discount = v.discount[i];
  r.success = v.success[i];
  r.episode_return = v.episode_return[i];
  r.episode_length = v.episode_length[i];
  for (int f = 0; f < v.num_fields; ++f) {
    const size_t n = spec.observation.fields[static_cast<size_t>(f)].NumBytes();
    const auto* p = static_cast<const uint8_t*>(v.obs[f]) + n * static_cast<size_t>(i);
    r.obs.insert(r.obs.end(), p, p + n);
  }
  return r;
}

/// A standalone env with the pool's auto-reset and episode statistics, as the reference.
class Replica {
 public:
  Replica(std::unique_ptr<Environment> env, int id, uint64_t seed)
      : env_(std::move(env)), obs_(env_->Spec().observation), id_(id) {
    env_->Seed(seed);
  }
  Rec Next(const Action& a, bool reset = false) {
    TimeStep ts;
    if (reset || needs_reset_) {
      ts = env_->Reset(obs_.Ref());
      ret_ = 0;
      len_ = 0;
    } else {
      ts = env_->Step(a, obs_.Ref());
      ret_ += ts.reward;
      len_ += 1;
    }
    needs_reset_ = ts.last();
    Rec r;
    r.env = id_;
    r.type = ts.type;
    r.reward = ts.reward;
    r.discount = ts.discount;
    r.success = ts.success ? 1 : 0;
    r.episode_return = static_cast<float>(ret_);
    r.episode_length = len_;
    for (int f = 0; f < obs_.num_fields(); ++f) {
      const auto* p = static_cast<const uint8_t*>(obs_.data(f));
      r.obs.insert(r.obs.end(), p, p + obs_.num_bytes(f));
    }
    return r;
  }

 private:
  std::unique_ptr<Environment> env_;
  Observation obs_;
  int id_;
  bool needs_reset_ = true;
  double ret_ = 0;
  int32_t len_ = 0;
};

EnvMaker Counters(CounterOptions o = {}) {
  return [o](int) { return std::make_unique<CounterEnv>(o); };
}

PoolOptions Opts(int envs, int threads, int batch = 0, uint64_t seed = 100, int spin = 50) {
  PoolOptions o;
  o.num_envs = envs;
  o.num_threads = threads;
  o.batch_size = batch;
  o.seed = seed;
  o.spin_microseconds = spin;
  return o;
}

/// Runs `steps` sync steps with TestAction; returns every result in order.
std::vector<Rec> SyncTrace(ActorPool& pool, int steps) {
  std::vector<Rec> trace;
  const int n = pool.num_envs();
  const BatchView* v = &pool.Reset();
  for (int i = 0; i < n; ++i) trace.push_back(Slot(*v, pool.spec(), i));
  std::vector<Action> actions(static_cast<size_t>(n));
  for (int k = 0; k < steps; ++k) {
    for (int e = 0; e < n; ++e) actions[static_cast<size_t>(e)].index = TestAction(e, k);
    v = &pool.Step(actions.data());
    for (int i = 0; i < n; ++i) trace.push_back(Slot(*v, pool.spec(), i));
  }
  return trace;
}

/// Every result equal, in order; a failure names the first result that differs.
void RequireSameTrace(const std::vector<Rec>& trace, const std::vector<Rec>& expected) {
  REQUIRE(trace.size() == expected.size());
  for (size_t i = 0; i < trace.size(); ++i) {
    INFO("result " << i);
    REQUIRE(trace[i] == expected[i]);
  }
}

std::string MessageOf(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no exception)";
}

}  // namespace

TEST_CASE("PoolOptions: invalid options are rejected with messages naming them", "[pool]") {
  auto bad = [](PoolOptions o) { return MessageOf([&] { ActorPool pool(Counters(), o); }); };
  CHECK_THAT(bad(Opts(0, 1)), Catch::Contains("num_envs"));
  CHECK_THAT(bad(Opts(4, 0)), Catch::Contains("num_threads"));
  CHECK_THAT(bad(Opts(4, 5)), Catch::Contains("num_threads (5) exceeds num_envs (4)"));
  CHECK_THAT(bad(Opts(4, 1, -1)), Catch::Contains("batch_size"));
  CHECK_THAT(bad(Opts(4, 1, 5)), Catch::Contains("batch_size"));
  CHECK_THAT(bad(Opts(4, 1, 0, 0, -3)), Catch::Contains("spin_microseconds"));
  CHECK_THROWS_AS(ActorPool(Counters(), Opts(0, 1)), std::invalid_argument);
  CHECK_THAT(MessageOf([] { Opts(1 << 20, 2).Validate(); }),
             Catch::Contains("num_envs must stay below 1048576, got 1048576"));
  CHECK_NOTHROW(Opts((1 << 20) - 1, 4).Validate());

  CHECK_THAT(MessageOf([] { ActorPool p([](int) { return nullptr; }, Opts(2, 1)); }),
             Catch::Contains("no env for env 0"));
  CHECK_THAT(MessageOf([] { ActorPool p(EnvMaker(), Opts(2, 1)); }), Catch::Contains("factory"));
  auto mixed = [](int id) {
    CounterOptions o;
    o.obs_size = id == 2 ? 4 : 3;
    return std::make_unique<CounterEnv>(o);
  };
  CHECK_THAT(MessageOf([&] { ActorPool p(mixed, Opts(3, 1)); }),
             Catch::Contains("env 2") && Catch::Contains("different spec"));
}

TEST_CASE("Pool sync: results come in env order with their env ids", "[pool]") {
  const int threads = GENERATE(1, 2, 3);
  ActorPool pool(Counters(), Opts(7, threads, 0, 100));
  REQUIRE(pool.sync());
  REQUIRE(pool.batch_size() == 7);
  const BatchView& r = pool.Reset();
  REQUIRE(r.size == 7);
  for (int i = 0; i < 7; ++i) {
    CHECK(r.env_id[i] == i);
    CHECK(r.step_type[i] == StepType::kFirst);
    CHECK(r.Obs<int32_t>(CounterEnv::kState)[5 * i + CounterEnv::kSeed] == 100 + i);
  }
  std::vector<Action> actions(7);
  for (int k = 0; k < 20; ++k) {
    for (int i = 0; i < 7; ++i) actions[static_cast<size_t>(i)].index = (i + k) % 4;
    const BatchView& v = pool.Step(actions.data());
    for (int i = 0; i < 7; ++i) {
      INFO("step " << k << " slot " << i);
      CHECK(v.env_id[i] == i);
      const int32_t* s = v.Obs<int32_t>(CounterEnv::kState) + 5 * i;
      CHECK(s[CounterEnv::kSeed] == 100 + i);
      if (v.step_type[i] != StepType::kFirst) CHECK(s[CounterEnv::kLastAction] == (i + k) % 4);
    }
  }
}

TEST_CASE("Pool sync: env i is seeded seed + i (matches a standalone env)", "[pool]") {
  const int threads = GENERATE(1, 2);
  const int n = 5;
  ActorPool pool(Counters(), Opts(n, threads, 0, 4242));
  const auto trace = SyncTrace(pool, 40);
  std::vector<Replica> ref;
  for (int e = 0; e < n; ++e) ref.emplace_back(std::make_unique<CounterEnv>(), e, 4242u + e);
  size_t at = 0;
  for (int k = -1; k < 40; ++k) {
    for (int e = 0; e < n; ++e, ++at) {
      Action a;
      a.index = k < 0 ? 0 : TestAction(e, k);
      INFO("step " << k << " env " << e);
      REQUIRE(trace[at] == ref[static_cast<size_t>(e)].Next(a, k < 0));
    }
  }
}

TEST_CASE("Pool sync: results are identical whatever num_threads", "[pool]") {
  // 13 envs: uneven chunks. spin 0 forces the sleep/wake path, spin 50 the polling one. With
  // adaptive ranges the envs change threads as the ranges follow the threads' speeds.
  const int spin = GENERATE(0, 50);
  const bool adaptive = GENERATE(true, false);
  CounterOptions slow;
  slow.work = 300;
  ActorPool base(Counters(slow), Opts(13, 1, 0, 7, spin));
  const auto expected = SyncTrace(base, 150);
  for (int threads = 2; threads <= 4; ++threads) {
    PoolOptions o = Opts(13, threads, 0, 7, spin);
    o.adaptive_ranges = adaptive;
    ActorPool pool(Counters(slow), o);
    INFO("threads " << threads << " spin " << spin << " adaptive " << adaptive);
    const auto trace = SyncTrace(pool, 150);
    RequireSameTrace(trace, expected);
  }
}

TEST_CASE("Pool sync: traces stay identical when threads stall, wake late and steal", "[pool]") {
  // Steps that yield or sleep at random make a worker miss whole rounds, start a round late, or
  // stall mid-range while the others take its envs: every claim word then gets set up by a thief
  // or found exhausted by its owner, and a report may never come. None of it may change a result.
  const int envs = GENERATE(5, 64);
  const int spin = GENERATE(0, 50);
  CounterOptions jitter;
  jitter.jitter = true;
  ActorPool base(Counters(jitter), Opts(envs, 1, 0, 3, spin));
  const auto expected = SyncTrace(base, 400);
  for (int threads = 2; threads <= 4; ++threads) {
    ActorPool pool(Counters(jitter), Opts(envs, threads, 0, 3, spin));
    INFO("envs " << envs << " threads " << threads << " spin " << spin);
    const auto trace = SyncTrace(pool, 400);
    RequireSameTrace(trace, expected);
  }
}

TEST_CASE("Pool: auto-reset keeps the LAST observation, then starts a new episode", "[pool]") {
  const int threads = GENERATE(1, 2);
  const int n = 4;
  ActorPool pool(Counters(), Opts(n, threads, 0, 11));
  pool.Reset();
  std::vector<Action> actions(n);
  std::vector<int> lasts(n, 0);
  bool saw_terminated = false, saw_truncated = false;
  std::vector<double> running(n, 0.0);
  std::vector<bool> was_last(n, false);
  for (int k = 0; k < 200; ++k) {
    for (int e = 0; e < n; ++e) actions[static_cast<size_t>(e)].index = 1 + (e + k) % 3;
    const BatchView& v = pool.Step(actions.data());
    for (int e = 0; e < n; ++e) {
      INFO("step " << k << " env " << e);
      const int32_t* s = v.Obs<int32_t>(CounterEnv::kState) + 5 * e;
      const auto ue = static_cast<size_t>(e);
      if (was_last[ue]) {
        // The step after LAST: a reset, whose action was ignored.
        CHECK(v.step_type[e] == StepType::kFirst);
        CHECK(s[CounterEnv::kT] == 0);
        CHECK(s[CounterEnv::kLastAction] == -1);
        CHECK(v.reward[e] == 0.0f);
        CHECK(v.discount[e] == 1.0f);
        CHECK(v.episode_length[e] == 0);
        CHECK(v.episode_return[e] == 0.0f);
        running[ue] = 0.0;
        was_last[ue] = false;
        continue;
      }
      REQUIRE(v.step_type[e] != StepType::kFirst);
      running[ue] += v.reward[e];
      CHECK(s[CounterEnv::kLastAction] == actions[ue].index);
      CHECK(v.episode_length[e] == s[CounterEnv::kT]);
      CHECK(v.episode_return[e] == Approx(running[ue]).epsilon(1e-5));
      if (v.step_type[e] == StepType::kLast) {
        // The final observation is the one of the last step, not of a new episode.
        const int32_t length = s[CounterEnv::kLength];
        CHECK(s[CounterEnv::kT] == std::min(length, CounterEnv::kMaxSteps));
        if (length <= CounterEnv::kMaxSteps) {
          CHECK(v.discount[e] == 0.0f);
          saw_terminated = true;
        } else {
          CHECK(v.discount[e] == 1.0f);
          CHECK(s[CounterEnv::kT] == CounterEnv::kMaxSteps);
          saw_truncated = true;
        }
        ++lasts[ue];
        was_last[ue] = true;
      }
    }
  }
  CHECK(saw_terminated);
  CHECK(saw_truncated);
  for (int e = 0; e < n; ++e) CHECK(lasts[static_cast<size_t>(e)] > 5);
}

TEST_CASE("Pool: a Step before any Reset starts an episode", "[pool]") {
  ActorPool pool(Counters(), Opts(3, 2));
  std::vector<Action> actions(3);
  const BatchView& v = pool.Step(actions.data());
  for (int i = 0; i < 3; ++i) CHECK(v.step_type[i] == StepType::kFirst);
  CHECK(pool.Step(actions.data()).step_type[0] == StepType::kMid);
}

TEST_CASE("Pool sync: Send/Recv with shuffled partial sends still return env order", "[pool]") {
  ActorPool pool(Counters(), Opts(6, 2, 6, 3));
  pool.AsyncReset();
  pool.Recv();
  std::vector<int32_t> ids = {4, 1, 5, 0, 2, 3};
  std::vector<Action> actions(6);
  for (size_t i = 0; i < 6; ++i) actions[i].index = ids[i] % 4;
  pool.Send(actions.data(), ids.data(), 2);
  CHECK_THROWS_WITH(pool.Recv(),
                    Catch::Contains("needs 6 envs in flight") && Catch::Contains("only 2"));
  pool.Send(actions.data() + 2, ids.data() + 2, 4);
  const BatchView& v = pool.Recv();
  for (int i = 0; i < 6; ++i) {
    CHECK(v.env_id[i] == i);
    CHECK(v.Obs<int32_t>(CounterEnv::kState)[5 * i + CounterEnv::kLastAction] == i % 4);
  }
}

TEST_CASE("Pool async: every env served, ids match data, shuffled sends, no starvation",
          "[pool][async]") {
  const int threads = GENERATE(1, 2, 3);
  // {num_envs, batch_size}; large batches make threads claim several envs at once.
  const auto shape = GENERATE(std::make_pair(10, 1), std::make_pair(10, 3), std::make_pair(10, 5),
                              std::make_pair(40, 16), std::make_pair(40, 39));
  const int n = shape.first, batch = shape.second;
  INFO("threads " << threads << ", num_envs " << n << ", batch_size " << batch);
  const uint64_t seed = 900;
  // Envs of different speeds, so that the order in which results come back varies.
  auto make = [](int id) {
    CounterOptions o;
    o.work = (id % 4) * 400;
    return std::make_unique<CounterEnv>(o);
  };
  ActorPool pool(make, Opts(n, threads, batch, seed));
  REQUIRE_FALSE(pool.sync());
  std::vector<Replica> ref;
  for (int e = 0; e < n; ++e) ref.emplace_back(make(e), e, seed + static_cast<uint64_t>(e));
  std::vector<int64_t> served(n, 0);
  std::vector<int32_t> sent_action(n, 0);
  std::vector<bool> reset_pending(n, true);
  std::mt19937 shuffle_rng(static_cast<unsigned>(threads * 100 + batch));
  pool.AsyncReset();
  const int rounds = 300;
  std::vector<int32_t> ids;
  std::vector<Action> actions;
  for (int round = 0; round < rounds; ++round) {
    const BatchView& v = pool.Recv();
    REQUIRE(v.size == batch);
    ids.clear();
    for (int i = 0; i < v.size; ++i) {
      const int e = v.env_id[i];
      REQUIRE(e >= 0);
      REQUIRE(e < n);
      INFO("round " << round << " slot " << i << " env " << e);
      // The data is the env's own: same seed, and the same trajectory as a standalone env.
      REQUIRE(v.Obs<int32_t>(CounterEnv::kState)[5 * i + CounterEnv::kSeed] ==
              static_cast<int32_t>(seed) + e);
      Action a;
      a.index = sent_action[static_cast<size_t>(e)];
      REQUIRE(Slot(v, pool.spec(), i) ==
              ref[static_cast<size_t>(e)].Next(a, reset_pending[static_cast<size_t>(e)]));
      reset_pending[static_cast<size_t>(e)] = false;
      ids.push_back(e);
    }
    // Send them back in a shuffled order, split over two calls.
    std::shuffle(ids.begin(), ids.end(), shuffle_rng);
    actions.assign(ids.size(), Action{});
    for (size_t j = 0; j < ids.size(); ++j) {
      const auto e = static_cast<size_t>(ids[j]);
      actions[j].index = TestAction(ids[j], served[e]);
      sent_action[e] = actions[j].index;
      ++served[e];
    }
    const int half = static_cast<int>(ids.size()) / 2;
    pool.Send(actions.data(), ids.data(), half);
    pool.Send(actions.data() + half, ids.data() + half, static_cast<int>(ids.size()) - half);
  }
  const double mean = static_cast<double>(rounds * batch) / n;
  for (int e = 0; e < n; ++e) {
    INFO("env " << e << " served " << served[static_cast<size_t>(e)] << " times, mean " << mean);
    CHECK(static_cast<double>(served[static_cast<size_t>(e)]) >= 0.5 * mean);
  }
}

TEST_CASE("Pool async: a returned batch stays valid until the next Recv", "[pool][async]") {
  const int n = 8, batch = 3;
  ActorPool pool(Counters(), Opts(n, 2, batch, 5));
  pool.AsyncReset();
  std::vector<Action> actions(batch);
  for (int round = 0; round < 50; ++round) {
    const BatchView& v = pool.Recv();
    std::vector<Rec> copy;
    for (int i = 0; i < batch; ++i) copy.push_back(Slot(v, pool.spec(), i));
    std::vector<int32_t> ids(v.env_id, v.env_id + batch);
    pool.Send(actions.data(), ids.data(), batch);
    // Let the worker run every env it can while we still hold the batch.
    std::this_thread::sleep_for(std::chrono::microseconds(300));
    for (int i = 0; i < batch; ++i)
      REQUIRE(Slot(v, pool.spec(), i) == copy[static_cast<size_t>(i)]);
  }
}

TEST_CASE("Pool async: Recv refuses to wait for envs that were never sent", "[pool][async]") {
  ActorPool pool(Counters(), Opts(6, 2, 2, 1));
  CHECK_THROWS_AS(pool.Recv(), std::logic_error);
  pool.AsyncReset();
  CHECK_THROWS_WITH(pool.AsyncReset(), Catch::Contains("in flight"));
  std::vector<int32_t> all;
  for (int k = 0; k < 3; ++k) {
    const BatchView& v = pool.Recv();
    all.insert(all.end(), v.env_id, v.env_id + v.size);
  }
  std::sort(all.begin(), all.end());
  CHECK(all == std::vector<int32_t>{0, 1, 2, 3, 4, 5});
  Action a;
  int32_t id = 3;
  pool.Send(&a, &id, 1);
  CHECK_THROWS_WITH(pool.Recv(), Catch::Contains("needs 2 envs in flight"));
  CHECK_THROWS_WITH(pool.Send(&a, &id, 1), Catch::Contains("env 3 is already in flight"));
  int32_t other = 0;
  pool.Send(&a, &other, 1);
  const BatchView& v = pool.Recv();
  CHECK(std::min(v.env_id[0], v.env_id[1]) == 0);
  CHECK(std::max(v.env_id[0], v.env_id[1]) == 3);
}

TEST_CASE("Pool: bad Send arguments are rejected and leave the pool usable", "[pool]") {
  ActorPool pool(Counters(), Opts(4, 2, 0, 1));
  pool.Reset();
  std::vector<Action> actions(4);
  actions[2].index = 9;
  CHECK_THROWS_WITH(pool.Step(actions.data()),
                    Catch::Contains("action 9 for env 2 out of range [0, 4)"));
  CHECK_THROWS_AS(pool.Step(actions.data()), std::invalid_argument);
  actions[2].index = 1;
  int32_t bad_id = 7;
  CHECK_THROWS_WITH(pool.Send(actions.data(), &bad_id, 1),
                    Catch::Contains("env id 7 out of range"));
  const BatchView& v = pool.Step(actions.data());
  CHECK(v.step_type[2] == StepType::kMid);
  CHECK(v.Obs<int32_t>(CounterEnv::kState)[5 * 2 + CounterEnv::kLastAction] == 1);

  ActorPool async(Counters(), Opts(4, 2, 2, 1));
  CHECK_THROWS_WITH(async.Step(actions.data()), Catch::Contains("needs sync mode"));
  CHECK_THROWS_WITH(async.Reset(), Catch::Contains("needs sync mode"));
}

TEST_CASE("Pool: continuous actions are copied when sent", "[pool]") {
  CounterOptions o;
  o.continuous = true;
  ActorPool pool(Counters(o), Opts(4, 2, 2, 1));
  pool.AsyncReset();
  pool.Recv();
  const BatchView& first = pool.Recv();
  std::vector<int32_t> ids(first.env_id, first.env_id + 2);
  float values[4] = {0.25f, 0.5f, -0.125f, 0.3f};
  Action actions[2];
  actions[0].values = values;
  actions[1].values = values + 2;
  pool.Send(actions, ids.data(), 2);
  std::fill(values, values + 4, 0.0f);  // the caller reuses its array at once
  const BatchView& v = pool.Recv();
  for (int i = 0; i < 2; ++i) {
    const int32_t last = v.Obs<int32_t>(CounterEnv::kState)[5 * i + CounterEnv::kLastAction];
    CHECK(last == (v.env_id[i] == ids[0] ? 250 + 10000 * 5 : -125 + 10000 * 3));
  }
  Action no_values;
  int32_t id = ids[0];
  pool.Send(actions, ids.data(), 2);
  pool.Recv();
  CHECK_THROWS_WITH(pool.Send(&no_values, &id, 1), Catch::Contains("has no values"));
}

TEST_CASE("Pool: an env's exception is rethrown on the calling thread", "[pool]") {
  const int threads = GENERATE(1, 2, 3);
  const int batch = GENERATE(0, 2);
  auto make = [](int id) {
    CounterOptions o;
    if (id == 4) o.throw_at_step = 5;
    return std::make_unique<CounterEnv>(o);
  };
  ActorPool pool(make, Opts(6, threads, batch, 0));
  INFO("threads " << threads << " batch " << batch);
  auto run = [&] {
    std::vector<Action> actions(6);
    if (pool.sync()) {
      pool.Reset();
      for (int k = 0; k < 100; ++k) pool.Step(actions.data());
    } else {
      pool.AsyncReset();
      for (int k = 0; k < 300; ++k) {
        const BatchView& v = pool.Recv();
        std::vector<int32_t> ids(v.env_id, v.env_id + v.size);
        pool.Send(actions.data(), ids.data(), v.size);
      }
    }
  };
  CHECK_THROWS_AS(run(), std::runtime_error);
  // The pool is now unusable, says why, and is destroyed without hanging.
  CHECK_THROWS_WITH(
      pool.Recv(), Catch::Contains("unusable") && Catch::Contains("CounterEnv 4 fails on purpose"));
  CHECK_THROWS_AS(pool.AsyncReset(), std::logic_error);
}

TEST_CASE("Pool: the first exception's message reaches the caller unchanged", "[pool]") {
  auto make = [](int id) {
    CounterOptions o;
    if (id == 1) o.throw_at_step = 1;
    return std::make_unique<CounterEnv>(o);
  };
  ActorPool pool(make, Opts(2, 2, 0, 0));
  pool.Reset();
  std::vector<Action> actions(2);
  CHECK_THROWS_WITH(pool.Step(actions.data()), "CounterEnv 1 fails on purpose");
}

TEST_CASE("Pool with pickup: sync traces match standalone envs for 1 and 2 threads",
          "[pool][pickup]") {
  Params p;
  p.Set("size", int64_t{8});
  p.Set("num_objects", int64_t{3});
  auto make = [&p](int) { return MakeEnv("pickup", p); };
  const int n = 8, steps = 150;
  std::vector<std::vector<Rec>> traces;
  for (int threads : {1, 2}) {
    ActorPool pool(make, Opts(n, threads, 0, 31));
    CHECK(pool.spec().name == "pickup");
    std::vector<Action> actions(n);
    std::vector<Rec> trace;
    const BatchView* v = &pool.Reset();
    for (int k = 0; k <= steps; ++k) {
      for (int i = 0; i < n; ++i) trace.push_back(Slot(*v, pool.spec(), i));
      for (int e = 0; e < n; ++e) actions[static_cast<size_t>(e)].index = TestAction(e, k) % 4;
      if (k < steps) v = &pool.Step(actions.data());
    }
    traces.push_back(trace);
  }
  REQUIRE(traces[0] == traces[1]);
  std::vector<Replica> ref;
  for (int e = 0; e < n; ++e) ref.emplace_back(make(e), e, 31u + e);
  int lasts = 0;
  for (int k = 0; k <= steps; ++k) {
    for (int e = 0; e < n; ++e) {
      Action a;
      a.index = k == 0 ? 0 : TestAction(e, k - 1) % 4;
      const Rec& got = traces[0][static_cast<size_t>(k * n + e)];
      lasts += got.type == StepType::kLast;
      INFO("step " << k << " env " << e);
      REQUIRE(got == ref[static_cast<size_t>(e)].Next(a, k == 0));
    }
  }
  CHECK(lasts > 0);  // auto-reset was exercised
}

// --- Snapshots (SaveState/LoadState) and Last() ---

namespace {

/// Distractors with moving balls: the envs draw from their RNG on every step, not only on reset.
EnvMaker MovingDistractors(const std::string& split = "train") {
  return [split](int) {
    Params p;
    p.Set("split", split);
    p.Set("moving", true);
    return MakeEnv("distractors", p);
  };
}

std::vector<Rec> AllSlots(const BatchView& v, const EnvSpec& spec) {
  std::vector<Rec> out;
  for (int i = 0; i < v.size; ++i) out.push_back(Slot(v, spec, i));
  return out;
}

/// Sync steps with actions that depend on `salt`; stops early after `min_steps` once some env is
/// on a LAST step (so that an auto-reset is pending), when `until_last`.
void StepSync(ActorPool& pool, int steps, int salt, bool until_last = false, int min_steps = 0) {
  std::vector<Action> actions(static_cast<size_t>(pool.num_envs()));
  for (int k = 0; k < steps; ++k) {
    for (int e = 0; e < pool.num_envs(); ++e) {
      actions[static_cast<size_t>(e)].index = TestAction(e + salt, k) % 4;
    }
    const BatchView& v = pool.Step(actions.data());
    if (until_last && k + 1 >= min_steps &&
        std::any_of(v.step_type, v.step_type + v.size,
                    [](StepType t) { return t == StepType::kLast; })) {
      return;
    }
  }
}

}  // namespace

TEST_CASE("Pool snapshot: a loaded pool returns the same Last() and continues exactly (sync)",
          "[pool][snapshot]") {
  const int threads_a = GENERATE(1, 2);
  const int threads_b = GENERATE(1, 2);
  INFO("saved with " << threads_a << " threads, loaded with " << threads_b);
  const int n = 8;
  ActorPool a(MovingDistractors(), Opts(n, threads_a, 0, 50));
  a.Reset();
  // Save while some env has just ended its episode, so that its auto-reset is pending.
  StepSync(a, 400, 0, true, 12);
  REQUIRE(std::count(a.Last().step_type, a.Last().step_type + n, StepType::kLast) > 0);
  const std::string bytes = a.SaveState();
  CHECK(a.SaveState() == bytes);

  // B has the same options but a history of its own, which the load replaces.
  ActorPool b(MovingDistractors(), Opts(n, threads_b, 0, 50));
  b.Reset();
  StepSync(b, 5, 3);
  b.LoadState(bytes);
  REQUIRE(AllSlots(b.Last(), b.spec()) == AllSlots(a.Last(), a.spec()));

  std::vector<Action> actions(n);
  int lasts = 0;
  for (int k = 0; k < 300; ++k) {
    for (int e = 0; e < n; ++e) actions[static_cast<size_t>(e)].index = TestAction(e, k + 7) % 4;
    const BatchView& va = a.Step(actions.data());
    const BatchView& vb = b.Step(actions.data());
    REQUIRE(&vb == &b.Last());
    for (int i = 0; i < n; ++i) {
      INFO("step " << k << " slot " << i);
      REQUIRE(Slot(va, a.spec(), i) == Slot(vb, b.spec(), i));
      lasts += va.step_type[i] == StepType::kLast;
    }
  }
  CHECK(lasts > 0);  // auto-resets happened after the load
  CHECK(a.SaveState() == b.SaveState());
}

TEST_CASE("Pool snapshot: a pool saved before any results loads and starts alike",
          "[pool][snapshot]") {
  ActorPool a(MovingDistractors(), Opts(4, 1, 0, 8));
  CHECK_THROWS_AS(a.Last(), std::logic_error);
  const std::string bytes = a.SaveState();
  ActorPool b(MovingDistractors(), Opts(4, 2, 0, 1234));  // another seed: the envs' RNG is loaded
  b.Reset();
  b.LoadState(bytes);
  CHECK_THROWS_AS(b.Last(), std::logic_error);
  std::vector<Action> actions(4);
  // The first Step of a pool never reset is a reset, as in A.
  for (int k = 0; k < 50; ++k) {
    for (int e = 0; e < 4; ++e) actions[static_cast<size_t>(e)].index = TestAction(e, k) % 4;
    const auto ra = AllSlots(a.Step(actions.data()), a.spec());
    REQUIRE(ra == AllSlots(b.Step(actions.data()), b.spec()));
  }
}

TEST_CASE("Pool snapshot: async pools with nothing in flight save and continue",
          "[pool][snapshot][async]") {
  const int threads = GENERATE(1, 2);
  INFO("threads " << threads);
  const int n = 6, batch = 3;
  ActorPool a(MovingDistractors(), Opts(n, threads, batch, 70));
  a.AsyncReset();
  CHECK_THROWS_AS(a.SaveState(), std::logic_error);  // all in flight
  std::vector<Action> actions(static_cast<size_t>(n));
  for (int round = 0; round < 40; ++round) {
    const BatchView& v = a.Recv();
    std::vector<int32_t> ids(v.env_id, v.env_id + v.size);
    for (int i = 0; i < v.size; ++i) actions[static_cast<size_t>(i)].index = (round + i) % 4;
    a.Send(actions.data(), ids.data(), v.size);
  }
  a.Recv();
  CHECK_THROWS_AS(a.SaveState(), std::logic_error);  // one batch still in flight
  a.Recv();
  const std::string bytes = a.SaveState();

  ActorPool b(MovingDistractors(), Opts(n, threads, batch, 70));
  CHECK_THROWS_AS(b.Last(), std::logic_error);
  b.LoadState(bytes);
  REQUIRE(AllSlots(b.Last(), b.spec()) == AllSlots(a.Last(), a.spec()));

  // Each env gets the same actions in both pools (a function of the env and how often it was
  // served), so its results must match one for one, whatever order they come back in.
  auto run = [n](ActorPool& pool) {
    std::vector<std::vector<Rec>> per_env(static_cast<size_t>(n));
    std::vector<int64_t> served(static_cast<size_t>(n), 0);
    std::vector<Action> acts(static_cast<size_t>(n));
    std::vector<int32_t> ids(static_cast<size_t>(n));
    for (int e = 0; e < n; ++e) {
      ids[static_cast<size_t>(e)] = e;
      acts[static_cast<size_t>(e)].index = TestAction(e, served[static_cast<size_t>(e)]++) % 4;
    }
    pool.Send(acts.data(), ids.data(), n);
    for (int round = 0; round < 200; ++round) {
      const BatchView& v = pool.Recv();
      ids.assign(v.env_id, v.env_id + v.size);
      for (int i = 0; i < v.size; ++i) {
        const auto e = static_cast<size_t>(v.env_id[i]);
        per_env[e].push_back(Slot(v, pool.spec(), i));
        acts[static_cast<size_t>(i)].index = TestAction(v.env_id[i], served[e]++) % 4;
      }
      pool.Send(acts.data(), ids.data(), v.size);
    }
    return per_env;
  };
  const auto ra = run(a);
  const auto rb = run(b);
  for (int e = 0; e < n; ++e) {
    const auto& x = ra[static_cast<size_t>(e)];
    const auto& y = rb[static_cast<size_t>(e)];
    const size_t common = std::min(x.size(), y.size());
    CHECK(common >= 50);
    for (size_t k = 0; k < common; ++k) {
      INFO("env " << e << " result " << k);
      REQUIRE(x[k] == y[k]);
    }
  }
}

TEST_CASE("Pool snapshot: mismatched pools and damaged bytes are refused", "[pool][snapshot]") {
  ActorPool a(MovingDistractors(), Opts(4, 2, 0, 9));
  a.Reset();
  StepSync(a, 20, 0);
  const std::string bytes = a.SaveState();

  ActorPool fewer(MovingDistractors(), Opts(3, 1, 0, 9));
  CHECK_THROWS_WITH(fewer.LoadState(bytes), Catch::Contains("4 envs"));
  CHECK_THROWS_AS(fewer.LoadState(bytes), std::invalid_argument);
  ActorPool async(MovingDistractors(), Opts(4, 1, 2, 9));
  CHECK_THROWS_AS(async.LoadState(bytes), std::invalid_argument);
  Params p;
  p.Set("size", int64_t{8});
  ActorPool pickup([&p](int) { return MakeEnv("pickup", p); }, Opts(4, 1, 0, 9));
  CHECK_THROWS_WITH(pickup.LoadState(bytes), Catch::Contains("distractors"));
  CHECK_THROWS_AS(pickup.LoadState(bytes), std::invalid_argument);

  // Damaged bytes throw and leave the pool as it was, still usable.
  ActorPool b(MovingDistractors(), Opts(4, 2, 0, 9));
  b.Reset();
  StepSync(b, 3, 1);
  const std::string before = b.SaveState();
  for (size_t len = 0; len < bytes.size(); len += 1 + len / 8) {
    INFO("truncated to " << len << " of " << bytes.size() << " bytes");
    CHECK_THROWS_AS(b.LoadState(bytes.substr(0, len)), std::invalid_argument);
  }
  CHECK_THROWS_AS(b.LoadState(bytes + "x"), std::invalid_argument);
  CHECK_THROWS_AS(b.LoadState(std::string(bytes.size(), 'x')), std::invalid_argument);
  CHECK(b.SaveState() == before);

  // Env 0 accepts its bytes but env 1 (another split: another time limit) refuses its own:
  // env 0 is put back as it was.
  auto mixed = [](int id) { return MovingDistractors(id == 0 ? "train" : "bigger")(id); };
  ActorPool c(mixed, Opts(4, 1, 0, 9));
  c.Reset();
  const std::string c_before = c.SaveState();
  CHECK_THROWS_AS(c.LoadState(bytes), std::invalid_argument);
  CHECK(c.SaveState() == c_before);

  b.LoadState(bytes);
  CHECK(b.SaveState() == bytes);
}

TEST_CASE("Pool snapshot: misuse and envs without snapshots", "[pool][snapshot]") {
  ActorPool counters(Counters(), Opts(3, 1, 0, 1));
  counters.Reset();
  CHECK_THROWS_AS(counters.SaveState(), std::logic_error);  // CounterEnv has no snapshots

  ActorPool a(MovingDistractors(), Opts(3, 2, 0, 1));
  const BatchView& first = a.Reset();
  CHECK(&a.Last() == &first);
  const std::string bytes = a.SaveState();
  std::vector<Action> actions(3);
  a.Send(actions.data(), nullptr, 3);
  CHECK_THROWS_AS(a.SaveState(), std::logic_error);
  CHECK_THROWS_AS(a.LoadState(bytes), std::logic_error);
  a.Recv();
  CHECK_NOTHROW(a.LoadState(bytes));
}
