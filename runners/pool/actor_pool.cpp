// The actor pool. Design notes (and the reasons behind them) are in docs/pool.md.
//
// Sync mode: thread t owns a fixed range of envs (so an env's state stays in one core's cache)
// and claims its envs in small grains from the front of its range's claim word; a thread that
// runs out steals single envs from the back of the others'. Results go to the slots of their env
// ids.
// Async mode: one task queue of env ids feeds every thread; a result goes to the next free slot of
// a ring of ceil(N / batch) + 1 blocks (claimed with one atomic add), so that a block returned by
// Recv is never written to before the next Recv.
// Completion is counted with monotonic counters (async) or round-tagged reports (sync), so
// nothing is reset between rounds.
#include "runners/pool/actor_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/state_io.h"
#include "runners/pool/pool_primitives.h"

namespace rimlab {

void PoolOptions::Validate() const {
  auto fail = [](const std::string& message) {
    throw std::invalid_argument("actor pool: " + message);
  };
  if (num_envs < 1) fail("num_envs must be at least 1, got " + std::to_string(num_envs));
  if (num_threads < 1) {
    fail("num_threads must be at least 1 (the calling thread counts as one), got " +
         std::to_string(num_threads));
  }
  if (num_threads > num_envs) {
    fail("num_threads (" + std::to_string(num_threads) + ") exceeds num_envs (" +
         std::to_string(num_envs) + "): the extra threads would have no env to step");
  }
  if (num_envs >= (1 << 20)) {
    fail("num_envs must stay below 1048576, got " + std::to_string(num_envs));
  }
  if (batch_size < 0 || batch_size > num_envs) {
    fail("batch_size must be 0 (sync) or between 1 and num_envs (" + std::to_string(num_envs) +
         "), got " + std::to_string(batch_size));
  }
  if (spin_microseconds < 0) {
    fail("spin_microseconds must be >= 0, got " + std::to_string(spin_microseconds));
  }
}

TimeStep BatchView::At(int i) const {
  TimeStep ts;
  ts.type = step_type[i];
  ts.reward = reward[i];
  ts.discount = discount[i];
  ts.success = success[i] != 0;
  return ts;
}

namespace {

using pool_detail::RangeCounter;
using pool_detail::SpinFor;
using pool_detail::TaskQueue;

/// A fixed array of bytes aligned to a cache line, for one observation field of one block.
struct AlignedBytes {
  static constexpr std::align_val_t kAlign{64};
  explicit AlignedBytes(size_t n)
      : data(static_cast<unsigned char*>(::operator new(std::max<size_t>(n, 1), kAlign))) {
    std::fill(data, data + n, static_cast<unsigned char>(0));
  }
  ~AlignedBytes() { ::operator delete(data, kAlign); }
  AlignedBytes(const AlignedBytes&) = delete;
  AlignedBytes& operator=(const AlignedBytes&) = delete;
  unsigned char* data;
};

/// Output storage for `size` results, and the view of it handed to the caller.
struct Block {
  Block(const ObservationSpec& spec, int size) {
    const auto n = static_cast<size_t>(size);
    for (const auto& f : spec.fields) {
      field_bytes.push_back(f.NumBytes());
      fields.emplace_back(new AlignedBytes(f.NumBytes() * n));
      obs.push_back(fields.back()->data);
    }
    env_id.assign(n, -1);
    step_type.assign(n, StepType::kFirst);
    reward.assign(n, 0.0f);
    discount.assign(n, 1.0f);
    success.assign(n, 0);
    episode_return.assign(n, 0.0f);
    episode_length.assign(n, 0);
    view.size = size;
    view.num_fields = static_cast<int>(obs.size());
    view.obs = obs.data();
    view.env_id = env_id.data();
    view.step_type = step_type.data();
    view.reward = reward.data();
    view.discount = discount.data();
    view.success = success.data();
    view.episode_return = episode_return.data();
    view.episode_length = episode_length.data();
  }

  std::vector<size_t> field_bytes;
  std::vector<std::unique_ptr<AlignedBytes>> fields;
  std::vector<const void*> obs;
  std::vector<int32_t> env_id;
  std::vector<StepType> step_type;
  std::vector<float> reward;
  std::vector<float> discount;
  std::vector<uint8_t> success;
  std::vector<float> episode_return;
  std::vector<int32_t> episode_length;
  BatchView view;
  /// Results written into this block, over all its rounds (async mode).
  alignas(64) std::atomic<uint64_t> done{0};
};

/// Per-env state, touched by the thread stepping the env (and by the caller only in AsyncReset);
/// the actions live apart, in one array the caller writes, so that Send does not pull every
/// env's state into the caller's cache.
struct alignas(64) EnvState {
  std::unique_ptr<Environment> env;
  bool reset_next = false;  ///< the pending task is a reset (AsyncReset)
  bool needs_reset = true;  ///< the episode is over (or never started): auto-reset
  double episode_return = 0.0;
  int32_t episode_length = 0;
  std::vector<void*> obs_ptrs;  ///< scratch ObsRef into the slot being written
};

bool SameSpec(const EnvSpec& a, const EnvSpec& b) {
  if (a.observation.fields.size() != b.observation.fields.size()) return false;
  for (size_t i = 0; i < a.observation.fields.size(); ++i) {
    const auto& x = a.observation.fields[i];
    const auto& y = b.observation.fields[i];
    if (x.name != y.name || x.shape != y.shape || x.dtype != y.dtype) return false;
  }
  return a.action.kind == b.action.kind && a.action.num_actions == b.action.num_actions &&
         a.action.dim == b.action.dim;
}

std::string ErrorMessage(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception";
  }
}

}  // namespace

struct ActorPool::Impl {
  PoolOptions opt;
  bool is_sync = true;
  int batch = 0;
  int num_blocks = 1;
  // Sync mode: each round, thread t owns a range of envs [begin, end), published with the round
  // and then held in its claim word, and claims them `grain` at a time. The caller sizes the ranges
  // before each round from range_share, each thread's smoothed count of envs stepped: the two vCPUs
  // of a virtual machine run at different speeds from one moment to the next, and with fixed halves
  // the faster thread stole envs from the slower one every round, envs whose state then had to
  // cross between the cores' caches.
  //
  // Every cache line that crosses between cores costs 130-220 ns on this VM (a ping-pong round
  // trip measures 260-450 ns), against 4 us of env work per thread in a round of 64 envs, so a
  // round moves as few lines as it can: the round number and the range bounds share one line up
  // to 13 threads (the caller writes it, each worker reads it once); each claim word is written
  // only by the threads that claim from it, so an owner's claims hit its own cache; and a worker
  // reports the envs it stepped in one store to its own line, which the caller polls.
  int grain = 1;
  std::vector<double> range_share;  // caller only
  static constexpr int kBoundsPerLine = 14;
  /// The round being stepped (first line only; 0 before the first round) and the first env of
  /// each thread's range in it: bound k is thread k's (k <= T; bound T is num_envs). Up to 13
  /// threads, the caller publishes a round with one line.
  struct alignas(64) RoundLine {
    std::atomic<uint64_t> round{0};
    std::atomic<uint32_t> bound[kBoundsPerLine];
  };
  std::unique_ptr<RoundLine[]> round_lines;
  /// A worker's report: (round << kCountBits) | envs stepped so far in that round. The count fits
  /// in kCountBits since num_envs < 2^20; the round keeps its low 44 bits.
  static constexpr int kCountBits = 20;
  struct alignas(64) DoneCount {
    std::atomic<uint64_t> value{0};
  };
  std::unique_ptr<DoneCount[]> done_by;  // per worker thread; [0] unused
  // Async mode: envs a thread claims from the queue at once.
  static constexpr int kMaxAsyncGrain = 16;
  static constexpr uint64_t kStage = 64;  // sync mode: 1-byte results staged per run
  int async_grain = 1;
  std::unique_ptr<RangeCounter[]> ranges;
  std::chrono::microseconds spin{0};
  EnvSpec spec;
  std::vector<EnvState> envs;
  // The pending action of each env, written by the caller in Send (continuous values copied into
  // action_values, dim floats per env); the queue or the round counter orders it before use.
  std::vector<int32_t> action_index;
  std::vector<float> action_values;
  std::vector<std::unique_ptr<Block>> blocks;
  TaskQueue queue;

  // Caller-side bookkeeping (only the calling thread touches these).
  std::vector<uint8_t> in_flight;
  int num_in_flight = 0;
  uint64_t recv_count = 0;   // async: batches returned
  uint64_t round_value = 0;  // sync: the caller's copy of the round number
  bool has_last = false;     // a batch has been returned (or loaded): Last() is valid
  std::string broken;        // non-empty once an env threw

  // Work hand-off: workers sleep on work_cv when the queue stays empty.
  std::atomic<bool> stop{false};
  std::atomic<int> sleeping_workers{0};
  std::mutex work_mu;
  std::condition_variable work_cv;
  // Completion: the caller sleeps on done_cv when its results stay incomplete.
  alignas(64) std::atomic<uint64_t> next_slot{0};  // async slot allocator
  alignas(64) std::atomic<bool> caller_sleeping{false};
  std::mutex done_mu;
  std::condition_variable done_cv;
  // The first exception thrown by an env.
  std::atomic<bool> failed{false};
  std::mutex error_mu;
  std::exception_ptr error;

  std::vector<std::thread> workers;

  Impl(const EnvMaker& make_env, const PoolOptions& options)
      : opt(options), queue(static_cast<size_t>(std::max(options.num_envs, 1))) {
    opt.Validate();
    if (!make_env) throw std::invalid_argument("actor pool: the env factory is empty");
    const int n = opt.num_envs;
    is_sync = opt.batch_size == 0 || opt.batch_size == n;
    batch = is_sync ? n : opt.batch_size;
    num_blocks = is_sync ? 1 : (n + batch - 1) / batch + 1;
    const int t = opt.num_threads;
    range_share.assign(static_cast<size_t>(t), static_cast<double>(n) / t);
    done_by.reset(new DoneCount[static_cast<size_t>(t)]);
    round_lines.reset(new RoundLine[static_cast<size_t>(t + kBoundsPerLine) / kBoundsPerLine]);
    for (int k = 0; k <= t; ++k) Bound(k).store(0, std::memory_order_relaxed);
    // About eight grains per range: few claims, yet fine enough to balance the tail by stealing.
    grain = std::max(1, n / (8 * t));
    ranges.reset(new RangeCounter[static_cast<size_t>(t)]);
    async_grain = std::clamp(batch / (2 * t), 1, kMaxAsyncGrain);
    spin = std::chrono::microseconds(opt.spin_microseconds);

    envs = std::vector<EnvState>(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
      auto env = make_env(i);
      if (!env) {
        throw std::invalid_argument("actor pool: the factory returned no env for env " +
                                    std::to_string(i));
      }
      if (i == 0) {
        spec = env->Spec();
        spec.Validate();
      } else if (!SameSpec(spec, env->Spec())) {
        throw std::invalid_argument("actor pool: env " + std::to_string(i) + " (" +
                                    env->Spec().name + ") has a different spec from env 0 (" +
                                    spec.name + ")");
      }
      env->Seed(opt.seed + static_cast<uint64_t>(i));
      EnvState& s = envs[static_cast<size_t>(i)];
      s.env = std::move(env);
      s.obs_ptrs.assign(spec.observation.fields.size(), nullptr);
    }
    for (int b = 0; b < num_blocks; ++b) {
      blocks.emplace_back(new Block(spec.observation, batch));
    }
    in_flight.assign(static_cast<size_t>(n), 0);
    action_index.assign(static_cast<size_t>(n), 0);
    if (!spec.action.discrete()) {
      action_values.assign(static_cast<size_t>(n) * static_cast<size_t>(spec.action.dim), 0.0f);
    }
    try {
      for (int w = 1; w < opt.num_threads; ++w) {
        workers.emplace_back([this, w] { WorkerLoop(w); });
      }
    } catch (...) {
      StopWorkers();  // the destructor will not run: join the threads already started
      throw;
    }
  }

  ~Impl() { StopWorkers(); }

  void StopWorkers() {
    stop.store(true, std::memory_order_seq_cst);
    { std::lock_guard<std::mutex> lock(work_mu); }
    work_cv.notify_all();
    for (auto& w : workers) w.join();
    workers.clear();
  }

  // --- Stepping one env (any thread) ---

  /// Steps (or resets) env e into slot `pos` of `block`. The 1-byte results (step type, success)
  /// go to *type and *success instead: the callers stage them and store a run of slots at once,
  /// since one cache line holds 64 slots of them and per-env stores from two threads would bounce
  /// it back and forth.
  void RunEnv(int e, Block& block, int pos, StepType* type, uint8_t* success) {
    EnvState& s = envs[static_cast<size_t>(e)];
    const auto p = static_cast<size_t>(pos);
    for (size_t f = 0; f < s.obs_ptrs.size(); ++f) {
      s.obs_ptrs[f] = block.fields[f]->data + p * block.field_bytes[f];
    }
    const ObsRef ref{s.obs_ptrs.data(), static_cast<int>(s.obs_ptrs.size())};
    if (block.env_id[p] != e) block.env_id[p] = e;  // in sync mode, written once
    *type = StepType::kFirst;
    *success = 0;
    try {
      TimeStep ts;
      if (s.reset_next || s.needs_reset) {
        ts = s.env->Reset(ref);
        if (!ts.first()) throw std::logic_error("Reset did not return a FIRST step");
        s.episode_return = 0.0;
        s.episode_length = 0;
      } else {
        Action action;
        action.index = action_index[static_cast<size_t>(e)];
        if (!action_values.empty()) {
          action.values =
              &action_values[static_cast<size_t>(e) * static_cast<size_t>(spec.action.dim)];
        }
        ts = s.env->Step(action, ref);
        if (ts.first()) throw std::logic_error("Step returned a FIRST step");
        s.episode_return += static_cast<double>(ts.reward);
        s.episode_length += 1;
      }
      s.reset_next = false;
      s.needs_reset = ts.last();
      *type = ts.type;
      *success = ts.success ? 1 : 0;
      block.reward[p] = ts.reward;
      block.discount[p] = ts.discount;
      block.episode_return[p] = static_cast<float>(s.episode_return);
      block.episode_length[p] = s.episode_length;
    } catch (...) {
      RecordError(std::current_exception());
    }
  }

  void RecordError(std::exception_ptr e) {
    std::lock_guard<std::mutex> lock(error_mu);
    if (!error) error = std::move(e);
    failed.store(true, std::memory_order_release);
  }

  std::atomic<uint64_t>& RoundNumber() { return round_lines[0].round; }
  std::atomic<uint32_t>& Bound(int k) {
    return round_lines[static_cast<size_t>(k / kBoundsPerLine)].bound[k % kBoundsPerLine];
  }

  /// Sync mode: steps the envs of `owner`'s range in round r that `self` can claim (grains from
  /// the front of its own range, single envs from the back of another's). Returns how many it
  /// stepped. The first claim of a round finds the word still tagged r - 1 and starts from the
  /// bounds in the round lines; those may already be round r + 1's if round r is over, but then
  /// every word is tagged r or later and the compare-exchange fails. Tags are 24 bits, so a
  /// thread that read r long ago could mistake a much later round's word for round r's: every
  /// claim first checks that r is still the round, which leaves that mistake to a thread stalled
  /// between this check and its compare-exchange for 2^24 - 1 rounds.
  int ClaimAndStep(uint64_t r, int self, int owner) {
    using RC = RangeCounter;
    const bool own = owner == self;
    const uint32_t tag_now = static_cast<uint32_t>(r) & RC::kTagMask;
    const uint32_t tag_before = static_cast<uint32_t>(r - 1) & RC::kTagMask;
    std::atomic<uint64_t>& counter = ranges[owner].value;
    uint64_t v = counter.load(std::memory_order_acquire);
    int stepped = 0;
    for (;;) {
      const auto tag = static_cast<uint32_t>(v >> (2 * RC::kIndexBits));
      uint64_t front = 0;
      uint64_t back = 0;
      if (tag == tag_now) {
        front = (v >> RC::kIndexBits) & RC::kIndexMask;
        back = v & RC::kIndexMask;
      } else if (tag == tag_before) {
        front = Bound(owner).load(std::memory_order_relaxed);
        back = Bound(owner + 1).load(std::memory_order_relaxed);
      } else {
        break;  // a later round has started: we are late and have nothing left to do
      }
      if (front >= back) break;
      if (RoundNumber().load(std::memory_order_acquire) != r) break;  // late: see above
      // [i, j): a grain from the front for the owner, one env from the back for a thief.
      const uint64_t i = own ? front : back - 1;
      const uint64_t j = own ? std::min(back, front + static_cast<uint64_t>(grain)) : back;
      const uint64_t claimed = own ? RC::Pack(tag_now, j, back) : RC::Pack(tag_now, front, i);
      if (!counter.compare_exchange_weak(v, claimed, std::memory_order_acq_rel,
                                         std::memory_order_acquire)) {
        continue;
      }
      Block& block = *blocks[0];
      StepType types[kStage];
      uint8_t successes[kStage];
      for (uint64_t x0 = i; x0 < j; x0 += kStage) {
        const uint64_t x1 = std::min(j, x0 + kStage);
        for (uint64_t x = x0; x < x1; ++x) {
          const int e = static_cast<int>(x);
          RunEnv(e, block, e, &types[x - x0], &successes[x - x0]);
        }
        const auto at = static_cast<size_t>(x0);
        std::copy(types, types + (x1 - x0), block.step_type.begin() + at);
        std::copy(successes, successes + (x1 - x0), block.success.begin() + at);
      }
      stepped += static_cast<int>(j - i);
      v = claimed;
    }
    return stepped;
  }

  /// A worker's part of sync round r: its own range, a report, then whatever it can steal (and
  /// a second report if it stole any). Reporting before stealing takes the thief's look at the
  /// other ranges off the round's critical path when there is nothing to steal.
  void WorkerRound(uint64_t r, int self) {
    const int own = ClaimAndStep(r, self, self);
    if (own > 0) ReportDone(self, r, own);
    int stepped = own;
    for (int k = 1; k < opt.num_threads; ++k) {
      stepped += ClaimAndStep(r, self, (self + k) % opt.num_threads);
    }
    if (stepped > own) ReportDone(self, r, stepped);
  }

  void ReportDone(int self, uint64_t r, int stepped) {
    // seq_cst: the Dekker pairing of NotifyCaller with the caller's sleep (HelpAndWait).
    done_by[self].value.store((r << kCountBits) | static_cast<uint64_t>(stepped),
                              std::memory_order_seq_cst);
    NotifyCaller();
  }

  /// What worker k reported for round r (0 if nothing yet).
  int DoneBy(int k, uint64_t r) const {
    constexpr uint64_t kCountMask = (uint64_t{1} << kCountBits) - 1;
    const uint64_t v = done_by[k].value.load(std::memory_order_seq_cst);  // see HelpAndWait
    const bool this_round = (v >> kCountBits) == ((r << kCountBits) >> kCountBits);
    return this_round ? static_cast<int>(v & kCountMask) : 0;
  }

  /// Async mode: pops up to async_grain envs and steps each into the next free slot. Returns
  /// false when the queue was empty.
  bool RunAsyncTasks() {
    int32_t tasks[kMaxAsyncGrain];
    const int k = queue.TryPopMany(tasks, async_grain);
    if (k == 0) return false;
    // acq_rel: a slot of a reused block is claimed only after some task sent after the caller
    // released that block; the chain of claims carries that ordering to every claimer.
    const uint64_t first = next_slot.fetch_add(static_cast<uint64_t>(k), std::memory_order_acq_rel);
    const auto b_size = static_cast<uint64_t>(batch);
    StepType types[kMaxAsyncGrain];
    uint8_t successes[kMaxAsyncGrain];
    // The slots [first, first + k) are consecutive, split over at most two blocks; each run in
    // one block gets its 1-byte results stored and its completion counted at once.
    int run_start = 0;
    for (int i = 0; i < k; ++i) {
      const uint64_t slot = first + static_cast<uint64_t>(i);
      Block& block = *blocks[(slot / b_size) % static_cast<uint64_t>(num_blocks)];
      RunEnv(tasks[i], block, static_cast<int>(slot % b_size), &types[i], &successes[i]);
      if (i + 1 == k || (slot + 1) % b_size == 0) {
        const auto at = static_cast<size_t>((first + static_cast<uint64_t>(run_start)) % b_size);
        std::copy(types + run_start, types + i + 1, block.step_type.begin() + at);
        std::copy(successes + run_start, successes + i + 1, block.success.begin() + at);
        block.done.fetch_add(static_cast<uint64_t>(i + 1 - run_start), std::memory_order_seq_cst);
        run_start = i + 1;
      }
    }
    NotifyCaller();
    return true;
  }

  /// Dekker pairing with HelpAndWait: after a seq_cst count update, either the caller sees our
  /// count or we see it asleep.
  void NotifyCaller() {
    if (caller_sleeping.load(std::memory_order_seq_cst)) {
      { std::lock_guard<std::mutex> lock(done_mu); }
      done_cv.notify_one();
    }
  }

  // --- Workers ---

  void WorkerLoop(int self) {
    uint64_t seen = 0;
    for (;;) {
      if (stop.load(std::memory_order_acquire)) return;
      if (is_sync) {
        const uint64_t r = RoundNumber().load(std::memory_order_acquire);
        if (r != seen) {
          seen = r;
          WorkerRound(r, self);
          continue;
        }
      } else if (RunAsyncTasks()) {
        continue;
      }
      auto has_work = [this, &seen] {
        return stop.load(std::memory_order_relaxed) ||
               (is_sync ? RoundNumber().load(std::memory_order_seq_cst) != seen : !queue.Empty());
      };
      if (!SpinFor(spin, has_work)) {
        sleeping_workers.fetch_add(1, std::memory_order_seq_cst);
        {
          std::unique_lock<std::mutex> lock(work_mu);
          work_cv.wait(lock, has_work);
        }
        sleeping_workers.fetch_sub(1, std::memory_order_relaxed);
      }
    }
  }

  /// After publishing work: wakes sleeping workers (the seq_cst round or queue tail store and
  /// this seq_cst load pair with the worker's sleeper increment and work check).
  void Wake() {
    if (sleeping_workers.load(std::memory_order_seq_cst) > 0) {
      { std::lock_guard<std::mutex> lock(work_mu); }
      work_cv.notify_all();
    }
  }

  /// The caller steps queued envs (async mode) while there are any, then waits for `ready`.
  template <typename Pred>
  void HelpAndWait(Pred ready) {
    while (!ready()) {
      if (!is_sync && RunAsyncTasks()) continue;
      // Queue empty: the remaining results are being produced by workers (only the caller adds
      // tasks, so none will appear).
      if (SpinFor(spin, ready)) return;
      // Dekker pairing with NotifyCaller: `ready` must read its counts with seq_cst loads, so
      // that they are ordered after this store (acquire loads would not be).
      caller_sleeping.store(true, std::memory_order_seq_cst);
      {
        std::unique_lock<std::mutex> lock(done_mu);
        done_cv.wait(lock, ready);
      }
      caller_sleeping.store(false, std::memory_order_relaxed);
    }
  }

  // --- Caller side ---

  void CheckUsable() const {
    if (!broken.empty()) {
      throw std::logic_error("actor pool: unusable since an environment threw: " + broken);
    }
  }

  void RethrowIfFailed() {
    if (!failed.load(std::memory_order_acquire)) return;
    std::exception_ptr e;
    {
      std::lock_guard<std::mutex> lock(error_mu);
      e = error;
    }
    broken = ErrorMessage(e);
    std::rethrow_exception(e);
  }

  void AsyncReset() {
    CheckUsable();
    if (num_in_flight != 0) {
      throw std::logic_error("actor pool: AsyncReset while " + std::to_string(num_in_flight) +
                             " envs are in flight; Recv their results first");
    }
    for (int e = 0; e < opt.num_envs; ++e) {
      envs[static_cast<size_t>(e)].reset_next = true;
      in_flight[static_cast<size_t>(e)] = 1;
    }
    num_in_flight = opt.num_envs;
    if (!is_sync) {
      queue.PushMany(opt.num_envs, [](int i) { return static_cast<int32_t>(i); });
      Wake();
    }
  }

  void Send(const Action* sent, const int32_t* env_ids, int n) {
    CheckUsable();
    if (n < 0 || n > opt.num_envs || (n > 0 && sent == nullptr)) {
      throw std::invalid_argument(
          "actor pool: Send needs 0 <= n <= num_envs (" + std::to_string(opt.num_envs) +
          ") actions, got n = " + std::to_string(n) + (sent ? "" : " and no actions"));
    }
    // One pass checks, marks and copies; a rejected Send unmarks what it marked, so it leaves no
    // trace (the copied actions of envs not in flight are never read before they are resent).
    const bool discrete = spec.action.discrete();
    const int32_t num_actions = spec.action.num_actions;
    const auto dim = static_cast<size_t>(spec.action.dim);
    int i = 0;
    std::string problem;
    bool misuse = false;  // logic_error (sequencing) rather than invalid_argument (values)
    for (; i < n; ++i) {
      const int32_t e = env_ids ? env_ids[i] : i;
      if (e < 0 || e >= opt.num_envs) {
        problem = "env id " + std::to_string(e) + " out of range [0, " +
                  std::to_string(opt.num_envs) + ")";
        break;
      }
      if (in_flight[static_cast<size_t>(e)]) {
        problem = "env " + std::to_string(e) + " is already in flight (sent twice before its Recv)";
        misuse = true;
        break;
      }
      const Action& a = sent[i];
      if (discrete) {
        if (a.index < 0 || a.index >= num_actions) {
          problem = "action " + std::to_string(a.index) + " for env " + std::to_string(e) +
                    " out of range [0, " + std::to_string(num_actions) + ")";
          break;
        }
        action_index[static_cast<size_t>(e)] = a.index;
      } else {
        if (a.values == nullptr) {
          problem = "continuous action for env " + std::to_string(e) + " has no values";
          break;
        }
        std::copy(a.values, a.values + dim, action_values.begin() + static_cast<size_t>(e) * dim);
      }
      in_flight[static_cast<size_t>(e)] = 1;
    }
    if (i < n) {
      for (int j = 0; j < i; ++j) in_flight[static_cast<size_t>(env_ids ? env_ids[j] : j)] = 0;
      if (misuse) throw std::logic_error("actor pool: " + problem);
      throw std::invalid_argument("actor pool: " + problem);
    }
    num_in_flight += n;
    if (!is_sync && n > 0) {
      queue.PushMany(n,
                     [env_ids](int k) { return env_ids ? env_ids[k] : static_cast<int32_t>(k); });
      Wake();
    }
  }

  const BatchView& Recv() {
    CheckUsable();
    if (num_in_flight < batch) {
      throw std::logic_error("actor pool: Recv needs " + std::to_string(batch) +
                             " envs in flight (the batch size), but only " +
                             std::to_string(num_in_flight) + " were sent");
    }
    const BatchView& view = is_sync ? RecvSync() : RecvAsync();
    if (is_sync) {
      std::fill(in_flight.begin(), in_flight.end(), uint8_t{0});  // every env was returned
    } else {
      for (int i = 0; i < view.size; ++i) in_flight[static_cast<size_t>(view.env_id[i])] = 0;
    }
    num_in_flight -= view.size;
    has_last = true;
    RethrowIfFailed();
    return view;
  }

  const BatchView& RecvSync() {
    Block& block = *blocks[0];
    if (workers.empty()) {
      for (int e = 0; e < opt.num_envs; ++e) {
        const auto p = static_cast<size_t>(e);
        RunEnv(e, block, e, &block.step_type[p], &block.success[p]);
      }
      return block.view;
    }
    // Rounds start at 1. The bounds go out with the round number; each claim word is set up by
    // the first claim of the round (ClaimAndStep), and a thread late for an earlier round stops.
    const uint64_t r = ++round_value;
    SetRanges();
    RoundNumber().store(r, std::memory_order_seq_cst);
    Wake();
    int mine = 0;
    for (int k = 0; k < opt.num_threads; ++k) mine += ClaimAndStep(r, 0, k);
    HelpAndWait([this, r, mine] {
      int done = mine;
      for (int k = 1; k < opt.num_threads; ++k) done += DoneBy(k, r);
      return done >= opt.num_envs;
    });
    if (opt.adaptive_ranges) UpdateShares(r, mine);
    return block.view;
  }

  /// Cuts [0, num_envs) into one range per thread, in proportion to range_share, each at least one
  /// env long, into the bounds of the round lines; the round number's store publishes them.
  void SetRanges() {
    const int t = opt.num_threads;
    const int n = opt.num_envs;
    double cumulative = 0.0;
    int begin = 0;
    for (int k = 0; k < t; ++k) {
      Bound(k).store(static_cast<uint32_t>(begin), std::memory_order_relaxed);
      cumulative += range_share[static_cast<size_t>(k)];
      int end = k + 1 == t ? n : static_cast<int>(cumulative + 0.5);
      end = std::clamp(end, begin + 1, n - (t - 1 - k));
      begin = end;
    }
    Bound(t).store(static_cast<uint32_t>(n), std::memory_order_relaxed);
  }

  /// After round r: moves each thread's share an eighth of the way to what it stepped (its own
  /// envs and those it stole), so ranges follow the threads' speeds without chasing every round's
  /// jitter.
  void UpdateShares(uint64_t r, int mine) {
    constexpr double kRate = 0.125;
    for (int k = 0; k < opt.num_threads; ++k) {
      const double stepped = k == 0 ? mine : DoneBy(k, r);
      double& share = range_share[static_cast<size_t>(k)];
      share += kRate * (stepped - share);
    }
  }

  const BatchView& RecvAsync() {
    Block& block = *blocks[static_cast<size_t>(recv_count % static_cast<uint64_t>(num_blocks))];
    const uint64_t target =
        (recv_count / static_cast<uint64_t>(num_blocks) + 1) * static_cast<uint64_t>(batch);
    HelpAndWait([&block, target] { return block.done.load(std::memory_order_seq_cst) >= target; });
    ++recv_count;
    return block.view;
  }

  // --- Last results and snapshots ---

  /// The block of the last returned batch: block 0 in sync mode; in async mode the one before the
  /// next Recv's, which no env writes to before that Recv (see the ring's sizing above). For a
  /// pool that has returned nothing yet, that is the ring's last block, which the first round of
  /// slots does not reach either, so a loaded batch can live there.
  Block& LastBlock() const {
    const auto nb = static_cast<uint64_t>(num_blocks);
    return *blocks[static_cast<size_t>(is_sync ? 0 : (recv_count + nb - 1) % nb)];
  }

  const BatchView& Last() const {
    CheckUsable();
    if (!has_last) {
      throw std::logic_error("actor pool: Last() before any results (call Reset, Step or Recv)");
    }
    return LastBlock().view;
  }

  void RequireIdle(const char* what) const {
    CheckUsable();
    if (num_in_flight != 0) {
      throw std::logic_error(std::string("actor pool: ") + what + " while " +
                             std::to_string(num_in_flight) +
                             " envs are in flight; Recv their results first");
    }
  }

  // Layout: header; num_envs, batch, the spec's name, observation fields and action; per env the
  // auto-reset flag, the episode's return and length and the env's own snapshot; then whether
  // there are last results and, if so, the last block's arrays.
  static constexpr uint32_t kPoolStateVersion = 1;

  void WriteSpec(StateWriter* w) const {
    w->Pod<int32_t>(opt.num_envs);
    w->Pod<int32_t>(batch);
    w->String(spec.name);
    w->Pod<uint64_t>(spec.observation.fields.size());
    for (const auto& f : spec.observation.fields) {
      w->String(f.name);
      w->Pod<uint64_t>(f.NumBytes());
    }
    w->Pod<int32_t>(static_cast<int32_t>(spec.action.kind));
    w->Pod<int32_t>(spec.action.num_actions);
    w->Pod<int32_t>(spec.action.dim);
  }

  std::string SaveState() const {
    RequireIdle("SaveState");
    StateWriter w("actor pool", kPoolStateVersion);
    WriteSpec(&w);
    for (const EnvState& s : envs) {
      w.Bool(s.needs_reset);
      w.Pod<double>(s.episode_return);
      w.Pod<int32_t>(s.episode_length);
      w.String(s.env->SaveState());
    }
    w.Bool(has_last);
    if (has_last) {
      const Block& b = LastBlock();
      for (size_t f = 0; f < b.fields.size(); ++f) {
        const size_t n = b.field_bytes[f] * static_cast<size_t>(batch);
        w.Pod<uint64_t>(n);
        w.Raw(b.fields[f]->data, n);
      }
      w.Vector(b.env_id);
      w.Vector(b.step_type);
      w.Vector(b.reward);
      w.Vector(b.discount);
      w.Vector(b.success);
      w.Vector(b.episode_return);
      w.Vector(b.episode_length);
    }
    return w.Take();
  }

  /// Reads an array of the last block, which must hold `batch` entries.
  template <typename T>
  std::vector<T> ReadBatchArray(StateReader* r, const char* what) const {
    std::vector<T> v = r->Vector<T>();
    if (v.size() != static_cast<size_t>(batch)) {
      r->Fail(std::string(what) + " has " + std::to_string(v.size()) + " entries, not " +
              std::to_string(batch));
    }
    return v;
  }

  void LoadState(const std::string& bytes) {
    RequireIdle("LoadState");
    StateReader r(bytes, "actor pool", kPoolStateVersion);
    // A different pool is a caller's mistake rather than corruption: say what differs.
    const auto saved_envs = r.Pod<int32_t>();
    const auto saved_batch = r.Pod<int32_t>();
    if (saved_envs != opt.num_envs || saved_batch != batch) {
      throw std::invalid_argument("actor pool: the snapshot is of a pool with " +
                                  std::to_string(saved_envs) + " envs and batch size " +
                                  std::to_string(saved_batch) + ", this pool has " +
                                  std::to_string(opt.num_envs) + " and " + std::to_string(batch));
    }
    const std::string saved_name = r.String();
    if (saved_name != spec.name) {
      throw std::invalid_argument("actor pool: the snapshot is of a pool of '" + saved_name +
                                  "' envs, this pool's are '" + spec.name + "'");
    }
    bool same = r.Pod<uint64_t>() == spec.observation.fields.size();
    for (size_t f = 0; same && f < spec.observation.fields.size(); ++f) {
      const auto& field = spec.observation.fields[f];
      same = r.String() == field.name && r.Pod<uint64_t>() == field.NumBytes();
    }
    same = same && r.Pod<int32_t>() == static_cast<int32_t>(spec.action.kind) &&
           r.Pod<int32_t>() == spec.action.num_actions && r.Pod<int32_t>() == spec.action.dim;
    if (!same) {
      throw std::invalid_argument("actor pool: the snapshot's '" + spec.name +
                                  "' envs have another observation or action spec than this "
                                  "pool's (different options?)");
    }

    const auto n = static_cast<size_t>(opt.num_envs);
    std::vector<uint8_t> needs_reset(n);
    std::vector<double> episode_return(n);
    std::vector<int32_t> episode_length(n);
    std::vector<std::string> env_bytes(n);
    for (size_t e = 0; e < n; ++e) {
      needs_reset[e] = r.Bool() ? 1 : 0;
      episode_return[e] = r.Pod<double>();
      episode_length[e] = r.Pod<int32_t>();
      if (episode_length[e] < 0) r.Fail("a negative episode length");
      env_bytes[e] = r.String();
    }
    const bool saved_has_last = r.Bool();
    std::vector<std::vector<unsigned char>> obs;
    std::vector<int32_t> env_id;
    std::vector<StepType> step_type;
    std::vector<float> reward, discount, last_return;
    std::vector<uint8_t> success;
    std::vector<int32_t> last_length;
    if (saved_has_last) {
      const Block& b = LastBlock();
      for (size_t f = 0; f < b.fields.size(); ++f) {
        const size_t expected = b.field_bytes[f] * static_cast<size_t>(batch);
        if (r.Pod<uint64_t>() != expected) r.Fail("observation field size");
        obs.emplace_back(expected);
        r.Raw(obs.back().data(), expected);
      }
      env_id = ReadBatchArray<int32_t>(&r, "env_id");
      step_type = ReadBatchArray<StepType>(&r, "step_type");
      reward = ReadBatchArray<float>(&r, "reward");
      discount = ReadBatchArray<float>(&r, "discount");
      success = ReadBatchArray<uint8_t>(&r, "success");
      last_return = ReadBatchArray<float>(&r, "episode_return");
      last_length = ReadBatchArray<int32_t>(&r, "episode_length");
      for (size_t i = 0; i < env_id.size(); ++i) {
        if (env_id[i] < 0 || env_id[i] >= opt.num_envs ||
            static_cast<int>(step_type[i]) > static_cast<int>(StepType::kLast)) {
          r.Fail("slot " + std::to_string(i) + " has env id " + std::to_string(env_id[i]) +
                 " and step type " + std::to_string(static_cast<int>(step_type[i])));
        }
      }
    }
    r.Finish();

    // The envs load one by one; should one refuse its bytes, put back those already loaded so
    // that a failed LoadState leaves the whole pool as it was.
    std::vector<std::string> backup(n);
    for (size_t e = 0; e < n; ++e) backup[e] = envs[e].env->SaveState();
    size_t loaded = 0;
    try {
      for (; loaded < n; ++loaded) envs[loaded].env->LoadState(env_bytes[loaded]);
    } catch (...) {
      for (size_t e = 0; e < loaded; ++e) envs[e].env->LoadState(backup[e]);
      throw;
    }

    for (size_t e = 0; e < n; ++e) {
      EnvState& s = envs[e];
      s.reset_next = false;
      s.needs_reset = needs_reset[e] != 0;
      s.episode_return = episode_return[e];
      s.episode_length = episode_length[e];
    }
    has_last = saved_has_last;
    if (has_last) {
      Block& b = LastBlock();
      for (size_t f = 0; f < b.fields.size(); ++f) {
        std::copy(obs[f].begin(), obs[f].end(), b.fields[f]->data);
      }
      // Copied into the existing arrays: the block's view points at them.
      std::copy(env_id.begin(), env_id.end(), b.env_id.begin());
      std::copy(step_type.begin(), step_type.end(), b.step_type.begin());
      std::copy(reward.begin(), reward.end(), b.reward.begin());
      std::copy(discount.begin(), discount.end(), b.discount.begin());
      std::copy(success.begin(), success.end(), b.success.begin());
      std::copy(last_return.begin(), last_return.end(), b.episode_return.begin());
      std::copy(last_length.begin(), last_length.end(), b.episode_length.begin());
    }
  }

  void RequireSync(const char* what) const {
    if (!is_sync) {
      throw std::logic_error(std::string("actor pool: ") + what +
                             " needs sync mode (batch_size 0 or num_envs); this pool has "
                             "batch_size " +
                             std::to_string(batch) + " of " + std::to_string(opt.num_envs) +
                             " envs: use AsyncReset/Send/Recv");
    }
  }
};

ActorPool::ActorPool(const EnvMaker& make_env, const PoolOptions& options)
    : impl_(new Impl(make_env, options)) {}

ActorPool::~ActorPool() = default;

const EnvSpec& ActorPool::spec() const {
  return impl_->spec;
}
int ActorPool::num_envs() const {
  return impl_->opt.num_envs;
}
int ActorPool::num_threads() const {
  return impl_->opt.num_threads;
}
int ActorPool::batch_size() const {
  return impl_->batch;
}
bool ActorPool::sync() const {
  return impl_->is_sync;
}

const BatchView& ActorPool::Reset() {
  impl_->RequireSync("Reset()");
  impl_->AsyncReset();
  return impl_->Recv();
}

const BatchView& ActorPool::Step(const Action* actions) {
  impl_->RequireSync("Step()");
  impl_->Send(actions, nullptr, impl_->opt.num_envs);
  return impl_->Recv();
}

void ActorPool::AsyncReset() {
  impl_->AsyncReset();
}

void ActorPool::Send(const Action* actions, const int32_t* env_ids, int n) {
  impl_->Send(actions, env_ids, n);
}

const BatchView& ActorPool::Recv() {
  return impl_->Recv();
}

const BatchView& ActorPool::Last() const {
  return impl_->Last();
}

std::string ActorPool::SaveState() const {
  return impl_->SaveState();
}

void ActorPool::LoadState(const std::string& bytes) {
  impl_->LoadState(bytes);
}

}  // namespace rimlab
