#pragma once
/// Behaviour cloning of a recorded policy: the actor-critic's policy head trained to maximise the
/// likelihood of the recorded actions, over whole episodes (agents/offline_data.h) so that the
/// recurrent core learns from each episode's history as it will act on it. The value head is left
/// untrained. The baseline of the offline agents: CRR weights the same loss per step.

#include <torch/torch.h>

#include "agents/actor_critic.h"
#include "agents/flat_adam.h"
#include "agents/offline_data.h"
#include "common/params.h"

namespace rimlab::agents {

struct BcConfig {
  double lr = 3e-4;  ///< Adam step size
  double adam_eps = 1e-5;
  int64_t batch_episodes = 16;  ///< whole episodes per minibatch
  double max_grad_norm = 0.5;   ///< <= 0: no clipping
  double entropy_coef = 0.0;    ///< > 0 adds an entropy bonus
};

/// The `bc` section: lr, adam_eps, batch_episodes, max_grad_norm, entropy_coef; unknown keys are
/// errors.
BcConfig BcConfigFromParams(const Params& params);

struct BcLoss {
  torch::Tensor loss;     ///< to minimise
  double nll = 0.0;       ///< mean -log pi(a|s) over the batch's decisions
  double accuracy = 0.0;  ///< share of decisions whose most likely action is the recorded one
  double entropy = 0.0;   ///< mean policy entropy
};

/// The loss of one batch: masked means over its decisions.
BcLoss BehaviourCloningLoss(ActorCritic& model, const EpisodeBatch& batch, double entropy_coef);

struct BcStats {
  double nll = 0.0, accuracy = 0.0, entropy = 0.0, grad_norm = 0.0;
  int64_t steps = 0;  ///< decisions trained on
};

class BehaviourCloning {
 public:
  BehaviourCloning(ActorCritic model, BcConfig config);
  BcStats Update(const EpisodeBatch& batch);
  const BcConfig& config() const { return config_; }
  FlatAdam& optimizer() { return optimizer_; }

 private:
  ActorCritic model_;
  BcConfig config_;
  FlatAdam optimizer_;
};

}  // namespace rimlab::agents
