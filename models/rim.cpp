#include "models/rim.h"

#include "models/dropout_noise.h"
#include "models/fused_rim.h"

#include <cmath>
#include <stdexcept>

namespace rimlab::models {

namespace {
void Require(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument("RIMCell: " + message);
}

/// a [..., m, k] @ b [..., k, n]. The attention products have a large batch (B * heads) of tiny
/// matrices; CPU bmm walks such a batch one select() and one small gemm at a time (the profile
/// showed ~5,000 selects per step), so below a size threshold the product is a broadcast multiply
/// and a sum instead, a handful of vectorised kernels whatever the batch.
torch::Tensor SmallMatmul(const torch::Tensor& a, const torch::Tensor& b) {
  const int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
  if (m * k * n > 4096) return torch::matmul(a, b);
  return (a.unsqueeze(-1) * b.unsqueeze(-3)).sum(-2);
}

void InitUniform(torch::Tensor& t, int64_t fan_in) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  t.uniform_(-bound, bound);
}
}  // namespace

RIMCellImpl::RIMCellImpl(RIMCellOptions options_) : options(std::move(options_)) {
  const auto& o = options;
  Require(o.input_size() >= 1, "input_size must be >= 1");
  Require(o.num_units() >= 1, "num_units must be >= 1");
  Require(o.top_k() >= 1 && o.top_k() <= o.num_units(), "top_k must be in [1, num_units]");
  Require(o.unit_size() >= 1, "unit_size must be >= 1");
  Require(o.unit_cell() == "lstm" || o.unit_cell() == "gru", "unit_cell must be lstm or gru");
  Require(o.init() == "uniform" || o.init() == "authors", "init must be uniform or authors");
  Require(o.input_key_size() >= 1 && o.input_value_size() >= 0 && o.input_heads() >= 1,
          "input attention sizes must be positive");
  Require(o.comm_key_size() >= 1 && o.comm_value_size() >= 1 && o.comm_heads() >= 1,
          "communication sizes must be positive");
  Require(o.input_dropout() >= 0 && o.input_dropout() < 1 && o.comm_dropout() >= 0 &&
              o.comm_dropout() < 1,
          "dropout must be in [0, 1)");

  const int64_t K = o.num_units(), dh = o.unit_size(), n = o.input_heads();
  const int64_t key_width = o.input_attention() ? n * o.input_key_size() : 0;
  input_kv =
      register_parameter("input_kv", torch::empty({o.input_size(), key_width + value_width()}));
  if (o.input_attention()) {
    input_query = register_parameter("input_query", torch::empty({K, dh, key_width}));
  }
  const int64_t g = gates() * dh;
  unit_w_ih = register_parameter("unit_w_ih", torch::empty({K, value_width(), g}));
  unit_w_hh = register_parameter("unit_w_hh", torch::empty({K, dh, g}));
  unit_b_ih = register_parameter("unit_b_ih", torch::empty({K, 1, g}));
  if (!lstm_units()) unit_b_hh = register_parameter("unit_b_hh", torch::empty({K, 1, g}));
  if (o.communication()) {
    const int64_t nc = o.comm_heads();
    comm_qkv = register_parameter(
        "comm_qkv", torch::empty({K, dh, nc * (2 * o.comm_key_size() + o.comm_value_size())}));
    comm_out = register_module("comm_out", torch::nn::Linear(nc * o.comm_value_size(), 2 * dh));
  }
  reset_parameters();
}

void RIMCellImpl::reset_parameters() {
  torch::NoGradGuard no_grad;
  const int64_t dh = options.unit_size();
  const bool authors = options.init() == "authors";
  // The attention's query, key and value weights: the authors' GroupLinearLayer draws
  // 0.01 * N(0, 1). (The draws keep one order, so that a seed gives the same cell as before.)
  const auto attention = [&](torch::Tensor& t, int64_t fan_in) {
    if (!t.defined()) return;
    if (authors) {
      t.normal_(0.0, 0.01);
    } else {
      InitUniform(t, fan_in);
    }
  };
  attention(input_kv, options.input_size());
  attention(input_query, dh);
  // Unit weights as torch::nn::LSTMCell/GRUCell initialise theirs: 1/sqrt(hidden), the hidden
  // size being one unit's, or, as in the authors' code, all K units' together.
  const int64_t hidden = authors ? options.num_units() * dh : dh;
  for (auto* t : {&unit_w_ih, &unit_w_hh, &unit_b_ih, &unit_b_hh}) {
    if (t->defined()) InitUniform(*t, hidden);
  }
  attention(comm_qkv, dh);
  if (!comm_out.is_empty()) comm_out->reset_parameters();
}

State RIMCellImpl::InitialState(int64_t batch) const {
  auto zeros = torch::zeros({batch, options.num_units(), options.unit_size()}, unit_w_hh.options());
  State s{{zeros}};
  if (lstm_units()) s.tensors.push_back(torch::zeros_like(zeros));
  return s;
}

torch::Tensor RIMCellImpl::AsSet(const torch::Tensor& input, int64_t batch_dims) const {
  torch::Tensor x = input.dim() == batch_dims + 1 ? input.unsqueeze(-2) : input;
  if (x.dim() != batch_dims + 2 || x.size(-1) != options.input_size()) {
    throw std::invalid_argument(
        "RIMCell: expected input [..., d_in] or [..., M, d_in] with d_in = " +
        std::to_string(options.input_size()) + ", got " + c10::str(input.sizes()));
  }
  return x;
}

RIMCellImpl::Projected RIMCellImpl::Project(const torch::Tensor& x) const {
  // x [..., M, d_in]. Keys and values of every element (and every time step in Unroll) in one
  // product; the null element needs none because its key and value are exactly zero.
  auto kv = torch::matmul(x, input_kv);
  const int64_t n = options.input_heads();
  if (!options.input_attention()) return {torch::Tensor(), kv};
  const int64_t dk = options.input_key_size(), dv = options.resolved_input_value_size();
  auto split = [&](int64_t start, int64_t width) {
    auto part = kv.narrow(-1, start, n * width);
    auto sizes = part.sizes().vec();
    sizes.back() = width;
    sizes.insert(sizes.end() - 1, n);                           // [..., M, n, width]
    return part.reshape(sizes).transpose(-3, -2).contiguous();  // [..., n, M, width]
  };
  return {split(0, dk), split(n * dk, dv)};
}

torch::Tensor RIMCellImpl::Select(const torch::Tensor& score) const {
  // score [B, K]: lower wins. Rank each unit by how many units beat it, a tie going to the lower
  // index; exactly top_k ranks fall below top_k whatever the ties (torch::topk leaves tie order
  // unspecified).
  torch::NoGradGuard no_grad;
  const int64_t K = options.num_units();
  if (options.top_k() == K) return torch::ones(score.sizes(), score.options().dtype(torch::kBool));
  auto mine = score.unsqueeze(2);                                                  // [B, K(i), 1]
  auto other = score.unsqueeze(1);                                                 // [B, 1, K(j)]
  auto lower = torch::ones({K, K}, score.options().dtype(torch::kBool)).tril(-1);  // j < i
  auto beats = other.lt(mine).logical_or_(other.eq(mine).logical_and_(lower));
  return beats.sum(-1).lt(options.top_k());
}

RIMCellImpl::Inner RIMCellImpl::StepUnitMajor(const torch::Tensor& keys,
                                              const torch::Tensor& values, torch::Tensor h,
                                              torch::Tensor c, const torch::Tensor& keep) {
  const auto& o = options;
  const int64_t K = o.num_units(), B = h.size(1);
  if (keep.defined()) {
    h = h * keep;  // keep [B, 1] broadcasts over [K, B, d_h]
    if (c.defined()) c = c * keep;
  }
  Inner out;

  // 1-4: input attention, selection, read.
  torch::Tensor read, mask;
  if (o.input_attention()) {
    const int64_t n = o.input_heads(), dk = o.input_key_size(), M = keys.size(-2);
    auto q = torch::bmm(h, input_query).view({K, B, n, dk}).permute({1, 2, 0, 3});
    auto scores = SmallMatmul(q, keys.transpose(-1, -2)) / std::sqrt(static_cast<double>(dk));
    auto att = torch::softmax(torch::constant_pad_nd(scores, {1, 0}), -1);  // [B, n, K, M+1]
    read = SmallMatmul(att.narrow(-1, 1, M), values).permute({2, 0, 1, 3}).reshape({K, B, -1});
    auto att_mean = n == 1 ? att.squeeze(1) : att.mean(1);
    mask = Select(att_mean.select(-1, 0).detach());
    out.info.input_attention = att_mean;
  } else {
    // values [B, M, n*d_v]: every unit reads their mean; the record shows that uniform read.
    const int64_t M = values.size(-2);
    read = values.mean(-2).unsqueeze(0).expand({K, B, values.size(-1)}).contiguous();
    mask = Select(torch::rand({B, K}, h.options()));
    out.info.input_attention = torch::constant_pad_nd(
        torch::full({B, K, M}, 1.0 / static_cast<double>(M), h.options()), {1, 0});
  }
  read = Dropout(read, o.input_dropout(), is_training());

  // 5: every unit's own LSTM/GRU, all K in grouped products.
  torch::Tensor h_new, c_new;
  if (lstm_units()) {
    auto g = torch::baddbmm(torch::baddbmm(unit_b_ih, read, unit_w_ih), h, unit_w_hh).chunk(4, -1);
    c_new = torch::sigmoid(g[1]) * c + torch::sigmoid(g[0]) * torch::tanh(g[2]);
    h_new = torch::sigmoid(g[3]) * torch::tanh(c_new);
  } else {
    auto gx = torch::baddbmm(unit_b_ih, read, unit_w_ih).chunk(3, -1);
    auto gh = torch::baddbmm(unit_b_hh, h, unit_w_hh).chunk(3, -1);
    auto r = torch::sigmoid(gx[0] + gh[0]);
    auto z = torch::sigmoid(gx[1] + gh[1]);
    auto cand = torch::tanh(gx[2] + r * gh[2]);
    h_new = cand + z * (h - cand);
  }
  auto unit_mask = mask.t().unsqueeze(-1);  // [K, B, 1]

  // 6: communication. The gate is the identity forward and passes gradient only to active units.
  if (o.communication()) {
    const int64_t nc = o.comm_heads(), dk = o.comm_key_size(), dv = o.comm_value_size();
    auto gated = torch::where(unit_mask, h_new, h_new.detach());
    auto qkv = torch::bmm(gated, comm_qkv);
    auto heads = [&](int64_t start, int64_t width) {
      return qkv.narrow(-1, start, nc * width).view({K, B, nc, width}).permute({1, 2, 0, 3});
    };
    auto scores = SmallMatmul(heads(0, dk), heads(nc * dk, dk).transpose(-1, -2)) /
                  std::sqrt(static_cast<double>(dk));
    auto att = torch::softmax(scores, -1);  // [B, nc, K(reader), K(read)]
    auto z = SmallMatmul(att, heads(2 * nc * dk, dv)).permute({2, 0, 1, 3}).reshape({K, B, -1});
    auto gate_branch = comm_out(z).chunk(2, -1);
    h_new = h_new + torch::sigmoid(gate_branch[0]) *
                        torch::tanh(Dropout(gate_branch[1], o.comm_dropout(), is_training()));
    out.info.comm_attention = nc == 1 ? att.squeeze(1) : att.mean(1);
  }

  // 7: inactive units carry their state over exactly.
  out.h = torch::where(unit_mask, h_new, h);
  if (c.defined()) out.c = torch::where(unit_mask, c_new, c);
  out.info.mask = mask.to(h.scalar_type());
  return out;
}

bool RIMCellImpl::UseFused(const torch::Tensor& x) const {
  return options.fused() && options.input_attention() && x.device().is_cpu() &&
         x.scalar_type() == torch::kFloat32 && input_kv.scalar_type() == torch::kFloat32;
}

UnrollOutput RIMCellImpl::FusedUnroll(const torch::Tensor& x, const State& state,
                                      const torch::Tensor& keep) {
  const auto& o = options;
  const bool comm = o.communication();
  const FusedRimConfig cfg{
      o.top_k(),      o.input_heads(),   o.input_key_size(),  o.resolved_input_value_size(),
      o.comm_heads(), o.comm_key_size(), o.comm_value_size(), lstm_units(),
      comm,           o.input_dropout(), o.comm_dropout(),    is_training()};
  const FusedRimWeights w{input_query,
                          unit_w_ih,
                          unit_w_hh,
                          unit_b_ih,
                          unit_b_hh,
                          comm ? comm_qkv : torch::Tensor(),
                          comm ? comm_out->weight : torch::Tensor(),
                          comm ? comm_out->bias : torch::Tensor()};
  const int64_t T = x.size(0), B = x.size(1);
  auto kv = torch::matmul(x, input_kv);  // every step's keys and values in one product
  auto h = state.tensors.at(0).transpose(0, 1);
  auto c = lstm_units() ? state.tensors.at(1).transpose(0, 1) : torch::Tensor();
  auto f = FusedRimUnroll(cfg, kv, h, c, keep, w);
  UnrollOutput out;
  out.outputs = f.outputs.permute({0, 2, 1, 3}).reshape({T, B, output_size()});
  out.state.tensors.push_back(f.h.transpose(0, 1));
  if (f.c.defined()) out.state.tensors.push_back(f.c.transpose(0, 1));
  out.info.mask = f.mask;
  out.info.input_attention = f.input_attention;
  out.info.comm_attention = f.comm_attention;
  return out;
}

StepOutput RIMCellImpl::Step(const torch::Tensor& input, const State& state,
                             const torch::Tensor& reset_mask) {
  auto x = AsSet(input, 1);
  if (UseFused(x)) {
    auto keep = reset_mask.defined() ? reset_mask.to(torch::kBool).logical_not().view({1, -1})
                                     : torch::Tensor();
    auto u = FusedUnroll(x.unsqueeze(0), state, keep);
    StepOutput out;
    out.output = u.outputs[0];
    out.state = std::move(u.state);
    out.info.mask = u.info.mask[0];
    out.info.input_attention = u.info.input_attention[0];
    if (u.info.comm_attention.defined()) out.info.comm_attention = u.info.comm_attention[0];
    return out;
  }
  auto p = Project(x);
  auto h = state.tensors.at(0).transpose(0, 1);
  auto c = lstm_units() ? state.tensors.at(1).transpose(0, 1) : torch::Tensor();
  auto keep = reset_mask.defined() ? detail::KeepFactor(reset_mask, h) : torch::Tensor();
  auto inner = StepUnitMajor(p.keys, p.values, h, c, keep);
  const int64_t B = x.size(0);
  StepOutput out;
  out.output = inner.h.transpose(0, 1).reshape({B, output_size()});
  out.state.tensors.push_back(inner.h.transpose(0, 1));
  if (inner.c.defined()) out.state.tensors.push_back(inner.c.transpose(0, 1));
  out.info = std::move(inner.info);
  return out;
}

UnrollOutput RIMCellImpl::Unroll(const torch::Tensor& inputs, const State& state,
                                 const torch::Tensor& resets) {
  auto x = AsSet(inputs, 2);
  if (UseFused(x)) {
    return FusedUnroll(x, state,
                       resets.defined() ? resets.to(torch::kBool).logical_not() : torch::Tensor());
  }
  const int64_t T = x.size(0), B = x.size(1);
  auto p = Project(x);
  auto h = state.tensors.at(0).transpose(0, 1).contiguous();
  auto c = lstm_units() ? state.tensors.at(1).transpose(0, 1).contiguous() : torch::Tensor();
  std::vector<torch::Tensor> hs;
  std::vector<CoreInfo> infos;
  hs.reserve(static_cast<size_t>(T));
  infos.reserve(static_cast<size_t>(T));
  // unbind, not [t]: one stack in the backward instead of T zero-filled full-size gradients.
  const auto keys = p.keys.defined() ? p.keys.unbind(0) : std::vector<torch::Tensor>();
  const auto values = p.values.unbind(0);
  for (int64_t t = 0; t < T; ++t) {
    const auto i = static_cast<size_t>(t);
    auto keep = resets.defined() ? detail::KeepFactor(resets[t], h) : torch::Tensor();
    auto inner = StepUnitMajor(keys.empty() ? torch::Tensor() : keys[i], values[i], h, c, keep);
    h = inner.h;
    c = inner.c;
    hs.push_back(h);
    infos.push_back(std::move(inner.info));
  }
  UnrollOutput out;
  out.outputs = torch::stack(hs, 0).permute({0, 2, 1, 3}).reshape({T, B, output_size()});
  out.state.tensors.push_back(h.transpose(0, 1));
  if (c.defined()) out.state.tensors.push_back(c.transpose(0, 1));
  out.info = detail::StackInfos(infos);
  return out;
}

int64_t RIMParameterCount(const RIMCellOptions& o) {
  const int64_t K = o.num_units(), dh = o.unit_size(), n = o.input_heads();
  const int64_t dv = n * o.resolved_input_value_size();
  const int64_t dk = o.input_attention() ? n * o.input_key_size() : 0;
  const int64_t g = (o.unit_cell() == "lstm" ? 4 : 3) * dh;
  const int64_t biases = o.unit_cell() == "lstm" ? 1 : 2;
  int64_t count = o.input_size() * (dk + dv) + K * dh * dk;
  count += K * (dv * g + dh * g + biases * g);
  if (o.communication()) {
    const int64_t nc = o.comm_heads();
    count += K * dh * nc * (2 * o.comm_key_size() + o.comm_value_size());
    count += (nc * o.comm_value_size() + 1) * 2 * dh;
  }
  return count;
}

}  // namespace rimlab::models
