#include "agents/behaviour_cloning.h"

#include "agents/losses.h"

namespace rimlab::agents {

BcConfig BcConfigFromParams(const Params& params) {
  BcConfig c;
  ParamReader r(params, "section 'bc'");
  c.lr = r.Float("lr", c.lr, 1e-8, 1.0);
  c.adam_eps = r.Float("adam_eps", c.adam_eps, 1e-12, 1.0);
  c.batch_episodes = r.Int("batch_episodes", c.batch_episodes, 1, 1 << 20);
  c.max_grad_norm = r.Float("max_grad_norm", c.max_grad_norm, 0.0, 1e9);
  c.entropy_coef = r.Float("entropy_coef", c.entropy_coef, 0.0, 10.0);
  r.Finish();
  return c;
}

BcLoss BehaviourCloningLoss(ActorCritic& model, const EpisodeBatch& batch, double entropy_coef) {
  const int64_t T = batch.actions.size(0), B = batch.actions.size(1);
  // The decisions' observations: rows 0..T-1 (row T, the final observation, is not one).
  ObsTensors obs;
  for (const auto& field : batch.obs) obs.push_back(field.narrow(0, 0, T));
  // Whole episodes from the initial state: no reset inside an unroll.
  const auto out = model->Unroll(obs, model->InitialState(B), torch::zeros({T, B}));
  const auto log_probs = LogProbs(out.logits, batch.actions);
  const auto entropy = Entropy(out.logits);
  BcLoss l;
  const auto nll = -MaskedMean(log_probs, batch.mask);
  const auto mean_entropy = MaskedMean(entropy, batch.mask);
  l.loss = nll - entropy_coef * mean_entropy;
  torch::NoGradGuard no_grad;
  l.nll = nll.item<double>();
  l.entropy = mean_entropy.item<double>();
  const auto hits = (out.logits.argmax(-1) == batch.actions).to(torch::kFloat32);
  l.accuracy = MaskedMean(hits, batch.mask).item<double>();
  return l;
}

BehaviourCloning::BehaviourCloning(ActorCritic model, BcConfig config)
    : model_(std::move(model)),
      config_(config),
      optimizer_(model_->parameters(), torch::optim::AdamOptions(config.lr).eps(config.adam_eps)) {}

BcStats BehaviourCloning::Update(const EpisodeBatch& batch) {
  model_->train();
  ZeroGrads(model_->parameters());
  const BcLoss l = BehaviourCloningLoss(model_, batch, config_.entropy_coef);
  l.loss.backward();
  BcStats s;
  s.grad_norm = optimizer_.ClipGradNorm(config_.max_grad_norm);
  optimizer_.step();
  s.nll = l.nll;
  s.accuracy = l.accuracy;
  s.entropy = l.entropy;
  s.steps = batch.steps;
  return s;
}

}  // namespace rimlab::agents
