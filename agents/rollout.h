#pragma once
/// On-policy rollout storage and advantage estimation, shared by PPO and A2C.
///
/// The actor pool follows dm_env: a LAST step carries the episode's final observation, reward and
/// discount (0 on termination, 1 on truncation), and the next step of that env is the FIRST of a
/// new episode, whatever action was sent. So a rollout row is one pool timestep per env:
///
///   row t: obs_t, first_t (an episode starts here: the core state resets before it), last_t
///          (a LAST step: not a decision, excluded from every loss), and, when it is a decision,
///          the action taken, its log-probability and V(obs_t); reward_t and discount_t are those
///          of the timestep that followed (obs_{t+1}).
///
/// GAE then bootstraps with V(obs_{t+1}) * discount_t: a truncated episode is bootstrapped from
/// the value of its final observation, a terminated one is not, and the recursion stops at the
/// episode's LAST row because that row's advantage is 0.
///
/// Recurrent minibatches follow torch-ac: the rollout is cut into chunks of `recurrence`
/// consecutive rows of one env; each chunk starts from the core state stored for its first row
/// during collection and resets the state where an episode starts inside it. Chunks, not rows,
/// are shuffled into minibatches, so sequences stay whole for backpropagation through time.

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "agents/actor_critic.h"
#include "envs/core/spec.h"
#include "models/recurrent_core.h"

namespace rimlab::agents {

/// The torch dtype that holds an observation field of `dtype` (uint8 stays uint8).
torch::ScalarType TorchDType(DType dtype);

struct RolloutBuffer {
  /// Allocates [steps, envs, ...] storage for every field of `spec`.
  RolloutBuffer(const EnvSpec& spec, int64_t steps, int64_t envs);

  int64_t steps = 0;
  int64_t envs = 0;
  ObsTensors obs;            ///< per field [T, N, ...field shape], the field's dtype
  torch::Tensor first;       ///< [T, N] float 0/1
  torch::Tensor last;        ///< [T, N] float 0/1
  torch::Tensor actions;     ///< [T, N] int64
  torch::Tensor log_probs;   ///< [T, N]
  torch::Tensor values;      ///< [T, N]
  torch::Tensor rewards;     ///< [T, N]
  torch::Tensor discounts;   ///< [T, N]
  models::State states;      ///< [T, N, ...]: the core state before row t (before its reset)
  torch::Tensor next_value;  ///< [N]: V(obs_T), the observation after the last row
  torch::Tensor advantages;  ///< [T, N], filled by ComputeAdvantages
  torch::Tensor returns;     ///< [T, N]: advantages + values

  /// Stores the state before row t; states are allocated on first use (their shapes depend on
  /// the core).
  void StoreState(int64_t t, const models::State& state);
  /// 1 - last: the rows that enter the losses.
  torch::Tensor DecisionMask() const { return 1.0 - last; }
};

/// GAE(gamma, lambda) over a rollout (see the header comment for the conventions). Inputs [T, N]
/// (float32, CPU); next_value [N]. Returns advantages [T, N]; rows with last = 1 get 0.
torch::Tensor Gae(const torch::Tensor& rewards, const torch::Tensor& discounts,
                  const torch::Tensor& values, const torch::Tensor& last,
                  const torch::Tensor& next_value, double gamma, double lambda);

/// Fills buffer->advantages and buffer->returns.
void ComputeAdvantages(RolloutBuffer* buffer, double gamma, double lambda);

/// A minibatch of whole chunks, time-major: every tensor [R, C, ...] for R = recurrence rows of
/// C chunks, and the stored core state at each chunk's first row.
struct ChunkBatch {
  ObsTensors obs;
  torch::Tensor first, mask, actions, log_probs, values, advantages, returns;
  models::State state;
};

/// Chunk c covers rows [ (c / N) * R, (c / N) * R + R ) of env c % N. Requires T % R == 0.
ChunkBatch GatherChunks(const RolloutBuffer& buffer, const torch::Tensor& chunk_ids,
                        int64_t recurrence);

/// Explained variance of `pred` for `target` over the rows where mask = 1: 1 - Var(t - p) / Var(t)
/// (NaN when the targets do not vary), as CleanRL logs it.
double ExplainedVariance(const torch::Tensor& pred, const torch::Tensor& target,
                         const torch::Tensor& mask);

}  // namespace rimlab::agents
