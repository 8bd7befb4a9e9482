#include <algorithm>

#include "models/dropout_noise.h"
#include "models/fused_rim_internal.h"

namespace rimlab::models::fused_rim {

Dims MakeDims(const FusedRimConfig& cfg, const Tensor& kv, const Weights& w) {
  return Dims{w.wq.size(0),         kv.size(1),      w.wq.size(1),
              kv.size(2),           cfg.input_heads, cfg.input_key_size,
              cfg.input_value_size, cfg.comm_heads,  cfg.comm_key_size,
              cfg.comm_value_size,  cfg.top_k};
}

Operands MakeOperands(const FusedRimConfig& cfg, const Dims& d, const Weights& w, int64_t steps,
                      bool backward) {
  const int64_t K = d.K, dh = d.dh, G = cfg.lstm ? 4 : 3, DK = d.n * d.dk, DV = d.read_width();
  const int64_t W = DV + dh, QW = d.qkv_width(), ZW = d.z_width();
  const auto uk = static_cast<size_t>(K);
  Operands op;
  op.q.resize(uk);
  op.x.resize(uk);
  op.h.resize(uk);
  if (cfg.communication) op.c.resize(uk);
  // Set(trans, k, n, B, ldb) for the product's op(B) (k x n); the backward reads each weight
  // transposed.
  // A product's rows: the batch (at most: the backward's are the active rows).
  const auto set = [backward, steps, &d](WeightOperand* o, int64_t rows, int64_t cols,
                                         const float* b) {
    if (backward) {
      o->Set(true, cols, rows, b, cols, steps, d.B);
    } else {
      o->Set(false, rows, cols, b, cols, steps, d.B);
    }
  };
  for (int64_t k = 0; k < K; ++k) {
    const auto u = static_cast<size_t>(k);
    set(&op.q[u], dh, DK, F(w.wq) + k * dh * DK);
    if (w.wx.defined()) {
      set(&op.x[u], W, G * dh, F(w.wx) + k * W * G * dh);
    } else {
      set(&op.x[u], DV, G * dh, F(w.wih) + k * DV * G * dh);
      set(&op.h[u], dh, G * dh, F(w.whh) + k * dh * G * dh);
    }
    if (cfg.communication) set(&op.c[u], dh, QW, F(w.wc) + k * dh * QW);
  }
  // wo is stored [2 d_h, ZW]: the forward multiplies by its transpose.
  if (cfg.communication) {
    if (backward) {
      op.o.Set(false, 2 * dh, ZW, F(w.wo), ZW, steps, K * d.B);
    } else {
      op.o.Set(true, ZW, 2 * dh, F(w.wo), ZW, steps, K * d.B);
    }
  }
  return op;
}

Tensor StackUnitWeights(const FusedRimConfig& cfg, int64_t steps, const Weights& w) {
  if (!cfg.lstm || steps < 4) return {};
  torch::NoGradGuard no_grad;
  return torch::cat({w.wih, w.whh}, 1);
}

RIMLAB_VECTOR_CLONES
Buffers Forward(const FusedRimConfig& cfg, const Tensor& kv, const Tensor& h0, const Tensor& c0,
                const Tensor& keep, const Weights& w) {
  const Dims d = MakeDims(cfg, kv, w);
  const int64_t T = kv.size(0), K = d.K, B = d.B, dh = d.dh;
  const int64_t G = cfg.lstm ? 4 : 3, DK = d.n * d.dk, DV = d.read_width();
  const auto opts = kv.options();
  const bool drop_in = cfg.training && cfg.input_dropout > 0.0;
  const bool drop_c = cfg.training && cfg.comm_dropout > 0.0 && cfg.communication;
  Buffers s;
  const int64_t W = DV + dh;
  s.xh = torch::empty({K, T, B, W}, opts);
  if (cfg.lstm) s.cp = torch::empty({K, T, B, dh}, opts);
  s.q = torch::empty({K, T, B, DK}, opts);
  s.att = torch::empty({T, B, d.n, K, d.M + 1}, opts);
  s.mask = torch::empty({T, B, K}, opts);
  s.att_mean = torch::empty({T, B, K, d.M + 1}, opts);
  if (drop_in) s.read_noise = torch::empty({K, T, B, DV}, opts);
  s.gates = torch::empty({K, T, B, G * dh}, opts);
  if (cfg.lstm) {
    s.tanh_c = torch::empty({K, T, B, dh}, opts);
  } else {
    s.gh_n = torch::empty({K, T, B, dh}, opts);
  }
  s.h_cand = torch::empty({K, T, B, dh}, opts);
  if (cfg.communication) {
    s.qkv = torch::empty({K, T, B, d.qkv_width()}, opts);
    s.comm_att = torch::empty({T, B, d.nc, K, K}, opts);
    s.comm_mean = torch::empty({T, B, K, K}, opts);
    s.z = torch::empty({T, K, B, d.z_width()}, opts);
    s.gate = torch::empty({T, K, B, dh}, opts);
    s.branch = torch::empty({T, K, B, dh}, opts);
    if (drop_c) s.comm_noise = torch::empty({T, K, B, dh}, opts);
  }
  s.outputs = torch::empty({T, K, B, dh}, opts);
  s.h = h0.contiguous().clone();
  if (cfg.lstm) s.c = c0.contiguous().clone();
  auto c_cand = torch::empty({K, B, dh}, opts);
  float* const c_cand_p = F(c_cand);
  auto gh = cfg.lstm ? Tensor() : torch::empty({K, B, G * dh}, opts);
  float* const ghp = cfg.lstm ? nullptr : F(gh);
  const Operands op = MakeOperands(cfg, d, w, T, /*backward=*/false);
  const bool stacked = w.wx.defined();
  const float* const bih = F(w.bih);
  const float* const bhh = cfg.lstm ? nullptr : F(w.bhh);
  auto y = cfg.communication ? torch::empty({K * B, 2 * dh}, opts) : Tensor();

  const float* kvp = F(kv);
  const float* keepp = keep.defined() ? F(keep) : nullptr;
  float* h = F(s.h);
  float* c = cfg.lstm ? F(s.c) : nullptr;
  for (int64_t t = 0; t < T; ++t) {
    // 1. Resets, then each unit's query.
    const auto hp = HpRows(s.xh, t, DV);
    const auto cp = cfg.lstm ? Rows(s.cp, t) : UnitRows{nullptr, 0, 0};
    for (int64_t k = 0; k < K; ++k) {
      for (int64_t b = 0; b < B; ++b) {
        const float f = keepp != nullptr ? keepp[t * B + b] : 1.0f;
        const float* src = h + (k * B + b) * dh;
        float* dst = hp.row(k, b);
        for (int64_t j = 0; j < dh; ++j) dst[j] = src[j] * f;
        if (c != nullptr) {
          const float* csrc = c + (k * B + b) * dh;
          float* cdst = cp.row(k, b);
          for (int64_t j = 0; j < dh; ++j) cdst[j] = csrc[j] * f;
        }
      }
      op.q[static_cast<size_t>(k)].Multiply(B, hp.row(k, 0), W, 0.0f, Rows(s.q, t).row(k, 0), DK);
    }
    // 2-4. Input attention, selection, read (and its dropout).
    const float* kv_t = kvp + t * B * d.M * d.kv_width();
    float* att = F(s.att) + t * B * d.n * K * (d.M + 1);
    float* mask = F(s.mask) + t * B * K;
    const auto read = ReadRows(s.xh, t);
    fused_rim::InputAttentionForward(d, kv_t, CRows(s.q, t), att, read);
    fused_rim::SelectUnits(d, att, mask, F(s.att_mean) + t * B * K * (d.M + 1));
    if (drop_in) {
      DropoutStream stream(cfg.input_dropout);
      const auto noise = Rows(s.read_noise, t);
      for (int64_t k = 0; k < K; ++k) {
        stream.Fill(noise.row(k, 0), B * DV);
        for (int64_t b = 0; b < B; ++b) {
          float* r = read.row(k, b);
          const float* m = noise.row(k, b);
          for (int64_t j = 0; j < DV; ++j) r[j] *= m[j];
        }
      }
    }
    // 5. Every unit's LSTM or GRU: each unit's products, then the pointwise part of all units at
    // once (one vectorised sigmoid and tanh per step).
    const auto gates = Rows(s.gates, t);
    const auto hcand = Rows(s.h_cand, t);
    for (int64_t k = 0; k < K; ++k) {
      const auto u = static_cast<size_t>(k);
      float* g = gates.row(k, 0);
      FillRows(g, bih + k * G * dh, B, G * dh);
      // A stacked weight reads [read | h] in one product; otherwise the read (the first DV
      // columns of the row) and h apart.
      op.x[u].Multiply(B, read.row(k, 0), W, 1.0f, g, G * dh);
      if (stacked) continue;
      if (cfg.lstm) {
        op.h[u].Multiply(B, hp.row(k, 0), W, 1.0f, g, G * dh);
      } else {
        float* ghk = ghp + k * B * G * dh;
        FillRows(ghk, bhh + k * G * dh, B, G * dh);
        op.h[u].Multiply(B, hp.row(k, 0), W, 1.0f, ghk, G * dh);
      }
    }
    if (cfg.lstm) {
      // tanh(x) = 2 sigmoid(2x) - 1: one sigmoid over all four gates.
      for (int64_t k = 0; k < K; ++k) {
        for (int64_t b = 0; b < B; ++b) {
          float* gg = gates.row(k, b) + 2 * dh;
          for (int64_t j = 0; j < dh; ++j) gg[j] *= 2.0f;
        }
        SigmoidInPlace(gates.row(k, 0), B * G * dh);
      }
      for (int64_t k = 0; k < K; ++k) {
        for (int64_t b = 0; b < B; ++b) {
          float* gi = gates.row(k, b);
          const float* cpr = cp.row(k, b);
          float* cn = c_cand_p + (k * B + b) * dh;
          float* tc = Rows(s.tanh_c, t).row(k, b);
          for (int64_t j = 0; j < dh; ++j) {
            gi[2 * dh + j] = 2.0f * gi[2 * dh + j] - 1.0f;
            const float cc = gi[dh + j] * cpr[j] + gi[j] * gi[2 * dh + j];
            cn[j] = cc;
            tc[j] = cc;
          }
        }
      }
      for (int64_t k = 0; k < K; ++k) TanhInPlace(Rows(s.tanh_c, t).row(k, 0), B * dh);
      for (int64_t k = 0; k < K; ++k) {
        for (int64_t b = 0; b < B; ++b) {
          const float* go = gates.row(k, b) + 3 * dh;
          const float* tc = Rows(s.tanh_c, t).row(k, b);
          float* hc = hcand.row(k, b);
          for (int64_t j = 0; j < dh; ++j) hc[j] = go[j] * tc[j];
        }
      }
    } else {
      for (int64_t k = 0; k < K; ++k) {
        for (int64_t b = 0; b < B; ++b) {
          float* gr = gates.row(k, b);
          const float* ghr = ghp + (k * B + b) * G * dh;
          for (int64_t j = 0; j < 2 * dh; ++j) gr[j] += ghr[j];
        }
      }
      for (int64_t k = 0; k < K; ++k) {
        for (int64_t b = 0; b < B; ++b) SigmoidInPlace(gates.row(k, b), 2 * dh);
      }
      for (int64_t k = 0; k < K; ++k) {
        for (int64_t b = 0; b < B; ++b) {
          float* gr = gates.row(k, b);
          const float* ghr = ghp + (k * B + b) * G * dh;
          float* ghn = Rows(s.gh_n, t).row(k, b);
          for (int64_t j = 0; j < dh; ++j) {
            ghn[j] = ghr[2 * dh + j];
            gr[2 * dh + j] += gr[j] * ghn[j];
          }
        }
      }
      for (int64_t k = 0; k < K; ++k) {
        for (int64_t b = 0; b < B; ++b) TanhInPlace(gates.row(k, b) + 2 * dh, dh);
      }
      for (int64_t k = 0; k < K; ++k) {
        for (int64_t b = 0; b < B; ++b) {
          const float* gr = gates.row(k, b);
          const float* hpr = hp.row(k, b);
          float* hc = hcand.row(k, b);
          for (int64_t j = 0; j < dh; ++j) {
            const float nn = gr[2 * dh + j], zz = gr[dh + j];
            hc[j] = nn + zz * (hpr[j] - nn);
          }
        }
      }
    }
    // 6. Communication: every unit's query, key and value from its update; the gated output.
    float* out = F(s.outputs) + t * K * B * dh;
    const auto hc = Rows(s.h_cand, t);
    if (cfg.communication) {
      const int64_t QW = d.qkv_width();
      float* const z_t = F(s.z) + t * K * B * d.z_width();
      for (int64_t k = 0; k < K; ++k) {
        op.c[static_cast<size_t>(k)].Multiply(B, hc.row(k, 0), dh, 0.0f, Rows(s.qkv, t).row(k, 0),
                                              QW);
      }
      fused_rim::CommAttentionForward(d, CRows(s.qkv, t), F(s.comm_att) + t * B * d.nc * K * K, z_t,
                                      F(s.comm_mean) + t * B * K * K);
      FillRows(F(y), F(w.bo), K * B, 2 * dh);
      op.o.Multiply(K * B, z_t, d.z_width(), 1.0f, F(y), 2 * dh);
      // The gate and the branch apart, the branch's dropout on the way; then one sigmoid and one
      // tanh over each.
      float* gp = F(s.gate) + t * K * B * dh;
      float* bp = F(s.branch) + t * K * B * dh;
      float* noise = drop_c ? F(s.comm_noise) + t * K * B * dh : nullptr;
      if (noise != nullptr) DropoutStream(cfg.comm_dropout).Fill(noise, K * B * dh);
      const float* yp = F(y);
      for (int64_t r = 0; r < K * B; ++r) {
        std::copy(yp + r * 2 * dh, yp + r * 2 * dh + dh, gp + r * dh);
        if (noise != nullptr) {
          for (int64_t j = 0; j < dh; ++j)
            bp[r * dh + j] = yp[r * 2 * dh + dh + j] * noise[r * dh + j];
        } else {
          std::copy(yp + r * 2 * dh + dh, yp + (r + 1) * 2 * dh, bp + r * dh);
        }
      }
      SigmoidInPlace(gp, K * B * dh);
      TanhInPlace(bp, K * B * dh);
      for (int64_t k = 0; k < K; ++k) {
        for (int64_t b = 0; b < B; ++b) {
          const float* hck = hc.row(k, b);
          float* o = out + (k * B + b) * dh;
          const int64_t r = (k * B + b) * dh;
          for (int64_t j = 0; j < dh; ++j) o[j] = hck[j] + gp[r + j] * bp[r + j];
        }
      }
    } else {
      for (int64_t k = 0; k < K; ++k) {
        for (int64_t b = 0; b < B; ++b) {
          const float* hck = hc.row(k, b);
          std::copy(hck, hck + dh, out + (k * B + b) * dh);
        }
      }
    }
    // 7. Inactive units carry their (reset) state over exactly.
    for (int64_t k = 0; k < K; ++k) {
      for (int64_t b = 0; b < B; ++b) {
        float* o = out + (k * B + b) * dh;
        float* hk = h + (k * B + b) * dh;
        if (mask[b * K + k] == 0.0f) std::copy(hp.row(k, b), hp.row(k, b) + dh, o);
        std::copy(o, o + dh, hk);
        if (c != nullptr) {
          const float* src = mask[b * K + k] != 0.0f ? c_cand_p + (k * B + b) * dh : cp.row(k, b);
          std::copy(src, src + dh, c + (k * B + b) * dh);
        }
      }
    }
  }
  return s;
}

}  // namespace rimlab::models::fused_rim
