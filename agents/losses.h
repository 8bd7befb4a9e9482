#pragma once
/// The actor-critic loss on one minibatch of chunks, shared by PPO (clipped) and A2C (plain).

#include <torch/torch.h>

#include "agents/actor_critic.h"
#include "agents/rollout.h"

namespace rimlab::agents {

struct LossOptions {
  double clip = 0.0;  ///< > 0: PPO's clipped surrogate; 0: the plain policy gradient
  bool clip_value = false;
  double entropy_coef = 0.01;
  double value_coef = 0.5;
  bool norm_adv = true;
  /// Compute the loss as one autograd node (agents/fused_loss.h) when it applies; false keeps
  /// the operator-by-operator reference.
  bool fused = true;
};

struct MinibatchLoss {
  torch::Tensor loss;  ///< to minimise
  double policy_loss = 0.0, value_loss = 0.0, entropy = 0.0;
  double approx_kl = 0.0, clipfrac = 0.0;  ///< PPO only
};

/// Mean of x over the rows where mask = 1.
torch::Tensor MaskedMean(const torch::Tensor& x, const torch::Tensor& mask);
/// Normalises batch->advantages to zero mean and unit variance over its decision rows.
void NormalizeAdvantages(ChunkBatch* batch);
/// The loss of `batch`. Means over decision rows divide by `rows` when it is > 0 (the decision
/// rows of the whole minibatch that `batch` is a part of, so that the parts' losses and
/// gradients add up to the whole's), else by batch's own count. Advantages are normalised here
/// only when options.norm_adv and rows <= 0; a part's come normalised with the whole's.
MinibatchLoss ChunkLoss(ActorCritic& model, const ChunkBatch& batch, const LossOptions& options,
                        double rows = 0.0);
void SetLearningRate(torch::optim::Optimizer& optimizer, double lr);

}  // namespace rimlab::agents
