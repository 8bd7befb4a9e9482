#pragma once
/// Proximal Policy Optimisation (Schulman et al. 2017) for recurrent actor-critics, after
/// CleanRL's ppo.py and torch-ac: clipped surrogate, optional value clipping, entropy bonus,
/// global gradient-norm clipping, several epochs of shuffled recurrent minibatches (chunks of
/// `recurrence` steps, see rollout.h), per-minibatch advantage normalisation, linear learning-rate
/// annealing. Logs approx KL ((r - 1) - log r, CleanRL's estimator), clip fraction and explained
/// variance.

#include "agents/flat_adam.h"
#include "agents/on_policy.h"
#include "agents/parallel_gradient.h"

namespace rimlab::agents {

struct PpoConfig {
  int64_t steps = 128;       ///< rollout length per env (torch-ac frames_per_proc)
  int64_t epochs = 4;        ///< passes over the rollout per update
  int64_t batch_size = 256;  ///< rows per minibatch (a multiple of recurrence)
  int64_t recurrence = 4;    ///< rows per chunk: the BPTT length (1: no backprop in time)
  double lr = 1e-3;          ///< Adam step size
  double adam_eps = 1e-8;
  bool anneal_lr = false;  ///< decay lr linearly to 0 over the run
  double gamma = 0.99;
  double gae_lambda = 0.95;
  double clip = 0.2;        ///< surrogate clipping range
  bool clip_value = false;  ///< clip the value update to the same range around old values
  double entropy_coef = 0.01;
  double value_coef = 0.5;
  double max_grad_norm = 0.5;  ///< <= 0: no clipping
  bool norm_adv = true;        ///< normalise advantages per minibatch
  double target_kl = 0.0;      ///< > 0: stop the epochs early once approx KL exceeds it
};

/// Reads the `ppo` section; `num_envs` checks that steps * num_envs splits into minibatches.
PpoConfig PpoConfigFromParams(const Params& params, int64_t num_envs);

class Ppo : public OnPolicyAlgorithm {
 public:
  Ppo(ActorCritic model, PpoConfig config);
  int64_t steps() const override { return config_.steps; }
  double gamma() const override { return config_.gamma; }
  double gae_lambda() const override { return config_.gae_lambda; }
  LossMetrics Update(RolloutBuffer* buffer, double progress) override;
  torch::optim::Optimizer& optimizer() override { return optimizer_; }
  int set_learner_threads(int threads) override;
  std::string name() const override { return "ppo"; }
  const PpoConfig& config() const { return config_; }

 private:
  ActorCritic model_;
  PpoConfig config_;
  FlatAdam optimizer_;
  std::unique_ptr<ParallelGradient> gradient_;
};

}  // namespace rimlab::agents
