#pragma once
// Lock-free pieces of the actor pool (runners/pool/actor_pool.cpp): polling with a time limit, the
// task queue of async mode and the range claim word of sync mode. Internal: not part of the API.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>

namespace rimlab::pool_detail {

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

/// Polls `ready` for up to `spin`, then returns whether it became true.
template <typename Pred>
bool SpinFor(std::chrono::microseconds spin, Pred ready) {
  if (ready()) return true;
  if (spin.count() <= 0) return false;
  const auto deadline = std::chrono::steady_clock::now() + spin;
  for (unsigned i = 1;; ++i) {
    CpuRelax();
    if (ready()) return true;
    if ((i & 63u) == 0 && std::chrono::steady_clock::now() >= deadline) return false;
  }
}

/// A bounded multi-consumer queue of int32 tasks with a single producer (the calling thread).
/// Positions are monotonic 64-bit counters; a consumer reads the cell, then claims it with a CAS
/// on head, so the producer (which never runs more than `capacity` ahead of head) cannot overwrite
/// a cell that a successful consumer is reading. Cells are atomics so that a losing consumer's
/// stale read is not a data race.
class TaskQueue {
 public:
  explicit TaskQueue(size_t min_capacity) {
    size_t cap = 1;
    while (cap < min_capacity) cap <<= 1;
    mask_ = cap - 1;
    cells_.reset(new std::atomic<int32_t>[cap]);
    for (size_t i = 0; i < cap; ++i) cells_[i].store(0, std::memory_order_relaxed);
  }

  /// Producer only. Publishes `n` tasks at once; seq_cst so that it orders against the sleeper
  /// count that the producer reads next (see ActorPool::Impl::Wake).
  template <typename Fn>
  void PushMany(int n, Fn task_at) {
    const uint64_t t = tail_.load(std::memory_order_relaxed);
    // The pool never has more tasks outstanding than the capacity; wait out a consumer that has
    // claimed but not yet left a cell, should one ever be that far behind.
    while (t + static_cast<uint64_t>(n) - head_.load(std::memory_order_acquire) > mask_ + 1) {
      std::this_thread::yield();
    }
    for (int i = 0; i < n; ++i) {
      cells_[(t + static_cast<uint64_t>(i)) & mask_].store(task_at(i), std::memory_order_relaxed);
    }
    tail_.store(t + static_cast<uint64_t>(n), std::memory_order_seq_cst);
  }

  /// Claims up to `max` tasks at once (fewer contended claims when the queue is long).
  int TryPopMany(int32_t* tasks, int max) {
    uint64_t h = head_.load(std::memory_order_acquire);
    for (;;) {
      // h <= head <= tail. If h is stale, the cells read below may be overwritten ones, but
      // then the CAS fails and we read again.
      const uint64_t available = tail_.load(std::memory_order_acquire) - h;
      if (available == 0) return 0;
      const int k = static_cast<int>(std::min<uint64_t>(available, static_cast<uint64_t>(max)));
      for (int i = 0; i < k; ++i) {
        tasks[i] = cells_[(h + static_cast<uint64_t>(i)) & mask_].load(std::memory_order_relaxed);
      }
      if (head_.compare_exchange_weak(h, h + static_cast<uint64_t>(k), std::memory_order_acq_rel,
                                      std::memory_order_acquire)) {
        return k;
      }
    }
  }

  bool Empty() const {
    return head_.load(std::memory_order_seq_cst) >= tail_.load(std::memory_order_seq_cst);
  }

 private:
  std::unique_ptr<std::atomic<int32_t>[]> cells_;
  uint64_t mask_ = 0;
  alignas(64) std::atomic<uint64_t> head_{0};
  alignas(64) std::atomic<uint64_t> tail_{0};
};

/// The claim state of one thread's range of envs in sync mode, in one word: the round (24 bits,
/// wrapping), then the unclaimed envs of that round as [front, back) (20 bits each). The owner
/// claims grains from the front; other threads steal single envs from the back, so that an env
/// rarely changes thread (its state would then miss in cache). Every counter holds the current
/// round R or R - 1 (a round ends only once every range is exhausted), so a claimer in round r
/// reads tag r as "current", tag r - 1 as "all unclaimed" (the range's bounds are then those the
/// caller published with the round) and anything else as "I am late". Only claimers write it.
struct alignas(64) RangeCounter {
  static constexpr int kIndexBits = 20;
  static constexpr uint64_t kIndexMask = (uint64_t{1} << kIndexBits) - 1;
  static constexpr uint32_t kTagMask = (uint32_t{1} << 24) - 1;
  static uint64_t Pack(uint32_t tag, uint64_t front, uint64_t back) {
    return (static_cast<uint64_t>(tag & kTagMask) << (2 * kIndexBits)) | (front << kIndexBits) |
           back;
  }
  std::atomic<uint64_t> value{0};
};

}  // namespace rimlab::pool_detail
