#include "agents/fused_loss.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace rimlab::agents {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

/// The share of a kinked function's gradient each argument gets, as torch's min/max backward
/// gives it: all to the chosen one, half each on a tie.
inline float Share(bool chosen, bool tie) {
  return tie ? 0.5f : (chosen ? 1.0f : 0.0f);
}

class FusedLossFunction : public torch::autograd::Function<FusedLossFunction> {
 public:
  /// Returns {loss, policy_loss, value_loss, entropy, approx_kl, clipfrac} as 0-d tensors; only
  /// the loss carries a gradient.
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& logits_in,
                               const torch::Tensor& value_in, const torch::Tensor& actions_in,
                               const torch::Tensor& old_logp_in, const torch::Tensor& old_value_in,
                               const torch::Tensor& adv_in, const torch::Tensor& returns_in,
                               const torch::Tensor& mask_in, double clip, bool clip_value,
                               double entropy_coef, double value_coef, double rows_in) {
    const int64_t a = logits_in.size(-1);
    const auto logits = logits_in.contiguous().view({-1, a});
    const int64_t n = logits.size(0);
    const auto flat = [n](const torch::Tensor& t, c10::ScalarType type) {
      return t.to(type).contiguous().view({n});
    };
    const auto value = flat(value_in, torch::kFloat32);
    const auto actions = flat(actions_in, torch::kInt64);
    const auto old_logp = flat(old_logp_in, torch::kFloat32);
    const auto old_value = flat(old_value_in, torch::kFloat32);
    const auto adv = flat(adv_in, torch::kFloat32);
    const auto ret = flat(returns_in, torch::kFloat32);
    const auto mask = flat(mask_in, torch::kFloat32);

    const float* l = logits.data_ptr<float>();
    const float* v = value.data_ptr<float>();
    const int64_t* act = actions.data_ptr<int64_t>();
    const float* olp = old_logp.data_ptr<float>();
    const float* ov = old_value.data_ptr<float>();
    const float* ad = adv.data_ptr<float>();
    const float* rt = ret.data_ptr<float>();
    const float* m = mask.data_ptr<float>();

    double count = 0;
    for (int64_t i = 0; i < n; ++i) count += m[i];
    const double rows = rows_in > 0.0 ? rows_in : std::max(count, 1.0);

    // Per row: d loss_i / d logp_a and d loss_i / d value (before the mask and 1 / rows), and
    // the log-probabilities with the entropy, which the backward needs. (Log-probabilities, not
    // probabilities: p log p must stay 0, not NaN, where p underflows.)
    auto d_logp = torch::empty({n}, logits.options());
    auto d_value = torch::empty({n}, logits.options());
    auto log_probs = torch::empty({n, a}, logits.options());
    auto entropy = torch::empty({n}, logits.options());
    float* dlp = d_logp.data_ptr<float>();
    float* dv = d_value.data_ptr<float>();
    float* logp = log_probs.data_ptr<float>();
    float* ent = entropy.data_ptr<float>();
    double policy_sum = 0, value_sum = 0, entropy_sum = 0, kl_sum = 0, clip_sum = 0;
    const auto lo = static_cast<float>(1.0 - clip), hi = static_cast<float>(1.0 + clip);
    const auto c = static_cast<float>(clip);
    for (int64_t i = 0; i < n; ++i) {
      const float* li = l + i * a;
      float mx = li[0];
      for (int64_t j = 1; j < a; ++j) mx = std::max(mx, li[j]);
      float z = 0;
      for (int64_t j = 0; j < a; ++j) z += std::exp(li[j] - mx);
      const float lse = mx + std::log(z);
      float h = 0;
      float* lpi = logp + i * a;
      for (int64_t j = 0; j < a; ++j) {
        lpi[j] = li[j] - lse;
        h -= std::exp(lpi[j]) * lpi[j];
      }
      ent[i] = h;
      const int64_t ai = act[i];
      if (ai < 0 || ai >= a) {
        throw std::out_of_range("actor-critic loss: action " + std::to_string(ai) +
                                " outside [0, " + std::to_string(a) + ")");
      }
      const float lp = lpi[ai];
      float policy = 0;
      if (clip > 0.0) {
        const float log_ratio = lp - olp[i];
        const float ratio = std::exp(log_ratio);
        const float s1 = ratio * ad[i];
        const float clamped = std::min(std::max(ratio, lo), hi);
        const float s2 = clamped * ad[i];
        policy = -std::min(s1, s2);
        const bool inside = ratio >= lo && ratio <= hi;
        const float share1 = Share(s1 < s2, s1 == s2);
        const float share2 = Share(s2 < s1, s1 == s2) * (inside ? 1.0f : 0.0f);
        dlp[i] = -ad[i] * (share1 + share2) * ratio;
        kl_sum += static_cast<double>(m[i]) * ((ratio - 1.0f) - log_ratio);
        clip_sum += static_cast<double>(m[i]) * (std::abs(ratio - 1.0f) > c ? 1.0 : 0.0);
      } else {
        policy = -lp * ad[i];
        dlp[i] = -ad[i];
      }
      float value_term = 0;
      const float err = v[i] - rt[i];
      if (clip_value && clip > 0.0) {
        const float delta = v[i] - ov[i];
        const float clipped = ov[i] + std::min(std::max(delta, -c), c);
        const float err2 = clipped - rt[i];
        const float l1 = err * err, l2 = err2 * err2;
        value_term = 0.5f * std::max(l1, l2);
        const bool inside = delta >= -c && delta <= c;
        dv[i] = Share(l1 > l2, l1 == l2) * err + Share(l2 > l1, l1 == l2) * (inside ? err2 : 0.0f);
      } else {
        value_term = 0.5f * err * err;
        dv[i] = err;
      }
      policy_sum += static_cast<double>(m[i]) * policy;
      value_sum += static_cast<double>(m[i]) * value_term;
      entropy_sum += static_cast<double>(m[i]) * h;
    }
    const double policy_loss = policy_sum / rows, value_loss = value_sum / rows;
    const double mean_entropy = entropy_sum / rows;
    const double loss = policy_loss - entropy_coef * mean_entropy + value_coef * value_loss;

    ctx->save_for_backward({d_logp, d_value, log_probs, entropy, actions, mask});
    ctx->saved_data["scale"] = 1.0 / rows;
    ctx->saved_data["entropy_coef"] = entropy_coef;
    ctx->saved_data["value_coef"] = value_coef;
    ctx->saved_data["logits_shape"] = logits_in.sizes().vec();
    ctx->saved_data["value_shape"] = value_in.sizes().vec();
    const auto scalar = [&](double x) { return torch::tensor(static_cast<float>(x)); };
    auto metrics = torch::tensor({static_cast<float>(policy_loss), static_cast<float>(value_loss),
                                  static_cast<float>(mean_entropy),
                                  static_cast<float>(clip > 0.0 ? kl_sum / rows : 0.0),
                                  static_cast<float>(clip > 0.0 ? clip_sum / rows : 0.0)});
    ctx->mark_non_differentiable({metrics});
    return {scalar(loss), metrics};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& d_logp = saved[0];
    const auto& d_value = saved[1];
    const auto& log_probs = saved[2];
    const auto& entropy = saved[3];
    const auto& actions = saved[4];
    const auto& mask = saved[5];
    variable_list out(13);
    if (!grads[0].defined()) return out;
    const int64_t n = log_probs.size(0), a = log_probs.size(1);
    const auto g =
        static_cast<float>(grads[0].item<double>() * ctx->saved_data["scale"].toDouble());
    const auto ec = static_cast<float>(ctx->saved_data["entropy_coef"].toDouble());
    const auto vc = static_cast<float>(ctx->saved_data["value_coef"].toDouble());
    auto d_logits = torch::empty({n, a}, log_probs.options());
    auto d_v = torch::empty({n}, log_probs.options());
    const float* lp = log_probs.data_ptr<float>();
    const float* h = entropy.data_ptr<float>();
    const float* dlp = d_logp.data_ptr<float>();
    const float* dvr = d_value.data_ptr<float>();
    const int64_t* act = actions.data_ptr<int64_t>();
    const float* m = mask.data_ptr<float>();
    float* dl = d_logits.data_ptr<float>();
    float* dv = d_v.data_ptr<float>();
    for (int64_t i = 0; i < n; ++i) {
      const float w = g * m[i];
      const float* lpi = lp + i * a;
      float* di = dl + i * a;
      for (int64_t j = 0; j < a; ++j) {
        // The policy term through log p_a, and -ec * dH/dl_j = ec * p_j (log p_j + H).
        const float pj = std::exp(lpi[j]);
        di[j] = w * (dlp[i] * ((j == act[i] ? 1.0f : 0.0f) - pj) + ec * pj * (lpi[j] + h[i]));
      }
      dv[i] = w * vc * dvr[i];
    }
    out[0] = d_logits.view(ctx->saved_data["logits_shape"].toIntVector());
    out[1] = d_v.view(ctx->saved_data["value_shape"].toIntVector());
    return out;
  }
};

}  // namespace

bool FusedLossSupported(const LossInputs& in) {
  return in.logits.defined() && in.value.defined() && in.logits.dim() >= 1 &&
         in.logits.scalar_type() == torch::kFloat32 && in.value.scalar_type() == torch::kFloat32 &&
         in.logits.device().is_cpu() && in.value.device().is_cpu();
}

MinibatchLoss FusedActorCriticLoss(const LossInputs& in, const LossOptions& o, double rows) {
  if (!FusedLossSupported(in)) {
    throw std::invalid_argument("actor-critic loss: expected float32 CPU logits and values");
  }
  const int64_t n = in.value.numel();
  for (const auto* t :
       {&in.actions, &in.log_probs, &in.values, &in.advantages, &in.returns, &in.mask}) {
    if (!t->defined() || t->numel() != n || in.logits.numel() != n * in.logits.size(-1)) {
      throw std::invalid_argument("actor-critic loss: every input needs one entry per row (" +
                                  std::to_string(n) + ")");
    }
  }
  const auto outs = FusedLossFunction::apply(in.logits, in.value, in.actions, in.log_probs,
                                             in.values, in.advantages, in.returns, in.mask, o.clip,
                                             o.clip_value, o.entropy_coef, o.value_coef, rows);
  MinibatchLoss r;
  r.loss = outs[0];
  const float* m = outs[1].data_ptr<float>();
  r.policy_loss = m[0];
  r.value_loss = m[1];
  r.entropy = m[2];
  r.approx_kl = m[3];
  r.clipfrac = m[4];
  return r;
}

}  // namespace rimlab::agents
