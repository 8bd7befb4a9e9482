#include "agents/crr.h"

#include <stdexcept>

#include "agents/losses.h"

namespace rimlab::agents {

CrrConfig CrrConfigFromParams(const Params& params) {
  CrrConfig c;
  ParamReader r(params, "section 'crr'");
  c.lr = r.Float("lr", c.lr, 1e-8, 1.0);
  c.adam_eps = r.Float("adam_eps", c.adam_eps, 1e-12, 1.0);
  c.batch_episodes = r.Int("batch_episodes", c.batch_episodes, 1, 1 << 20);
  c.max_grad_norm = r.Float("max_grad_norm", c.max_grad_norm, 0.0, 1e9);
  c.gamma = r.Float("gamma", c.gamma, 0.0, 1.0);
  c.weighting = r.Choice("weighting", c.weighting, {"exp", "binary"});
  c.beta = r.Float("beta", c.beta, 1e-6, 1e6);
  c.max_weight = r.Float("max_weight", c.max_weight, 1e-6, 1e9);
  c.critic_coef = r.Float("critic_coef", c.critic_coef, 0.0, 1e6);
  c.cql_alpha = r.Float("cql_alpha", c.cql_alpha, 0.0, 1e6);
  c.target_period = r.Int("target_period", c.target_period, 1, int64_t{1} << 40);
  r.Finish();
  return c;
}

torch::Tensor CrrWeights(const torch::Tensor& advantages, const CrrConfig& config) {
  if (config.weighting == "binary") return (advantages > 0).to(advantages.scalar_type());
  return torch::exp(advantages / config.beta).clamp_max(config.max_weight);
}

CrrLoss CriticRegularizedRegressionLoss(ActorCritic& model, ActorCritic& target,
                                        const EpisodeBatch& batch, const CrrConfig& config) {
  const int64_t T = batch.actions.size(0), B = batch.actions.size(1);
  // All T + 1 observation rows: row t + 1 is the next observation of decision t.
  const auto out = model->Unroll(batch.obs, model->InitialState(B), torch::zeros({T + 1, B}));
  if (!out.q.defined()) throw std::invalid_argument("CRR needs an actor-critic with a q_head");
  const auto logits = out.logits.narrow(0, 0, T);
  const auto q = out.q.narrow(0, 0, T);
  const auto a = batch.actions.unsqueeze(-1);
  const auto q_taken = q.gather(-1, a).squeeze(-1);
  torch::Tensor y, advantages;
  {
    torch::NoGradGuard no_grad;
    const auto next = target->Unroll(batch.obs, target->InitialState(B), torch::zeros({T + 1, B}));
    const auto v_next = next.value.narrow(0, 1, T);  // sum_a' pi'(a'|s') Q'(s', a')
    y = batch.rewards + config.gamma * (1.0 - batch.done) * v_next;
    const auto pi = torch::softmax(logits, -1);
    advantages = q_taken - (pi * q).sum(-1);
  }
  const auto weights = CrrWeights(advantages, config);
  const auto log_probs = LogProbs(logits, batch.actions);
  const auto policy_loss = -MaskedMean(weights * log_probs, batch.mask);
  auto critic_loss = 0.5 * MaskedMean((q_taken - y).pow(2), batch.mask);
  if (config.cql_alpha > 0.0) {
    critic_loss =
        critic_loss + config.cql_alpha * MaskedMean(torch::logsumexp(q, -1) - q_taken, batch.mask);
  }
  CrrLoss l;
  l.loss = policy_loss + config.critic_coef * critic_loss;
  torch::NoGradGuard no_grad;
  l.policy_loss = policy_loss.item<double>();
  l.critic_loss = critic_loss.item<double>();
  l.nll = -MaskedMean(log_probs, batch.mask).item<double>();
  l.entropy = MaskedMean(Entropy(logits), batch.mask).item<double>();
  l.accuracy = MaskedMean((logits.argmax(-1) == batch.actions).to(torch::kFloat32), batch.mask)
                   .item<double>();
  l.q_mean = MaskedMean(q_taken, batch.mask).item<double>();
  l.weight_mean = MaskedMean(weights, batch.mask).item<double>();
  return l;
}

CriticRegularizedRegression::CriticRegularizedRegression(ActorCritic model, CrrConfig config)
    : model_(std::move(model)),
      target_(model_->Copy()),
      config_(std::move(config)),
      optimizer_(model_->parameters(),
                 torch::optim::AdamOptions(config_.lr).eps(config_.adam_eps)) {
  if (!model_->options().q_head) {
    throw std::invalid_argument("CRR needs an actor-critic with a q_head");
  }
  target_->eval();
}

CrrStats CriticRegularizedRegression::Update(const EpisodeBatch& batch, int64_t update) {
  model_->train();
  ZeroGrads(model_->parameters());
  CrrStats s;
  s.loss = CriticRegularizedRegressionLoss(model_, target_, batch, config_);
  s.loss.loss.backward();
  s.grad_norm = optimizer_.ClipGradNorm(config_.max_grad_norm);
  optimizer_.step();
  s.steps = batch.steps;
  // `update` counts this one: the target follows after every target_period of them.
  if (update % config_.target_period == 0) {
    CopyParameters(model_, target_);
  }
  return s;
}

}  // namespace rimlab::agents
