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
};

struct MinibatchLoss {
  torch::Tensor loss;  ///< to minimise
  double policy_loss = 0.0, value_loss = 0.0, entropy = 0.0;
  double approx_kl = 0.0, clipfrac = 0.0;  ///< PPO only
};

/// Mean of x over the rows where mask = 1.
torch::Tensor MaskedMean(const torch::Tensor& x, const torch::Tensor& mask);
MinibatchLoss ChunkLoss(ActorCritic& model, const ChunkBatch& batch, const LossOptions& options);
void SetLearningRate(torch::optim::Optimizer& optimizer, double lr);

}  // namespace rimlab::agents
