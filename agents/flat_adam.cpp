#include "agents/flat_adam.h"

#include <torch/csrc/autograd/variable.h>

#include <cmath>

namespace rimlab::agents {

void ZeroGrads(const std::vector<torch::Tensor>& params) {
  for (const auto& p : params) {
    if (p.grad().defined()) const_cast<torch::Tensor&>(p).mutable_grad().zero_();
  }
}

namespace {

std::string Key(const torch::Tensor& p) {
  // torch::optim keys its per-parameter state by the parameter's TensorImpl address.
  return c10::guts::to_string(p.unsafeGetTensorImpl());
}

}  // namespace

FlatAdam::FlatAdam(const std::vector<torch::Tensor>& params, torch::optim::AdamOptions options)
    : torch::optim::Adam(params, options) {}

std::vector<torch::Tensor> FlatAdam::Params() const {
  std::vector<torch::Tensor> out;
  for (const auto& group : param_groups_) {
    for (const auto& p : group.params()) out.push_back(p);
  }
  return out;
}

bool FlatAdam::CanFlatten() const {
  if (param_groups_.size() != 1) return false;
  const auto& o = static_cast<const torch::optim::AdamOptions&>(param_groups_[0].options());
  if (o.weight_decay() != 0.0 || o.amsgrad()) return false;
  int64_t step = -1;
  for (const auto& p : param_groups_[0].params()) {
    if (!p.grad().defined() || p.is_sparse() || p.grad().is_sparse() || !p.is_floating_point() ||
        p.scalar_type() != param_groups_[0].params()[0].scalar_type()) {
      return false;
    }
    // Moments restored from a checkpoint must agree on the step count to share one.
    auto it = state_.find(Key(p));
    const int64_t s = it == state_.end()
                          ? 0
                          : static_cast<const torch::optim::AdamParamState&>(*it->second).step();
    if (step >= 0 && s != step) return false;
    step = s;
  }
  return true;
}

bool FlatAdam::flat() const {
  if (!flat_param_.defined()) return false;
  for (const auto& p : Params()) {
    if (!p.is_alias_of(flat_param_) || !p.grad().defined() || !p.grad().is_alias_of(flat_grad_)) {
      return false;
    }
    auto it = state_.find(Key(p));
    if (it == state_.end()) return false;
    const auto& s = static_cast<const torch::optim::AdamParamState&>(*it->second);
    if (!s.exp_avg().is_alias_of(flat_exp_avg_) || !s.exp_avg_sq().is_alias_of(flat_exp_avg_sq_)) {
      return false;
    }
  }
  return true;
}

void FlatAdam::Flatten() {
  torch::NoGradGuard no_grad;
  const auto params = Params();
  // Each slice starts on a 64-byte boundary, as a tensor of its own would (vectorised kernels
  // and oneDNN prefer it); the gaps stay zero in every buffer, so they never move.
  constexpr int64_t kAlign = 16;
  const auto padded = [](int64_t k) { return (k + kAlign - 1) / kAlign * kAlign; };
  int64_t n = 0;
  for (const auto& p : params) n += padded(p.numel());
  const auto options = params.at(0).options();
  auto param = torch::zeros({n}, options);
  auto grad = torch::zeros({n}, options);
  auto exp_avg = torch::zeros({n}, options);
  auto exp_avg_sq = torch::zeros({n}, options);
  int64_t offset = 0;
  for (auto p : params) {
    const int64_t k = p.numel();
    const auto view = [&](torch::Tensor& flat) {
      return flat.narrow(0, offset, k).view(p.sizes());
    };
    auto pv = view(param);
    pv.copy_(p);
    auto gv = view(grad);
    gv.copy_(p.grad());
    auto mv = view(exp_avg);
    auto vv = view(exp_avg_sq);
    auto it = state_.find(Key(p));
    int64_t step = 0;
    if (it != state_.end()) {
      auto& s = static_cast<torch::optim::AdamParamState&>(*it->second);
      mv.copy_(s.exp_avg());
      vv.copy_(s.exp_avg_sq());
      step = s.step();
    }
    auto fresh = std::make_unique<torch::optim::AdamParamState>();
    fresh->step(step);
    fresh->exp_avg(mv);
    fresh->exp_avg_sq(vv);
    state_[Key(p)] = std::move(fresh);
    p.set_data(pv);
    p.mutable_grad() = gv;
    offset += padded(k);
  }
  flat_param_ = param;
  flat_grad_ = grad;
  flat_exp_avg_ = exp_avg;
  flat_exp_avg_sq_ = exp_avg_sq;
}

torch::Tensor FlatAdam::step(LossClosure closure) {
  if (!flat()) {
    if (!CanFlatten()) return torch::optim::Adam::step(std::move(closure));
    Flatten();
  }
  torch::NoGradGuard no_grad;
  torch::Tensor loss;
  if (closure) {
    at::AutoGradMode enable_grad(true);
    loss = closure();
  }
  const auto& o = static_cast<const torch::optim::AdamOptions&>(param_groups_[0].options());
  int64_t step = 0;
  for (const auto& p : param_groups_[0].params()) {
    auto& s = static_cast<torch::optim::AdamParamState&>(*state_.at(Key(p)));
    s.step(s.step() + 1);
    step = s.step();
  }
  const double beta1 = std::get<0>(o.betas()), beta2 = std::get<1>(o.betas());
  const double bias_correction1 = 1 - std::pow(beta1, static_cast<double>(step));
  const double bias_correction2 = 1 - std::pow(beta2, static_cast<double>(step));
  // Adam's own sequence (torch/csrc/api/src/optim/adam.cpp), on the flat buffers.
  flat_exp_avg_.mul_(beta1).add_(flat_grad_, 1 - beta1);
  flat_exp_avg_sq_.mul_(beta2).addcmul_(flat_grad_, flat_grad_, 1 - beta2);
  auto denom = (flat_exp_avg_sq_.sqrt() / std::sqrt(bias_correction2)).add_(o.eps());
  flat_param_.addcdiv_(flat_exp_avg_, denom, -o.lr() / bias_correction1);
  // set_data gave each parameter its own version counter, which an in-place change of the flat
  // buffer does not touch; bump it as an in-place step on the parameter itself would, so that
  // autograd's saved-tensor checks and caches keyed on versions (the mission encoder's) see it.
  for (const auto& p : param_groups_[0].params()) torch::autograd::impl::bump_version(p);
  return loss;
}

double ClipGradNorm(const std::vector<torch::Tensor>& params, double max_norm) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> grads;
  for (const auto& p : params) {
    if (p.grad().defined()) grads.push_back(p.grad());
  }
  if (grads.empty()) return 0.0;
  std::vector<torch::Tensor> norms;
  norms.reserve(grads.size());
  for (const auto& g : grads) norms.push_back(g.norm(2));
  const double total = torch::stack(norms).norm(2).item<double>();
  if (max_norm > 0.0 && total > max_norm) {
    for (auto& g : grads) g.mul_(max_norm / (total + 1e-6));
  }
  return total;
}

double FlatAdam::ClipGradNorm(double max_norm) {
  torch::NoGradGuard no_grad;
  if (!flat() && CanFlatten()) Flatten();
  if (!flat()) return agents::ClipGradNorm(Params(), max_norm);
  const double total = flat_grad_.norm(2).item<double>();
  if (max_norm > 0.0 && total > max_norm) flat_grad_.mul_(max_norm / (total + 1e-6));
  return total;
}

void FlatAdam::save(torch::serialize::OutputArchive& archive) const {
  // The moments are views into the flat buffers; serialise standalone copies so the checkpoint
  // holds each parameter's moments only, as torch::optim::Adam's does.
  auto& self = const_cast<FlatAdam&>(*this);
  std::vector<std::pair<torch::Tensor, torch::Tensor>> views;
  for (auto& item : self.state_) {
    auto& s = static_cast<torch::optim::AdamParamState&>(*item.second);
    views.emplace_back(s.exp_avg(), s.exp_avg_sq());
    s.exp_avg(s.exp_avg().clone());
    s.exp_avg_sq(s.exp_avg_sq().clone());
  }
  torch::optim::Adam::save(archive);
  size_t i = 0;
  for (auto& item : self.state_) {
    auto& s = static_cast<torch::optim::AdamParamState&>(*item.second);
    s.exp_avg(views[i].first);
    s.exp_avg_sq(views[i].second);
    ++i;
  }
}

}  // namespace rimlab::agents
