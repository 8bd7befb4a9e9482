#include "agents/on_policy.h"

#include <stdexcept>

#include "agents/a2c.h"
#include "agents/flat_adam.h"
#include "agents/fused_loss.h"
#include "agents/losses.h"
#include "agents/ppo.h"

namespace rimlab::agents {

std::unique_ptr<OnPolicyAlgorithm> MakeOnPolicyAlgorithm(const std::string& algo,
                                                         const Params& section, ActorCritic model,
                                                         int64_t num_envs) {
  if (algo == "ppo") {
    return std::make_unique<Ppo>(std::move(model), PpoConfigFromParams(section, num_envs));
  }
  if (algo == "a2c") return std::make_unique<A2c>(std::move(model), A2cConfigFromParams(section));
  throw std::invalid_argument("unknown algorithm '" + algo + "' (expected ppo or a2c)");
}

double ClipGradNorm(torch::nn::Module& module, double max_norm) {
  return ClipGradNorm(module.parameters(), max_norm);
}

torch::Tensor MaskedMean(const torch::Tensor& x, const torch::Tensor& mask) {
  return (x * mask).sum() / mask.sum().clamp_min(1.0);
}

void NormalizeAdvantages(ChunkBatch* batch) {
  const auto& mask = batch->mask;
  auto mean = MaskedMean(batch->advantages, mask);
  auto var = MaskedMean((batch->advantages - mean).pow(2), mask);
  batch->advantages = (batch->advantages - mean) / (var.sqrt() + 1e-8);
}

MinibatchLoss ChunkLoss(ActorCritic& model, const ChunkBatch& mb, const LossOptions& o,
                        double rows) {
  auto out = model->Unroll(mb.obs, mb.state, mb.first);
  auto adv = mb.advantages;
  if (o.norm_adv && rows <= 0.0) {
    ChunkBatch normalized;
    normalized.mask = mb.mask;
    normalized.advantages = adv;
    NormalizeAdvantages(&normalized);
    adv = normalized.advantages;
  }
  const LossInputs inputs{out.logits, out.value, mb.actions, mb.log_probs,
                          mb.values,  adv,       mb.returns, mb.mask};
  if (o.fused && FusedLossSupported(inputs)) return FusedActorCriticLoss(inputs, o, rows);
  return OperatorActorCriticLoss(inputs, o, rows);
}

MinibatchLoss OperatorActorCriticLoss(const LossInputs& in, const LossOptions& o, double rows) {
  const auto& mask = in.mask;
  const auto mean = [&](const torch::Tensor& x) {
    return rows > 0.0 ? (x * mask).sum() / rows : MaskedMean(x, mask);
  };
  const auto& adv = in.advantages;
  auto logp = LogProbs(in.logits, in.actions);
  auto entropy = mean(Entropy(in.logits));
  MinibatchLoss r;
  torch::Tensor policy_loss;
  if (o.clip > 0.0) {
    auto log_ratio = logp - in.log_probs;
    auto ratio = log_ratio.exp();
    auto surr1 = ratio * adv;
    auto surr2 = torch::clamp(ratio, 1.0 - o.clip, 1.0 + o.clip) * adv;
    policy_loss = -mean(torch::min(surr1, surr2));
    torch::NoGradGuard no_grad;
    r.approx_kl = mean((ratio - 1.0) - log_ratio).item<double>();
    r.clipfrac = mean(((ratio - 1.0).abs() > o.clip).to(torch::kFloat32)).item<double>();
  } else {
    policy_loss = -mean(logp * adv);
  }
  torch::Tensor value_loss;
  if (o.clip_value && o.clip > 0.0) {
    auto clipped = in.values + torch::clamp(in.value - in.values, -o.clip, o.clip);
    value_loss =
        0.5 * mean(torch::max((in.value - in.returns).pow(2), (clipped - in.returns).pow(2)));
  } else {
    value_loss = 0.5 * mean((in.value - in.returns).pow(2));
  }
  r.loss = policy_loss - o.entropy_coef * entropy + o.value_coef * value_loss;
  r.policy_loss = policy_loss.item<double>();
  r.value_loss = value_loss.item<double>();
  r.entropy = entropy.item<double>();
  return r;
}

void SetLearningRate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

}  // namespace rimlab::agents
