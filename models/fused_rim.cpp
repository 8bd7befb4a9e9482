#include "models/fused_rim.h"

#include <vector>

#include "models/fused_rim_internal.h"

namespace rimlab::models {

namespace {

using fused_rim::Buffers;
using fused_rim::Weights;
using torch::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

/// Saved tensors travel in saved_data, where an undefined tensor is kept as an empty one.
Tensor Opt(const Tensor& t) {
  return t.defined() ? t : torch::empty({0});
}
Tensor FromOpt(const at::IValue& v) {
  auto t = v.toTensor();
  return t.numel() > 0 ? t : Tensor();
}

const char* const kBufferNames[] = {"xh",    "cp",   "q",      "att",   "mask", "rdn",
                                    "gates", "ghn",  "tanh_c", "hcand", "qkv",  "catt",
                                    "z",     "gate", "branch", "cnoise"};

std::vector<Tensor*> BufferFields(Buffers& s) {
  return {&s.xh,    &s.cp,   &s.q,      &s.att,       &s.mask, &s.read_noise,
          &s.gates, &s.gh_n, &s.tanh_c, &s.h_cand,    &s.qkv,  &s.comm_att,
          &s.z,     &s.gate, &s.branch, &s.comm_noise};
}

class FusedRimFunction : public torch::autograd::Function<FusedRimFunction> {
 public:
  /// Optional inputs (c0, keep, b_hh, the communication weights) arrive as empty tensors:
  /// autograd records every input's device, which an undefined tensor does not have.
  static variable_list forward(AutogradContext* ctx, FusedRimConfig cfg, const Tensor& kv,
                               const Tensor& h0, const Tensor& c0_opt, const Tensor& keep_opt,
                               const Tensor& wq, const Tensor& wih, const Tensor& whh,
                               const Tensor& bih, const Tensor& bhh, const Tensor& wc,
                               const Tensor& wo, const Tensor& bo) {
    const auto kvc = kv.contiguous();
    const Tensor c0 = FromOpt(c0_opt), keep = FromOpt(keep_opt);
    Weights w{wq, wih, whh, bih, FromOpt(bhh), FromOpt(wc), FromOpt(wo), FromOpt(bo), Tensor()};
    w.wx = fused_rim::StackUnitWeights(cfg, kvc.size(0), w);
    Buffers s = fused_rim::Forward(cfg, kvc, h0, c0, keep, w);
    auto& data = ctx->saved_data;
    data["top_k"] = cfg.top_k;
    data["n"] = cfg.input_heads;
    data["dk"] = cfg.input_key_size;
    data["dv"] = cfg.input_value_size;
    data["nc"] = cfg.comm_heads;
    data["dkc"] = cfg.comm_key_size;
    data["dvc"] = cfg.comm_value_size;
    data["lstm"] = cfg.lstm;
    data["comm"] = cfg.communication;
    data["kv"] = kvc;
    data["keep"] = Opt(keep);
    data["wx"] = Opt(w.wx);
    const auto fields = BufferFields(s);
    for (size_t i = 0; i < fields.size(); ++i) data[kBufferNames[i]] = Opt(*fields[i]);
    ctx->save_for_backward({wq, wih, whh, Opt(bih), Opt(bhh), Opt(wc), Opt(wo), Opt(bo)});
    auto mask = s.mask.clone();
    auto att = s.att_mean;
    auto comm = cfg.communication ? s.comm_mean : torch::empty({0}, kv.options());
    ctx->mark_non_differentiable({mask, att, comm});
    return {s.outputs, s.h, cfg.lstm ? s.c : torch::empty({0}, kv.options()), mask, att, comm};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto& data = ctx->saved_data;
    FusedRimConfig cfg;
    cfg.top_k = data["top_k"].toInt();
    cfg.input_heads = data["n"].toInt();
    cfg.input_key_size = data["dk"].toInt();
    cfg.input_value_size = data["dv"].toInt();
    cfg.comm_heads = data["nc"].toInt();
    cfg.comm_key_size = data["dkc"].toInt();
    cfg.comm_value_size = data["dvc"].toInt();
    cfg.lstm = data["lstm"].toBool();
    cfg.communication = data["comm"].toBool();
    const auto saved = ctx->get_saved_variables();
    Weights w{saved[0],          saved[1],          saved[2],
              FromOpt(saved[3]), FromOpt(saved[4]), FromOpt(saved[5]),
              FromOpt(saved[6]), FromOpt(saved[7]), Tensor()};
    w.wx = FromOpt(data["wx"]);
    Buffers s;
    const auto fields = BufferFields(s);
    for (size_t i = 0; i < fields.size(); ++i) *fields[i] = FromOpt(data[kBufferNames[i]]);
    const Tensor d_c = cfg.lstm ? grads[2] : Tensor();
    auto g = fused_rim::Backward(cfg, data["kv"].toTensor(), FromOpt(data["keep"]), w, s, grads[0],
                                 grads[1], d_c);
    return {Tensor(), g.dkv,  g.dh0,  g.dc0, Tensor(), g.dwq, g.dwih,
            g.dwhh,   g.dbih, g.dbhh, g.dwc, g.dwo,    g.dbo};
  }
};

}  // namespace

bool FusedRimSupported(const torch::Tensor& kv, const FusedRimWeights& w) {
  return kv.device().is_cpu() && kv.scalar_type() == torch::kFloat32 && w.input_query.defined() &&
         w.input_query.scalar_type() == torch::kFloat32;
}

FusedRimOutput FusedRimUnroll(const FusedRimConfig& config, const torch::Tensor& kv,
                              const torch::Tensor& h0, const torch::Tensor& c0,
                              const torch::Tensor& keep, const FusedRimWeights& w) {
  const auto keep_f = keep.defined() ? keep.to(torch::kFloat32).contiguous() : Tensor();
  // The passes index the weights as raw row-major buffers.
  const auto c = [](const Tensor& t) { return t.defined() ? t.contiguous() : t; };
  Weights ws{
      c(w.input_query),     c(w.w_ih),          c(w.w_hh), c(w.b_ih), c(w.b_hh), c(w.comm_qkv),
      c(w.comm_out_weight), c(w.comm_out_bias), Tensor()};
  bool needs_grad = false;
  for (const Tensor* t : std::initializer_list<const Tensor*>{
           &kv, &h0, &c0, &ws.wq, &ws.wih, &ws.whh, &ws.bih, &ws.bhh, &ws.wc, &ws.wo, &ws.bo}) {
    needs_grad = needs_grad || (t->defined() && t->requires_grad());
  }
  FusedRimOutput out;
  if (!needs_grad || !torch::GradMode::is_enabled()) {
    // Inference: the same forward, nothing kept for a backward.
    torch::NoGradGuard no_grad;
    ws.wx = fused_rim::StackUnitWeights(config, kv.size(0), ws);
    Buffers s = fused_rim::Forward(config, kv.contiguous(), h0, c0, keep_f, ws);
    out = {s.outputs, s.h, s.c, s.mask, s.att_mean, s.comm_mean};
    return out;
  }
  auto r = FusedRimFunction::apply(config, kv, h0, Opt(c0), Opt(keep_f), ws.wq, ws.wih, ws.whh,
                                   ws.bih, Opt(ws.bhh), Opt(ws.wc), Opt(ws.wo), Opt(ws.bo));
  out.outputs = r[0];
  out.h = r[1];
  if (config.lstm) out.c = r[2];
  out.mask = r[3];
  out.input_attention = r[4];
  if (config.communication) out.comm_attention = r[5];
  return out;
}

}  // namespace rimlab::models
