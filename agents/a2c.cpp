#include "agents/a2c.h"

#include "agents/losses.h"

namespace rimlab::agents {

A2cConfig A2cConfigFromParams(const Params& params) {
  A2cConfig c;
  ParamReader r(params, "a2c");
  c.steps = r.Int("steps", c.steps, 1, int64_t{1} << 30);
  c.lr = r.Float("lr", c.lr, 0.0, 10.0);
  c.rmsprop_alpha = r.Float("rmsprop_alpha", c.rmsprop_alpha, 0.0, 1.0);
  c.rmsprop_eps = r.Float("rmsprop_eps", c.rmsprop_eps, 0.0, 1.0);
  c.anneal_lr = r.Bool("anneal_lr", c.anneal_lr);
  c.gamma = r.Float("gamma", c.gamma, 0.0, 1.0);
  c.gae_lambda = r.Float("gae_lambda", c.gae_lambda, 0.0, 1.0);
  c.entropy_coef = r.Float("entropy_coef", c.entropy_coef, 0.0, 100.0);
  c.value_coef = r.Float("value_coef", c.value_coef, 0.0, 100.0);
  c.max_grad_norm = r.Float("max_grad_norm", c.max_grad_norm, 0.0, 1e9);
  c.norm_adv = r.Bool("norm_adv", c.norm_adv);
  r.Finish();
  return c;
}

A2c::A2c(ActorCritic model, A2cConfig config)
    : model_(std::move(model)),
      config_(config),
      optimizer_(model_->parameters(), torch::optim::RMSpropOptions(config.lr)
                                           .alpha(config.rmsprop_alpha)
                                           .eps(config.rmsprop_eps)),
      gradient_(std::make_unique<ParallelGradient>(model_, 1)) {}

int A2c::set_learner_threads(int threads) {
  gradient_ = std::make_unique<ParallelGradient>(model_, threads);
  return gradient_->threads();
}

LossMetrics A2c::Update(RolloutBuffer* buffer, double progress) {
  const auto& c = config_;
  const double lr = c.anneal_lr ? c.lr * (1.0 - progress) : c.lr;
  SetLearningRate(optimizer_, lr);
  ComputeAdvantages(buffer, c.gamma, c.gae_lambda);
  LossOptions o;
  o.clip = 0.0;
  o.entropy_coef = c.entropy_coef;
  o.value_coef = c.value_coef;
  o.norm_adv = c.norm_adv;
  o.fused = fused_;
  // One chunk per env spanning the whole rollout: backpropagation through all of it.
  const ChunkBatch batch =
      GatherChunks(*buffer, torch::arange(buffer->envs, torch::kInt64), buffer->steps);
  model_->train();
  const auto loss = gradient_->Compute(batch, o);
  LossMetrics m;
  m.grad_norm = ClipGradNorm(*model_, c.max_grad_norm);
  optimizer_.step();
  m.policy_loss = loss.policy_loss;
  m.value_loss = loss.value_loss;
  m.entropy = loss.entropy;
  m.learning_rate = lr;
  m.explained_variance = ExplainedVariance(buffer->values, buffer->returns, buffer->DecisionMask());
  return m;
}

}  // namespace rimlab::agents
