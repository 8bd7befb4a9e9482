#pragma once
/// Recurrent DQN as R2D2 (Kapturowski et al., 2019) trains it, on sequences from
/// agents/sequence_replay.h: the core state stored at each sequence's start, a burn-in before the
/// loss, n-step double Q-learning against a target network, the value rescaling
/// h(x) = sign(x)(sqrt(|x| + 1) - 1) + eps x, and per-sequence priorities
/// eta max|delta| + (1 - eta) mean|delta|.
///
/// The Q-network is the actor-critic's critic with a q_head (one Q per action); the policy head
/// is not trained. Burn-in: a sequence that starts mid-episode unrolls its first `burn_in`
/// timesteps without loss and without gradient (its state is detached after them), as in R2D2; a
/// sequence that starts at its episode's first timestep has the true (zero) start state and
/// trains from its first step.

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "agents/actor_critic.h"
#include "agents/flat_adam.h"
#include "common/params.h"

namespace rimlab::agents {

struct R2d2Config {
  double lr = 5e-4;
  double adam_eps = 1e-5;  ///< R2D2's 1e-3 swamps the small gradients of returns below 1
  double max_grad_norm = 40.0;
  int64_t batch_size = 32;       ///< sequences per update
  int64_t sequence_length = 40;  ///< transitions per sequence (R2D2: 80)
  int64_t burn_in = 10;          ///< R2D2: 40
  int64_t period = 20;           ///< timesteps between sequence starts (R2D2: 40)
  int64_t n_step = 5;
  double gamma = 0.99;          ///< R2D2: 0.997, for episodes thousands of steps long
  int64_t target_period = 400;  ///< updates between copies into the target network (R2D2: 2,500)
  int64_t replay_capacity = 100000;  ///< timesteps
  int64_t learning_starts = 10000;   ///< frames before the first update
  int64_t frames_per_update = 64;    ///< the replay ratio: frames collected per update
  double priority_exponent = 0.9;
  double importance_exponent = 0.6;
  double priority_eta = 0.9;
  double epsilon = 0.4;  ///< Ape-X: actor i of N explores with epsilon^(1 + alpha i / (N - 1))
  double epsilon_alpha = 2.0;  ///< Ape-X: 7, for hundreds of actors
  bool value_rescaling = true;
  double rescaling_eps = 1e-3;
};

/// The `dqn` section; unknown keys and burn_in >= sequence_length are errors.
R2d2Config R2d2ConfigFromParams(const Params& params);

/// The Ape-X exploration of actor `i` of `n`.
double ActorEpsilon(const R2d2Config& config, int i, int n);

torch::Tensor ValueRescale(const torch::Tensor& x, double eps);
torch::Tensor ValueRescaleInverse(const torch::Tensor& x, double eps);

/// n-step returns of sequences, time-major [T, B]: rewards[t] and discounts[t] came with
/// timestep t, valid marks real timesteps (a prefix of each column), bootstrap[t] values
/// timestep t. For each t below a column's last valid timestep E:
///   y_t = sum_{k=1..m} gamma^(k-1) (prod_{j<k} d_{t+j}) r_{t+k}
///         + gamma^m (prod_{j<=m} d_{t+j}) bootstrap_{t+m},   m = min(n, E - t);
/// other entries are 0. A terminal timestep's discount 0 cuts the bootstrap.
torch::Tensor NStepTargets(const torch::Tensor& rewards, const torch::Tensor& discounts,
                           const torch::Tensor& valid, const torch::Tensor& bootstrap, int64_t n,
                           double gamma);

/// Sequences side by side, time-major: every field [T, B, ...].
struct SequenceTensors {
  ObsTensors obs;
  torch::Tensor actions;      ///< [T, B] int64
  torch::Tensor rewards;      ///< [T, B] float, the reward that came with timestep t
  torch::Tensor discounts;    ///< [T, B] float
  torch::Tensor valid;        ///< [T, B] float
  torch::Tensor first;        ///< [B] float: 1 when the sequence starts its episode
  models::State start_state;  ///< [B, ...] per state tensor
  torch::Tensor weights;      ///< [B] importance weights
};

struct R2d2Loss {
  torch::Tensor loss;
  std::vector<float> priorities;  ///< one per sequence
  double q_mean = 0.0;            ///< mean Q(s, a) of the actions taken, unrescaled
  double td_abs = 0.0;            ///< mean |delta| (rescaled space)
  int64_t steps = 0;              ///< transitions in the loss
};

R2d2Loss R2d2SequenceLoss(ActorCritic& online, ActorCritic& target, const SequenceTensors& batch,
                          const R2d2Config& config);

struct R2d2Stats {
  R2d2Loss loss;
  double grad_norm = 0.0;
};

class R2d2Learner {
 public:
  /// `model` needs a q_head; the optimiser covers every parameter but the policy head's.
  R2d2Learner(ActorCritic model, R2d2Config config);
  R2d2Stats Update(const SequenceTensors& batch);
  int64_t updates() const { return updates_; }
  void set_updates(int64_t updates) { updates_ = updates; }
  ActorCritic& target() { return target_; }
  FlatAdam& optimizer() { return optimizer_; }
  const R2d2Config& config() const { return config_; }

 private:
  ActorCritic model_, target_;
  R2d2Config config_;
  std::vector<torch::Tensor> trained_;
  FlatAdam optimizer_;
  int64_t updates_ = 0;
};

}  // namespace rimlab::agents
