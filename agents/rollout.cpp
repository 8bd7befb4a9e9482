#include "agents/rollout.h"

#include <limits>
#include <stdexcept>

namespace rimlab::agents {

torch::ScalarType TorchDType(DType dtype) {
  switch (dtype) {
    case DType::kUInt8:
      return torch::kUInt8;
    case DType::kInt32:
      return torch::kInt32;
    case DType::kFloat32:
      return torch::kFloat32;
  }
  return torch::kFloat32;
}

RolloutBuffer::RolloutBuffer(const EnvSpec& spec, int64_t steps_, int64_t envs_)
    : steps(steps_), envs(envs_) {
  if (steps < 1 || envs < 1) throw std::invalid_argument("RolloutBuffer: steps and envs >= 1");
  for (const auto& f : spec.observation.fields) {
    std::vector<int64_t> shape = {steps, envs};
    shape.insert(shape.end(), f.shape.begin(), f.shape.end());
    obs.push_back(torch::zeros(shape, TorchDType(f.dtype)));
  }
  first = torch::zeros({steps, envs});
  last = torch::zeros({steps, envs});
  actions = torch::zeros({steps, envs}, torch::kInt64);
  log_probs = torch::zeros({steps, envs});
  values = torch::zeros({steps, envs});
  rewards = torch::zeros({steps, envs});
  discounts = torch::zeros({steps, envs});
  next_value = torch::zeros({envs});
  advantages = torch::zeros({steps, envs});
  returns = torch::zeros({steps, envs});
}

void RolloutBuffer::StoreState(int64_t t, const models::State& state) {
  if (states.tensors.size() != state.tensors.size()) {
    states.tensors.clear();
    for (const auto& s : state.tensors) {
      std::vector<int64_t> shape = {steps};
      shape.insert(shape.end(), s.sizes().begin(), s.sizes().end());
      states.tensors.push_back(torch::zeros(shape, s.options()));
    }
  }
  for (size_t i = 0; i < state.tensors.size(); ++i) states.tensors[i][t].copy_(state.tensors[i]);
}

torch::Tensor Gae(const torch::Tensor& rewards, const torch::Tensor& discounts,
                  const torch::Tensor& values, const torch::Tensor& last,
                  const torch::Tensor& next_value, double gamma, double lambda) {
  const int64_t t_max = rewards.size(0);
  const int64_t n = rewards.size(1);
  // A plain loop over contiguous floats: T * N is a few thousand, far below where tensor ops pay.
  auto r = rewards.contiguous().to(torch::kFloat32);
  auto d = discounts.contiguous().to(torch::kFloat32);
  auto v = values.contiguous().to(torch::kFloat32);
  auto l = last.contiguous().to(torch::kFloat32);
  auto nv = next_value.contiguous().to(torch::kFloat32);
  auto adv = torch::zeros({t_max, n});
  const float* pr = r.data_ptr<float>();
  const float* pd = d.data_ptr<float>();
  const float* pv = v.data_ptr<float>();
  const float* pl = l.data_ptr<float>();
  const float* pn = nv.data_ptr<float>();
  float* pa = adv.data_ptr<float>();
  const auto g = static_cast<float>(gamma);
  const auto gl = static_cast<float>(gamma * lambda);
  for (int64_t e = 0; e < n; ++e) {
    float next_adv = 0.0f;
    float next_val = pn[e];
    for (int64_t t = t_max - 1; t >= 0; --t) {
      const int64_t i = t * n + e;
      if (pl[i] != 0.0f) {
        next_adv = 0.0f;  // a LAST row is no decision; the episode before it ends here
      } else {
        const float delta = pr[i] + g * pd[i] * next_val - pv[i];
        next_adv = delta + gl * pd[i] * next_adv;
      }
      pa[i] = next_adv;
      next_val = pv[i];
    }
  }
  return adv;
}

void ComputeAdvantages(RolloutBuffer* b, double gamma, double lambda) {
  b->advantages = Gae(b->rewards, b->discounts, b->values, b->last, b->next_value, gamma, lambda);
  b->returns = b->advantages + b->values;
}

ChunkBatch GatherChunks(const RolloutBuffer& b, const torch::Tensor& chunk_ids,
                        int64_t recurrence) {
  if (b.steps % recurrence != 0)
    throw std::invalid_argument("GatherChunks: steps must be a multiple of recurrence");
  const int64_t n = b.envs;
  auto ids = chunk_ids.to(torch::kInt64);
  auto start_row = (ids.div(n, "floor") * recurrence) * n + ids.remainder(n);  // flat [T*N]
  auto offsets = torch::arange(recurrence, torch::kInt64).unsqueeze(1) * n;    // [R, 1]
  auto rows = (offsets + start_row.unsqueeze(0)).flatten();                    // [R*C]
  const int64_t c = ids.size(0);
  auto take = [&](const torch::Tensor& x) {
    std::vector<int64_t> shape = {recurrence, c};
    for (int64_t d = 2; d < x.dim(); ++d) shape.push_back(x.size(d));
    return x.flatten(0, 1).index_select(0, rows).view(shape);
  };
  ChunkBatch out;
  for (const auto& o : b.obs) out.obs.push_back(take(o));
  out.first = take(b.first);
  out.mask = 1.0 - take(b.last);
  out.actions = take(b.actions);
  out.log_probs = take(b.log_probs);
  out.values = take(b.values);
  out.advantages = take(b.advantages);
  out.returns = take(b.returns);
  for (const auto& s : b.states.tensors)
    out.state.tensors.push_back(s.flatten(0, 1).index_select(0, start_row));
  return out;
}

double ExplainedVariance(const torch::Tensor& pred, const torch::Tensor& target,
                         const torch::Tensor& mask) {
  auto m = mask.to(torch::kBool);
  auto p = pred.masked_select(m).to(torch::kFloat64);
  auto t = target.masked_select(m).to(torch::kFloat64);
  if (t.numel() < 2) return std::numeric_limits<double>::quiet_NaN();
  const double var_t = t.var(/*unbiased=*/false).item<double>();
  if (var_t == 0.0) return std::numeric_limits<double>::quiet_NaN();
  return 1.0 - (t - p).var(/*unbiased=*/false).item<double>() / var_t;
}

}  // namespace rimlab::agents
