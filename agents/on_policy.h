#pragma once
/// What PPO and A2C share: the interface the trainer drives, and the metrics an update reports.

#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>

#include "agents/actor_critic.h"
#include "agents/rollout.h"
#include "common/params.h"

namespace rimlab::agents {

/// Averages over an update's minibatches; NaN when not computed.
struct LossMetrics {
  double policy_loss = NAN;
  double value_loss = NAN;
  double entropy = NAN;
  double approx_kl = NAN;
  double clipfrac = NAN;
  double explained_variance = NAN;
  double grad_norm = NAN;  ///< before clipping
  double learning_rate = NAN;

  /// False when any loss is NaN or infinite (the trainer stops the run).
  bool Finite() const {
    return std::isfinite(policy_loss) && std::isfinite(value_loss) && std::isfinite(entropy);
  }
};

class OnPolicyAlgorithm {
 public:
  virtual ~OnPolicyAlgorithm() = default;
  /// Rollout length per env between updates.
  virtual int64_t steps() const = 0;
  virtual double gamma() const = 0;
  virtual double gae_lambda() const = 0;
  /// Learns from a full rollout (advantages not yet computed). `progress` in [0, 1) is the share
  /// of training already done, for learning-rate annealing.
  virtual LossMetrics Update(RolloutBuffer* buffer, double progress) = 0;
  virtual torch::optim::Optimizer& optimizer() = 0;
  virtual std::string name() const = 0;
  /// Threads that share each minibatch's forward and backward passes (see parallel_gradient.h);
  /// 1 by default. Returns the count in use: 1 for a model whose training pass is random.
  virtual int set_learner_threads(int threads) = 0;
  /// Whether the models' fused autograd nodes and the fused loss are used (the default), or
  /// torch's operators: for timing one against the other in `rimlab bench ppo fused=1,0`.
  void set_fused(bool on) { fused_ = on; }

 protected:
  bool fused_ = true;
};

/// Reads `algo` ("ppo" or "a2c") options from its section and builds it for `model`; unknown keys
/// are errors naming the section and key. `num_envs` checks divisibility (batch sizes).
std::unique_ptr<OnPolicyAlgorithm> MakeOnPolicyAlgorithm(const std::string& algo,
                                                         const Params& section, ActorCritic model,
                                                         int64_t num_envs);

/// Clips the global gradient norm to max_norm (<= 0: no clipping) and returns the norm before.
double ClipGradNorm(torch::nn::Module& module, double max_norm);

}  // namespace rimlab::agents
