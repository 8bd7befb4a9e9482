#pragma once
/// Advantage actor-critic (Mnih et al. 2016, synchronous), as Stable-Baselines3 and torch-ac run
/// it: short rollouts (n-step returns; gae_lambda 1 gives the plain n-step estimate), one
/// RMSprop step per rollout on the whole rollout, backpropagating through all `steps` rows from
/// the state stored at the rollout's start.

#include "agents/on_policy.h"
#include "agents/parallel_gradient.h"

namespace rimlab::agents {

struct A2cConfig {
  int64_t steps = 5;  ///< rollout length per env: the n of n-step returns
  double lr = 7e-4;   ///< RMSprop step size (SB3's default)
  double rmsprop_alpha = 0.99;
  double rmsprop_eps = 1e-5;
  bool anneal_lr = false;
  double gamma = 0.99;
  double gae_lambda = 1.0;  ///< 1: n-step returns
  double entropy_coef = 0.01;
  double value_coef = 0.5;
  double max_grad_norm = 0.5;
  bool norm_adv = false;
};

A2cConfig A2cConfigFromParams(const Params& params);

class A2c : public OnPolicyAlgorithm {
 public:
  A2c(ActorCritic model, A2cConfig config);
  int64_t steps() const override { return config_.steps; }
  double gamma() const override { return config_.gamma; }
  double gae_lambda() const override { return config_.gae_lambda; }
  LossMetrics Update(RolloutBuffer* buffer, double progress) override;
  torch::optim::Optimizer& optimizer() override { return optimizer_; }
  int set_learner_threads(int threads) override;
  std::string name() const override { return "a2c"; }

 private:
  ActorCritic model_;
  A2cConfig config_;
  torch::optim::RMSprop optimizer_;
  std::unique_ptr<ParallelGradient> gradient_;
};

}  // namespace rimlab::agents
