#include "models/rnn_cores.h"

#include "models/fused_rnn.h"

#include <cmath>
#include <stdexcept>

namespace rimlab::models {

GatedRNNCoreImpl::GatedRNNCoreImpl(RNNCoreOptions options_, int64_t gates, bool has_cell)
    : options(options_), gates_(gates), has_cell_(has_cell) {
  if (options.input_size() < 1 || options.hidden_size() < 1) {
    throw std::invalid_argument("LSTM/GRU core: input_size and hidden_size must be >= 1");
  }
  const int64_t g = gates_ * options.hidden_size();
  weight_ih = register_parameter("weight_ih", torch::empty({g, options.input_size()}));
  weight_hh = register_parameter("weight_hh", torch::empty({g, options.hidden_size()}));
  bias_ih = register_parameter("bias_ih", torch::empty({g}));
  bias_hh = register_parameter("bias_hh", torch::empty({g}));
  reset_parameters();
}

void GatedRNNCoreImpl::reset_parameters() {
  // torch::nn::LSTM/GRU's initialisation, so that size-matched comparisons start alike.
  const double bound = 1.0 / std::sqrt(static_cast<double>(options.hidden_size()));
  torch::NoGradGuard no_grad;
  for (auto& p : parameters()) p.uniform_(-bound, bound);
}

State GatedRNNCoreImpl::InitialState(int64_t batch) const {
  auto zeros = torch::zeros({batch, options.hidden_size()}, weight_hh.options());
  State s{{zeros}};
  if (has_cell_) s.tensors.push_back(torch::zeros_like(zeros));
  return s;
}

namespace {

/// [T, B] float keep factors (0 where a reset flag is set) from [T, B] or [B] flags.
torch::Tensor KeepFactors(const torch::Tensor& resets, int64_t steps, int64_t batch) {
  if (!resets.defined()) return {};
  return resets.to(torch::kBool).logical_not().to(torch::kFloat32).reshape({steps, batch});
}

}  // namespace

StepOutput GatedRNNCoreImpl::Step(const torch::Tensor& input, const State& state,
                                  const torch::Tensor& reset_mask) {
  auto x = detail::FlattenInput(input, options.input_size(), type().c_str());
  auto xg = torch::addmm(bias_ih, x, weight_ih.t());
  if (UseFused(xg)) {
    auto out = FusedUnroll(xg.unsqueeze(0), state, KeepFactors(reset_mask, 1, x.size(0)));
    return {out.outputs[0], out.state, {}};
  }
  State next = Cell(xg, ResetState(state, reset_mask));
  return {next.tensors[0], next, {}};
}

bool GatedRNNCoreImpl::UseFused(const torch::Tensor& xg) const {
  return fused && FusedRnnSupported(xg.dim() == 3 ? xg : xg.unsqueeze(0), weight_hh);
}

UnrollOutput GatedRNNCoreImpl::FusedUnroll(const torch::Tensor& /*xg*/, const State& /*state*/,
                                           const torch::Tensor& /*keep*/) {
  throw std::logic_error(type() + " core: no fused unroll");
}

UnrollOutput GatedRNNCoreImpl::Unroll(const torch::Tensor& inputs, const State& state,
                                      const torch::Tensor& resets) {
  const int64_t steps = inputs.size(0);
  const int64_t batch = inputs.size(1);
  auto flat = detail::FlattenInput(inputs.reshape({steps * batch, -1}), options.input_size(),
                                   type().c_str());
  auto xg = torch::addmm(bias_ih, flat, weight_ih.t()).view({steps, batch, -1});
  if (steps > 0 && UseFused(xg)) return FusedUnroll(xg, state, KeepFactors(resets, steps, batch));
  std::vector<torch::Tensor> outputs;
  outputs.reserve(static_cast<size_t>(steps));
  State s = state;
  // unbind, not xg[t]: the backward of T selects is T zero-filled [T, B, G] gradients summed,
  // the backward of one unbind is one stack.
  const auto xs = xg.unbind(0);
  for (int64_t t = 0; t < steps; ++t) {
    if (resets.defined()) s = ResetState(s, resets[t]);
    s = Cell(xs[static_cast<size_t>(t)], s);
    outputs.push_back(s.tensors[0]);
  }
  return {torch::stack(outputs, 0), s, {}};
}

UnrollOutput LSTMCoreImpl::FusedUnroll(const torch::Tensor& xg, const State& state,
                                       const torch::Tensor& keep) {
  auto out = FusedLstmUnroll(xg, state.tensors[0], state.tensors[1], weight_hh, bias_hh, keep);
  return {out.outputs, State{{out.h, out.c}}, {}};
}

State LSTMCoreImpl::Cell(const torch::Tensor& xg, const State& state) {
  const auto& h = state.tensors[0];
  const auto& c = state.tensors[1];
  auto g = torch::addmm(xg + bias_hh, h, weight_hh.t()).chunk(4, 1);
  auto c_new = torch::sigmoid(g[1]) * c + torch::sigmoid(g[0]) * torch::tanh(g[2]);
  auto h_new = torch::sigmoid(g[3]) * torch::tanh(c_new);
  return {{h_new, c_new}};
}

UnrollOutput GRUCoreImpl::FusedUnroll(const torch::Tensor& xg, const State& state,
                                      const torch::Tensor& keep) {
  auto out = FusedGruUnroll(xg, state.tensors[0], weight_hh, bias_hh, keep);
  return {out.outputs, State{{out.h}}, {}};
}

State GRUCoreImpl::Cell(const torch::Tensor& xg, const State& state) {
  const auto& h = state.tensors[0];
  auto hg = torch::addmm(bias_hh, h, weight_hh.t()).chunk(3, 1);
  auto xs = xg.chunk(3, 1);
  auto r = torch::sigmoid(xs[0] + hg[0]);
  auto z = torch::sigmoid(xs[1] + hg[1]);
  auto n = torch::tanh(xs[2] + r * hg[2]);
  // (1 - z) * n + z * h, written with one fewer temporary.
  auto h_new = n + z * (h - n);
  return {{h_new}};
}

int64_t GatedRNNParameterCount(int64_t input_size, int64_t hidden_size, int64_t gates) {
  return gates * hidden_size * (input_size + hidden_size + 2);
}

}  // namespace rimlab::models
