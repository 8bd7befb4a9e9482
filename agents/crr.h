#pragma once
/// Critic Regularized Regression (Wang et al., 2020), discrete actions, recurrent: from recorded
/// whole episodes (agents/offline_data.h), a critic Q(s, a) trained by TD and the policy by
/// behaviour cloning weighted per step by f(A), where the advantage is exact over the discrete
/// actions: A(s, a) = Q(s, a) - sum_a' pi(a'|s) Q(s, a'). The weights are binary, 1[A > 0], or
/// exponential, min(exp(A / beta), max_weight). Optionally the CQL regulariser on the critic,
/// alpha * (logsumexp_a Q(s, a) - Q(s, a_data)), which others found discrete CRR to need on Atari.
///
/// The actor and the critic are the two heads of one actor-critic (q_head: the critic outputs
/// every action's Q); the TD target comes from a target copy of the whole model, refreshed every
/// `target_period` updates: y_t = r_t + gamma (1 - terminated_t) sum_a' pi'(a'|s_{t+1})
/// Q'(s_{t+1}, a'), so a truncated episode bootstraps from its final observation.

#include <torch/torch.h>

#include <string>

#include "agents/actor_critic.h"
#include "agents/flat_adam.h"
#include "agents/offline_data.h"
#include "common/params.h"

namespace rimlab::agents {

struct CrrConfig {
  double lr = 3e-4;
  double adam_eps = 1e-5;
  int64_t batch_episodes = 16;
  double max_grad_norm = 0.5;
  double gamma = 0.99;
  std::string weighting = "exp";  ///< "exp" or "binary"
  double beta = 1.0;              ///< exp: the advantage's temperature
  double max_weight = 20.0;       ///< exp: the weights' ceiling
  double critic_coef = 0.5;       ///< the critic loss's weight in the shared trunk's loss
  double cql_alpha = 0.0;         ///< > 0 adds the CQL regulariser
  int64_t target_period = 100;    ///< updates between copies into the target network
};

/// The `crr` section; unknown keys are errors.
CrrConfig CrrConfigFromParams(const Params& params);

/// f(A) per element, for `weighting` "exp" or "binary".
torch::Tensor CrrWeights(const torch::Tensor& advantages, const CrrConfig& config);

struct CrrLoss {
  torch::Tensor loss;
  double policy_loss = 0.0;  ///< mean -f(A) log pi(a|s)
  double critic_loss = 0.0;  ///< mean (Q(s, a) - y)^2 / 2 (+ the CQL term)
  double nll = 0.0, accuracy = 0.0, entropy = 0.0;
  double q_mean = 0.0;       ///< mean Q(s, a) of the recorded actions
  double weight_mean = 0.0;  ///< mean f(A)
};

/// The loss of one batch; `target` gives the TD targets (no gradient flows into it).
CrrLoss CriticRegularizedRegressionLoss(ActorCritic& model, ActorCritic& target,
                                        const EpisodeBatch& batch, const CrrConfig& config);

struct CrrStats {
  CrrLoss loss;
  double grad_norm = 0.0;
  int64_t steps = 0;
};

class CriticRegularizedRegression {
 public:
  /// `model` needs a q_head.
  CriticRegularizedRegression(ActorCritic model, CrrConfig config);
  CrrStats Update(const EpisodeBatch& batch, int64_t update);
  FlatAdam& optimizer() { return optimizer_; }
  ActorCritic& target() { return target_; }
  const CrrConfig& config() const { return config_; }

 private:
  ActorCritic model_, target_;
  CrrConfig config_;
  FlatAdam optimizer_;
};

}  // namespace rimlab::agents
