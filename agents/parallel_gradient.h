#pragma once
/// Data-parallel gradients for one minibatch on the CPU. A policy of rl-starter-files' size is so
/// small that a minibatch's forward and backward passes cost what dispatching their few hundred
/// operators costs, not arithmetic, so a second intra-op thread gains almost nothing. Splitting
/// the minibatch's chunks over threads, each running its own replica of the model, runs those
/// dispatches side by side instead.
///
/// Replicas share the model's parameter storage and own their gradients. Each part's loss divides
/// by the whole minibatch's decision-row count, so the parts' gradients add up to the whole's;
/// they are added in part order after every thread is done, so the result does not depend on
/// timing: a run is reproducible for a given thread count (summation order, and so the last bits,
/// differ between thread counts). A training pass with dropout draws its masks from a seed per
/// part (models/dropout_noise.h's DropoutSeedScope), drawn from torch's generator in part order
/// before the threads start, so it splits too and stays reproducible for a given thread count;
/// a RIM without input attention, which draws its active units from torch's generator, runs on
/// one thread, since concurrent draws would come in a timing-dependent order.

#include <torch/torch.h>

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "agents/actor_critic.h"
#include "agents/losses.h"
#include "agents/rollout.h"
#include "agents/worker_thread.h"

namespace rimlab::agents {

class ParallelGradient {
 public:
  /// `threads` >= 1 (the calling thread is one of them).
  ParallelGradient(ActorCritic model, int threads);
  ~ParallelGradient();
  ParallelGradient(const ParallelGradient&) = delete;
  ParallelGradient& operator=(const ParallelGradient&) = delete;

  /// Threads actually used: 1 when the model's training pass draws units at random.
  int threads() const { return static_cast<int>(replicas_.size()) + 1; }

  /// Zeroes the model's gradients, then leaves in them the gradient of the loss on `batch`
  /// (advantages normalised over the whole batch when options.norm_adv). The returned loss
  /// tensor is undefined when the batch was split; its metrics are the whole batch's.
  MinibatchLoss Compute(const ChunkBatch& batch, const LossOptions& options);

 private:
  ActorCritic model_;
  bool seed_dropout_ = false;  // each part's dropout masks from its own seed (DropoutSeedScope)
  std::vector<ActorCritic> replicas_;
  std::vector<std::unique_ptr<WorkerThread>> workers_;
};

/// Chunks [begin, end) of a batch (dim 1 of the per-row tensors, dim 0 of the states).
ChunkBatch SliceChunks(const ChunkBatch& batch, int64_t begin, int64_t end);

}  // namespace rimlab::agents
