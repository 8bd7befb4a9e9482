#include "agents/on_policy.h"

#include <stdexcept>

#include "agents/a2c.h"
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
  std::vector<torch::Tensor> grads;
  for (auto& p : module.parameters()) {
    if (p.grad().defined()) grads.push_back(p.grad());
  }
  if (grads.empty()) return 0.0;
  std::vector<torch::Tensor> norms;
  norms.reserve(grads.size());
  for (auto& g : grads) norms.push_back(g.norm(2));
  const double total = torch::stack(norms).norm(2).item<double>();
  if (max_norm > 0.0 && total > max_norm) {
    const double scale = max_norm / (total + 1e-6);
    for (auto& g : grads) g.mul_(scale);
  }
  return total;
}

torch::Tensor MaskedMean(const torch::Tensor& x, const torch::Tensor& mask) {
  return (x * mask).sum() / mask.sum().clamp_min(1.0);
}

MinibatchLoss ChunkLoss(ActorCritic& model, const ChunkBatch& mb, const LossOptions& o) {
  auto out = model->Unroll(mb.obs, mb.state, mb.first);
  const auto& mask = mb.mask;
  auto logp = LogProbs(out.logits, mb.actions);
  auto entropy = MaskedMean(Entropy(out.logits), mask);
  auto adv = mb.advantages;
  if (o.norm_adv) {
    auto mean = MaskedMean(adv, mask);
    auto var = MaskedMean((adv - mean).pow(2), mask);
    adv = (adv - mean) / (var.sqrt() + 1e-8);
  }
  MinibatchLoss r;
  torch::Tensor policy_loss;
  if (o.clip > 0.0) {
    auto log_ratio = logp - mb.log_probs;
    auto ratio = log_ratio.exp();
    auto surr1 = ratio * adv;
    auto surr2 = torch::clamp(ratio, 1.0 - o.clip, 1.0 + o.clip) * adv;
    policy_loss = -MaskedMean(torch::min(surr1, surr2), mask);
    torch::NoGradGuard no_grad;
    r.approx_kl = MaskedMean((ratio - 1.0) - log_ratio, mask).item<double>();
    r.clipfrac =
        MaskedMean(((ratio - 1.0).abs() > o.clip).to(torch::kFloat32), mask).item<double>();
  } else {
    policy_loss = -MaskedMean(logp * adv, mask);
  }
  torch::Tensor value_loss;
  if (o.clip_value && o.clip > 0.0) {
    auto clipped = mb.values + torch::clamp(out.value - mb.values, -o.clip, o.clip);
    value_loss =
        0.5 * MaskedMean(torch::max((out.value - mb.returns).pow(2), (clipped - mb.returns).pow(2)),
                         mask);
  } else {
    value_loss = 0.5 * MaskedMean((out.value - mb.returns).pow(2), mask);
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
