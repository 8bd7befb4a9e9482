#include "models/recurrent_core.h"

#include <stdexcept>

namespace rimlab::models {

namespace {
template <typename Fn>
State Map(const State& state, Fn fn) {
  State out;
  out.tensors.reserve(state.tensors.size());
  for (const auto& t : state.tensors) out.tensors.push_back(fn(t));
  return out;
}

template <typename Fn>
State Combine(const std::vector<State>& states, Fn fn) {
  if (states.empty()) throw std::invalid_argument("CatStates/StackStates: no states");
  State out;
  const size_t n = states.front().tensors.size();
  for (size_t i = 0; i < n; ++i) {
    std::vector<torch::Tensor> parts;
    parts.reserve(states.size());
    for (const auto& s : states) {
      if (s.tensors.size() != n) throw std::invalid_argument("states of different cores");
      parts.push_back(s.tensors[i]);
    }
    out.tensors.push_back(fn(parts));
  }
  return out;
}
}  // namespace

State IndexState(const State& state, const torch::Tensor& index) {
  return Map(state, [&](const torch::Tensor& t) { return t.index_select(0, index); });
}

State CatStates(const std::vector<State>& states) {
  return Combine(states, [](const std::vector<torch::Tensor>& p) { return torch::cat(p, 0); });
}

State StackStates(const std::vector<State>& states) {
  return Combine(states, [](const std::vector<torch::Tensor>& p) { return torch::stack(p, 0); });
}

State SelectState(const State& state, int64_t i) {
  return Map(state, [&](const torch::Tensor& t) { return t.select(0, i); });
}

State DetachState(const State& state) {
  return Map(state, [](const torch::Tensor& t) { return t.detach(); });
}

State ResetState(const State& state, const torch::Tensor& reset_mask) {
  if (!reset_mask.defined()) return state;
  return Map(state, [&](const torch::Tensor& t) {
    auto keep = detail::KeepFactor(reset_mask, t);
    // Broadcast the [B, 1] factor over every trailing dim of this tensor.
    std::vector<int64_t> shape(static_cast<size_t>(t.dim()), 1);
    shape[0] = t.size(0);
    return t * keep.view(shape);
  });
}

UnrollOutput RecurrentCoreImpl::Unroll(const torch::Tensor& inputs, const State& state,
                                       const torch::Tensor& resets) {
  const int64_t steps = inputs.size(0);
  std::vector<torch::Tensor> outputs;
  std::vector<CoreInfo> infos;
  outputs.reserve(static_cast<size_t>(steps));
  infos.reserve(static_cast<size_t>(steps));
  State s = state;
  for (int64_t t = 0; t < steps; ++t) {
    auto step = Step(inputs[t], s, resets.defined() ? resets[t] : torch::Tensor());
    outputs.push_back(step.output);
    infos.push_back(step.info);
    s = std::move(step.state);
  }
  return {torch::stack(outputs, 0), s, detail::StackInfos(infos)};
}

int64_t RecurrentCoreImpl::NumParameters() const {
  int64_t n = 0;
  for (const auto& p : parameters()) {
    if (p.requires_grad()) n += p.numel();
  }
  return n;
}

namespace detail {

torch::Tensor FlattenInput(const torch::Tensor& input, int64_t width, const char* who) {
  torch::Tensor x = input.dim() == 3 ? input.flatten(1) : input;
  if (x.dim() != 2 || x.size(1) != width) {
    throw std::invalid_argument(std::string(who) + ": expected input [B, " + std::to_string(width) +
                                "] or a set [B, M, d] with M*d = " + std::to_string(width) +
                                ", got " + c10::str(input.sizes()));
  }
  return x;
}

torch::Tensor KeepFactor(const torch::Tensor& reset_mask, const torch::Tensor& like) {
  auto flagged = reset_mask.to(torch::kBool).reshape({-1, 1});
  return flagged.logical_not().to(like.options());
}

CoreInfo StackInfos(const std::vector<CoreInfo>& infos) {
  CoreInfo out;
  if (infos.empty()) return out;
  auto stack = [&](torch::Tensor CoreInfo::*field) {
    if (!(infos.front().*field).defined()) return torch::Tensor();
    std::vector<torch::Tensor> parts;
    parts.reserve(infos.size());
    for (const auto& i : infos) parts.push_back(i.*field);
    return torch::stack(parts, 0);
  };
  out.mask = stack(&CoreInfo::mask);
  out.input_attention = stack(&CoreInfo::input_attention);
  out.comm_attention = stack(&CoreInfo::comm_attention);
  return out;
}

}  // namespace detail
}  // namespace rimlab::models
