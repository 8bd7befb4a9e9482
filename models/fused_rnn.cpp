#include "models/fused_rnn.h"

#include "models/gemm.h"

#include <cmath>
#include <stdexcept>
#include <utility>

namespace rimlab::models {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// tanh through exp: one libm call instead of tanhf's several; the absolute error stays near 1e-7.
inline float Tanh(float x) {
  return 2.0f / (1.0f + std::exp(-2.0f * x)) - 1.0f;
}

/// `gates` ([B, 4H] rows) holds sigmoid(i, f, 2g, o) (torch's vectorised sigmoid, with the g
/// pre-activations doubled beforehand, since tanh(x) = 2 sigmoid(2x) - 1); the g block becomes
/// tanh(g) in place. Then the new cell state, its tanh (kept for backward) and the hidden state.
void PointwiseForward(float* gates, const float* c_prev, float* c_new, float* tanh_c, float* h_new,
                      int64_t batch, int64_t hidden) {
  for (int64_t b = 0; b < batch; ++b) {
    float* gi = gates + b * 4 * hidden;
    float* gf = gi + hidden;
    float* gg = gi + 2 * hidden;
    float* go = gi + 3 * hidden;
    const float* cp = c_prev + b * hidden;
    float* cn = c_new + b * hidden;
    float* tc = tanh_c + b * hidden;
    float* hn = h_new + b * hidden;
    for (int64_t j = 0; j < hidden; ++j) {
      const float g = 2.0f * gg[j] - 1.0f;
      gg[j] = g;
      const float c = gf[j] * cp[j] + gi[j] * g;
      cn[j] = c;
      tc[j] = Tanh(c);
      hn[j] = go[j] * tc[j];
    }
  }
}

/// From the gradients reaching h_t (dh) and c_t (dc), the gradients of the gate pre-activations
/// (into dgates) and of the reset previous cell state (into dc, overwritten).
void PointwiseBackward(const float* gates, const float* tanh_c, const float* c_prev,
                       const float* dh, float* dc, float* dgates, int64_t batch, int64_t hidden) {
  for (int64_t b = 0; b < batch; ++b) {
    const float* gi = gates + b * 4 * hidden;
    const float* gf = gi + hidden;
    const float* gg = gi + 2 * hidden;
    const float* go = gi + 3 * hidden;
    float* di = dgates + b * 4 * hidden;
    float* df = di + hidden;
    float* dg = di + 2 * hidden;
    float* dout = di + 3 * hidden;
    const float* tcb = tanh_c + b * hidden;
    const float* cp = c_prev + b * hidden;
    const float* dhb = dh + b * hidden;
    float* dcb = dc + b * hidden;
    for (int64_t j = 0; j < hidden; ++j) {
      const float i = gi[j], f = gf[j], g = gg[j], o = go[j];
      const float tc = tcb[j];
      const float dct = dcb[j] + dhb[j] * o * (1.0f - tc * tc);
      di[j] = dct * g * i * (1.0f - i);
      df[j] = dct * cp[j] * f * (1.0f - f);
      dg[j] = dct * i * (1.0f - g * g);
      dout[j] = dhb[j] * tc * o * (1.0f - o);
      dcb[j] = dct * f;
    }
  }
}

/// dst[b, :] = src[b, :] * keep[b] (keep null: a copy).
void ScaleRows(const float* src, const float* keep, float* dst, int64_t batch, int64_t hidden) {
  for (int64_t b = 0; b < batch; ++b) {
    const float k = keep != nullptr ? keep[b] : 1.0f;
    for (int64_t j = 0; j < hidden; ++j) dst[b * hidden + j] = src[b * hidden + j] * k;
  }
}

/// The gradient reaching a final state output, or zeros when nothing used that output.
torch::Tensor FinalStateGrad(const torch::Tensor& grad, int64_t batch, int64_t hidden,
                             const torch::TensorOptions& opts) {
  return grad.defined() ? grad.contiguous().clone() : torch::zeros({batch, hidden}, opts);
}

/// The saved keep factors, undefined for "no resets" (saved as an empty tensor).
torch::Tensor SavedKeep(const torch::Tensor& saved) {
  return saved.numel() > 0 ? saved : torch::Tensor();
}

/// Adds step t's slice of the outputs' gradient (if any) to dh.
void AddOutputGrad(const torch::Tensor& d_outputs, int64_t t, float* dh, int64_t cells) {
  if (!d_outputs.defined()) return;
  const float* d = d_outputs.data_ptr<float>() + t * cells;
  for (int64_t i = 0; i < cells; ++i) dh[i] += d[i];
}

/// Gradients of weight_hh and bias_hh from the recurrent projections' gradients ([T, B, G H]) and
/// the (reset) previous hidden states ([T, B, H]): one matrix product over all steps.
std::pair<torch::Tensor, torch::Tensor> RecurrentParamGrads(const torch::Tensor& d_proj,
                                                            const torch::Tensor& h_prev) {
  auto flat = d_proj.view({-1, d_proj.size(2)});
  return {torch::mm(flat.t(), h_prev.view({flat.size(0), h_prev.size(2)})), flat.sum(0)};
}

class FusedLstmFunction : public torch::autograd::Function<FusedLstmFunction> {
 public:
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& xg,
                               const torch::Tensor& h0, const torch::Tensor& c0,
                               const torch::Tensor& weight_hh, const torch::Tensor& bias_hh,
                               const torch::Tensor& keep) {
    const int64_t steps = xg.size(0), batch = xg.size(1), hidden = weight_hh.size(1);
    const auto opts = xg.options();
    const auto w = weight_hh.contiguous();
    // The recurrent bias joins the input projections once for all steps; the g block of the
    // pre-activations and of the recurrent weights is doubled (see PointwiseForward).
    auto pre = (xg + bias_hh).contiguous();
    pre.narrow(2, 2 * hidden, hidden).mul_(2.0f);
    auto w2 = w.clone();
    w2.narrow(0, 2 * hidden, hidden).mul_(2.0f);
    auto gates = torch::empty({steps, batch, 4 * hidden}, opts);  // activations, for backward
    auto h_prev = torch::empty({steps, batch, hidden}, opts);     // reset h_{t-1}: matmul input
    auto c_prev = torch::empty({steps, batch, hidden}, opts);     // reset c_{t-1}
    auto hs = torch::empty({steps, batch, hidden}, opts);
    auto cs = torch::empty({steps, batch, hidden}, opts);
    auto tanh_cs = torch::empty({steps, batch, hidden}, opts);
    const auto k = keep.numel() > 0 ? keep.contiguous() : torch::Tensor();
    auto h = h0.contiguous();
    auto c = c0.contiguous();
    // W_hh^T, packed once for every step's product (models/gemm.h).
    WeightOperand whh;
    whh.Set(true, hidden, 4 * hidden, w2.data_ptr<float>(), hidden, steps, batch);
    for (int64_t t = 0; t < steps; ++t) {
      const float* kt = k.defined() ? k.data_ptr<float>() + t * batch : nullptr;
      ScaleRows(h.data_ptr<float>(), kt, h_prev[t].data_ptr<float>(), batch, hidden);
      ScaleRows(c.data_ptr<float>(), kt, c_prev[t].data_ptr<float>(), batch, hidden);
      auto g = gates[t];
      g.copy_(pre[t]);
      whh.Multiply(batch, h_prev[t].data_ptr<float>(), hidden, 1.0f, g.data_ptr<float>(),
                   4 * hidden);
      torch::sigmoid_(g);
      PointwiseForward(g.data_ptr<float>(), c_prev[t].data_ptr<float>(), cs[t].data_ptr<float>(),
                       tanh_cs[t].data_ptr<float>(), hs[t].data_ptr<float>(), batch, hidden);
      h = hs[t];
      c = cs[t];
    }
    ctx->save_for_backward({gates, tanh_cs, h_prev, c_prev, w, keep});
    // The final state as tensors of their own: outputs of one node must not be views of each
    // other.
    return {hs, hs[steps - 1].clone(), cs[steps - 1].clone()};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& gates = saved[0];
    const auto& tanh_cs = saved[1];
    const auto& h_prev = saved[2];
    const auto& c_prev = saved[3];
    const auto& w = saved[4];
    const auto k = SavedKeep(saved[5]);
    const int64_t steps = gates.size(0), batch = gates.size(1), hidden = w.size(1);
    const auto opts = gates.options();
    const auto d_outputs = grads[0].defined() ? grads[0].contiguous() : torch::Tensor();
    auto dh = FinalStateGrad(grads[1], batch, hidden, opts);
    auto dc = FinalStateGrad(grads[2], batch, hidden, opts);
    auto dgates = torch::empty({steps, batch, 4 * hidden}, opts);
    auto dh_prev = torch::empty({batch, hidden}, opts);
    float* dhp = dh.data_ptr<float>();
    float* dcp = dc.data_ptr<float>();
    const int64_t cells = batch * hidden;
    WeightOperand whh;
    whh.Set(false, 4 * hidden, hidden, w.data_ptr<float>(), hidden, steps, batch);
    for (int64_t t = steps - 1; t >= 0; --t) {
      AddOutputGrad(d_outputs, t, dhp, cells);
      auto dg = dgates[t];
      PointwiseBackward(gates[t].data_ptr<float>(), tanh_cs[t].data_ptr<float>(),
                        c_prev[t].data_ptr<float>(), dhp, dcp, dg.data_ptr<float>(), batch, hidden);
      whh.Multiply(batch, dg.data_ptr<float>(), 4 * hidden, 0.0f, dh_prev.data_ptr<float>(),
                   hidden);
      // Through the reset: the state before it got the gradient times its keep factor.
      const float* kt = k.defined() ? k.data_ptr<float>() + t * batch : nullptr;
      ScaleRows(dh_prev.data_ptr<float>(), kt, dhp, batch, hidden);
      ScaleRows(dcp, kt, dcp, batch, hidden);
    }
    auto [d_weight, d_bias] = RecurrentParamGrads(dgates, h_prev);
    return {dgates, dh, dc, d_weight, d_bias, torch::Tensor()};
  }
};

/// GRU forward, one step: `rz` ([B, 2H] rows) holds sigmoid(r, z); hg ([B, 3H] rows) the recurrent
/// projections with bias_hh; x ([B, 3H] rows) the input projections. Writes n and the new h.
void GruPointwiseForward(const float* x, const float* rz, const float* hg, const float* h_prev,
                         float* n_out, float* h_new, int64_t batch, int64_t hidden) {
  for (int64_t b = 0; b < batch; ++b) {
    const float* xn = x + b * 3 * hidden + 2 * hidden;
    const float* r = rz + b * 2 * hidden;
    const float* z = r + hidden;
    const float* hn = hg + b * 3 * hidden + 2 * hidden;
    const float* hp = h_prev + b * hidden;
    float* n = n_out + b * hidden;
    float* h = h_new + b * hidden;
    for (int64_t j = 0; j < hidden; ++j) {
      n[j] = Tanh(xn[j] + r[j] * hn[j]);
      h[j] = n[j] + z[j] * (hp[j] - n[j]);
    }
  }
}

/// GRU backward, one step: from dh (the gradient reaching h_t) the gradients of the input
/// projections (dx, [B, 3H] rows) and of the recurrent projections (dhg); dh becomes the part of
/// the gradient of h_{t-1} that bypasses the matrix product (dh * z).
void GruPointwiseBackward(const float* rz, const float* n, const float* hg, const float* h_prev,
                          float* dh, float* dx, float* dhg, int64_t batch, int64_t hidden) {
  for (int64_t b = 0; b < batch; ++b) {
    const float* r = rz + b * 2 * hidden;
    const float* z = r + hidden;
    const float* nb = n + b * hidden;
    const float* hn = hg + b * 3 * hidden + 2 * hidden;
    const float* hp = h_prev + b * hidden;
    float* dhb = dh + b * hidden;
    float* dxr = dx + b * 3 * hidden;
    float* dxz = dxr + hidden;
    float* dxn = dxr + 2 * hidden;
    float* dgr = dhg + b * 3 * hidden;
    float* dgz = dgr + hidden;
    float* dgn = dgr + 2 * hidden;
    for (int64_t j = 0; j < hidden; ++j) {
      const float d = dhb[j];
      const float dn = d * (1.0f - z[j]) * (1.0f - nb[j] * nb[j]);
      const float dz = d * (hp[j] - nb[j]) * z[j] * (1.0f - z[j]);
      const float dr = dn * hn[j] * r[j] * (1.0f - r[j]);
      dxr[j] = dr;
      dxz[j] = dz;
      dxn[j] = dn;
      dgr[j] = dr;
      dgz[j] = dz;
      dgn[j] = dn * r[j];
      dhb[j] = d * z[j];
    }
  }
}

class FusedGruFunction : public torch::autograd::Function<FusedGruFunction> {
 public:
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& xg,
                               const torch::Tensor& h0, const torch::Tensor& weight_hh,
                               const torch::Tensor& bias_hh, const torch::Tensor& keep) {
    const int64_t steps = xg.size(0), batch = xg.size(1), hidden = weight_hh.size(1);
    const auto opts = xg.options();
    const auto w = weight_hh.contiguous();
    const auto x = xg.contiguous();
    auto hg = torch::empty({steps, batch, 3 * hidden}, opts);  // W_hh h_{t-1} + b_hh
    auto rz = torch::empty({steps, batch, 2 * hidden}, opts);  // sigmoid(r), sigmoid(z)
    auto ns = torch::empty({steps, batch, hidden}, opts);
    auto h_prev = torch::empty({steps, batch, hidden}, opts);  // reset h_{t-1}
    auto hs = torch::empty({steps, batch, hidden}, opts);
    const auto k = keep.numel() > 0 ? keep.contiguous() : torch::Tensor();
    auto h = h0.contiguous();
    const auto bias = bias_hh.contiguous();
    WeightOperand whh;
    whh.Set(true, hidden, 3 * hidden, w.data_ptr<float>(), hidden, steps, batch);
    for (int64_t t = 0; t < steps; ++t) {
      const float* kt = k.defined() ? k.data_ptr<float>() + t * batch : nullptr;
      ScaleRows(h.data_ptr<float>(), kt, h_prev[t].data_ptr<float>(), batch, hidden);
      auto g = hg[t];
      g.copy_(bias.unsqueeze(0).expand({batch, 3 * hidden}));
      whh.Multiply(batch, h_prev[t].data_ptr<float>(), hidden, 1.0f, g.data_ptr<float>(),
                   3 * hidden);
      auto r = rz[t];
      torch::add_out(r, x[t].narrow(1, 0, 2 * hidden), g.narrow(1, 0, 2 * hidden));
      torch::sigmoid_(r);
      GruPointwiseForward(x[t].data_ptr<float>(), r.data_ptr<float>(), g.data_ptr<float>(),
                          h_prev[t].data_ptr<float>(), ns[t].data_ptr<float>(),
                          hs[t].data_ptr<float>(), batch, hidden);
      h = hs[t];
    }
    ctx->save_for_backward({rz, ns, hg, h_prev, w, keep});
    return {hs, hs[steps - 1].clone()};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& rz = saved[0];
    const auto& ns = saved[1];
    const auto& hg = saved[2];
    const auto& h_prev = saved[3];
    const auto& w = saved[4];
    const auto k = SavedKeep(saved[5]);
    const int64_t steps = rz.size(0), batch = rz.size(1), hidden = w.size(1);
    const auto opts = rz.options();
    const auto d_outputs = grads[0].defined() ? grads[0].contiguous() : torch::Tensor();
    auto dh = FinalStateGrad(grads[1], batch, hidden, opts);
    auto dx = torch::empty({steps, batch, 3 * hidden}, opts);
    auto dhg = torch::empty({steps, batch, 3 * hidden}, opts);
    auto dh_mm = torch::empty({batch, hidden}, opts);
    float* dhp = dh.data_ptr<float>();
    const int64_t cells = batch * hidden;
    WeightOperand whh;
    whh.Set(false, 3 * hidden, hidden, w.data_ptr<float>(), hidden, steps, batch);
    for (int64_t t = steps - 1; t >= 0; --t) {
      AddOutputGrad(d_outputs, t, dhp, cells);
      auto dg = dhg[t];
      GruPointwiseBackward(rz[t].data_ptr<float>(), ns[t].data_ptr<float>(),
                           hg[t].data_ptr<float>(), h_prev[t].data_ptr<float>(), dhp,
                           dx[t].data_ptr<float>(), dg.data_ptr<float>(), batch, hidden);
      whh.Multiply(batch, dg.data_ptr<float>(), 3 * hidden, 0.0f, dh_mm.data_ptr<float>(), hidden);
      const float* kt = k.defined() ? k.data_ptr<float>() + t * batch : nullptr;
      const float* mm = dh_mm.data_ptr<float>();
      for (int64_t i = 0; i < cells; ++i) dhp[i] += mm[i];
      ScaleRows(dhp, kt, dhp, batch, hidden);
    }
    auto [d_weight, d_bias] = RecurrentParamGrads(dhg, h_prev);
    return {dx, dh, d_weight, d_bias, torch::Tensor()};
  }
};

}  // namespace

bool FusedRnnSupported(const torch::Tensor& xg, const torch::Tensor& weight_hh) {
  return xg.device().is_cpu() && xg.scalar_type() == torch::kFloat32 &&
         weight_hh.scalar_type() == torch::kFloat32 && xg.dim() == 3 && xg.size(0) > 0;
}

FusedRnnOutput FusedLstmUnroll(const torch::Tensor& xg, const torch::Tensor& h0,
                               const torch::Tensor& c0, const torch::Tensor& weight_hh,
                               const torch::Tensor& bias_hh, const torch::Tensor& keep) {
  if (!FusedRnnSupported(xg, weight_hh)) {
    throw std::invalid_argument("FusedLstmUnroll: needs float32 CPU tensors, xg [T >= 1, B, 4H]");
  }
  const int64_t hidden = weight_hh.size(1);
  if (xg.size(2) != 4 * hidden || weight_hh.size(0) != 4 * hidden ||
      h0.sizes() != torch::IntArrayRef({xg.size(1), hidden}) || c0.sizes() != h0.sizes() ||
      (keep.defined() && keep.sizes() != torch::IntArrayRef({xg.size(0), xg.size(1)}))) {
    throw std::invalid_argument("FusedLstmUnroll: shapes do not match");
  }
  // An empty tensor for "no resets": a custom function's inputs must all be defined.
  auto k = keep.defined() ? keep.to(torch::kFloat32).contiguous() : torch::empty({0}, xg.options());
  auto out = FusedLstmFunction::apply(xg, h0.to(torch::kFloat32), c0.to(torch::kFloat32), weight_hh,
                                      bias_hh, k);
  return {out[0], out[1], out[2]};
}

}  // namespace rimlab::models

namespace rimlab::models {

FusedRnnOutput FusedGruUnroll(const torch::Tensor& xg, const torch::Tensor& h0,
                              const torch::Tensor& weight_hh, const torch::Tensor& bias_hh,
                              const torch::Tensor& keep) {
  if (!FusedRnnSupported(xg, weight_hh)) {
    throw std::invalid_argument("FusedGruUnroll: needs float32 CPU tensors, xg [T >= 1, B, 3H]");
  }
  const int64_t hidden = weight_hh.size(1);
  if (xg.size(2) != 3 * hidden || weight_hh.size(0) != 3 * hidden ||
      h0.sizes() != torch::IntArrayRef({xg.size(1), hidden}) ||
      (keep.defined() && keep.sizes() != torch::IntArrayRef({xg.size(0), xg.size(1)}))) {
    throw std::invalid_argument("FusedGruUnroll: shapes do not match");
  }
  auto k = keep.defined() ? keep.to(torch::kFloat32).contiguous() : torch::empty({0}, xg.options());
  auto out = FusedGruFunction::apply(xg, h0.to(torch::kFloat32), weight_hh, bias_hh, k);
  return {out[0], out[1], torch::Tensor()};
}

}  // namespace rimlab::models
