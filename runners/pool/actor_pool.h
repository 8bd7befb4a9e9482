#pragma once
/// The actor pool: N environments stepped over T threads, in the style of EnvPool. It is its own
/// layer (torch-free, it moves plain buffers) between envs/ and the learners.
///
/// - Env i is seeded `seed + i`.
/// - Sync mode (batch_size == num_envs): Reset()/Step() step every env and return the results in
///   env order; the results do not depend on num_threads.
/// - Async mode (batch_size < num_envs): Send() hands actions to some envs, Recv() returns the
///   first batch_size results to be produced, each with its env id.
/// - Auto-reset: a LAST step keeps the episode's final observation; the next step sent to that env
///   ignores its action and returns the FIRST step of a new episode. An env that was never reset
///   is treated the same way (its first step is a reset).
/// - Observations are written by the envs straight into preallocated batch buffers, one
///   contiguous buffer of shape [batch, ...field shape] per observation field, so a learner can
///   wrap each field as one tensor. No heap allocation per step in the steady state.
///
/// Thread model: the calling thread is one of the num_threads threads (it steps envs while it
/// waits), so num_threads - 1 workers are started; num_threads = 1 starts none. Idle workers spin
/// for `spin_microseconds`, then sleep on a condition variable. The pool's methods must be called
/// from one thread at a time. An exception thrown by an env (on any thread) is rethrown by the
/// call that collects its result; the pool is then unusable (later calls throw std::logic_error)
/// and may only be destroyed.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "envs/core/env.h"

namespace rimlab {

struct PoolOptions {
  int num_envs = 1;  ///< environments, >= 1
  /// Threads stepping envs, the caller included: 1 <= num_threads <= num_envs.
  int num_threads = 1;
  /// Results per Recv: 0 or num_envs means sync mode, 1 <= batch_size < num_envs async mode.
  int batch_size = 0;
  uint64_t seed = 0;  ///< env i is seeded seed + i
  /// How long an idle thread polls for work before it blocks (0: block at once). Spinning keeps
  /// the per-batch hand-off in the microseconds; blocking keeps idle workers off the cores while
  /// the learner runs.
  int spin_microseconds = 50;
  /// Sync mode: size each thread's range of envs by how many it managed to step lately (true), or
  /// keep equal ranges (false; for benchmarks). Either way results are the same, bit for bit.
  bool adaptive_ranges = true;

  /// Throws std::invalid_argument naming the offending option.
  void Validate() const;
};

/// One batch of results. Every array has `size` entries, slot i describing env `env_id[i]`. Valid
/// until the next Reset/Step/Recv (for async Send/Recv: until the next Recv).
struct BatchView {
  int size = 0;
  int num_fields = 0;
  /// One pointer per ObservationSpec field, each to a contiguous [size, ...field shape] array.
  const void* const* obs = nullptr;
  const int32_t* env_id = nullptr;
  const StepType* step_type = nullptr;
  const float* reward = nullptr;
  const float* discount = nullptr;   ///< 0 on termination, 1 otherwise (truncation included)
  const uint8_t* success = nullptr;  ///< meaningful on LAST
  /// The episode's return and length so far (0 on FIRST); on a LAST step, the finished episode's.
  const float* episode_return = nullptr;
  const int32_t* episode_length = nullptr;

  template <typename T>
  const T* Obs(int field) const {
    return static_cast<const T*>(obs[field]);
  }
  /// The scalars of slot i as a TimeStep.
  TimeStep At(int i) const;
};

/// Makes the env with the given id; called num_envs times on the constructing thread.
using EnvMaker = std::function<std::unique_ptr<Environment>(int env_id)>;

class ActorPool {
 public:
  /// Makes and seeds every env, allocates the batch buffers and starts num_threads - 1 workers.
  /// Throws std::invalid_argument for bad options, a null env or envs whose specs differ.
  ActorPool(const EnvMaker& make_env, const PoolOptions& options);
  ~ActorPool();
  ActorPool(const ActorPool&) = delete;
  ActorPool& operator=(const ActorPool&) = delete;

  const EnvSpec& spec() const;
  int num_envs() const;
  int num_threads() const;
  int batch_size() const;  ///< resolved: num_envs in sync mode
  bool sync() const;

  // --- Sync mode ---
  /// Resets every env; FIRST steps in env order.
  const BatchView& Reset();
  /// Steps every env with actions[i] for env i (num_envs actions); results in env order.
  const BatchView& Step(const Action* actions);

  // --- Async mode (EnvPool semantics; also allowed in sync mode, where Recv needs every env) ---
  /// Sends a reset to every env; none may be in flight.
  void AsyncReset();
  /// Sends actions[i] to env env_ids[i] (env_ids null: env i) for i < n. An env is in flight from
  /// its Send until the Recv that returns its result and may not be sent to meanwhile. Actions
  /// are copied, continuous values included. Throws std::invalid_argument (bad id or action) or
  /// std::logic_error (env in flight) before sending anything.
  void Send(const Action* actions, const int32_t* env_ids, int n);
  /// Waits for batch_size results (the first produced) and returns them. Throws std::logic_error
  /// when fewer than batch_size envs are in flight, since it would wait forever.
  const BatchView& Recv();

  // --- Last results and snapshots (exact resume of training runs) ---
  /// The most recent results: what the last Reset/Step/Recv returned or, after LoadState, what
  /// the saved pool last returned. Valid until the next Reset/Step/Recv. Throws
  /// std::logic_error when there are none yet.
  const BatchView& Last() const;
  /// Captures everything that decides future results: each env's SaveState, the pool's auto-reset
  /// flags and episode statistics, and the last results (Last()). Needs no env in flight (sync:
  /// between Step calls; async: every sent env received), else std::logic_error; an env that
  /// cannot snapshot throws std::logic_error too. Allocates; keep it off the stepping path.
  std::string SaveState() const;
  /// Restores a SaveState of a pool with the same num_envs, batch size and env spec; the thread
  /// count may differ. Afterwards Last() equals the saved pool's, and sync Steps continue exactly
  /// as the saved pool's would have (async results still come in the order they finish). Throws
  /// std::invalid_argument for a mismatched, corrupt or truncated snapshot, leaving the pool as it
  /// was, and std::logic_error while envs are in flight.
  void LoadState(const std::string& bytes);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rimlab
