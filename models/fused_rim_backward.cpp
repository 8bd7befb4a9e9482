#include <algorithm>
#include <vector>

#include "models/fused_rim_internal.h"

namespace rimlab::models::fused_rim {

RIMLAB_VECTOR_CLONES
Grads Backward(const FusedRimConfig& cfg, const Tensor& kv, const Tensor& keep, const Weights& w,
               const Buffers& s, const Tensor& d_outputs, const Tensor& d_h, const Tensor& d_c) {
  const Dims d = MakeDims(cfg, kv, w);
  const int64_t T = kv.size(0), K = d.K, B = d.B, dh = d.dh;
  const int64_t G = cfg.lstm ? 4 : 3, DK = d.n * d.dk, DV = d.read_width(), W = DV + dh;
  const auto opts = kv.options();
  auto dh_t = d_h.defined() ? d_h.contiguous().clone() : torch::zeros({K, B, dh}, opts);
  auto dc_t = !cfg.lstm       ? Tensor()
              : d_c.defined() ? d_c.contiguous().clone()
                              : torch::zeros({K, B, dh}, opts);
  const Tensor d_out = d_outputs.defined() ? d_outputs.contiguous() : Tensor();
  Grads g;
  g.dkv = torch::zeros_like(kv);
  auto dq = torch::empty({K, T, B, DK}, opts);
  // The dynamics' gradients, the unit inputs and the previous states of active rows only, packed
  // per unit: row count[k] is unit k's next active (t, b).
  auto dgx = torch::empty({K, T * B, G * dh}, opts);
  auto dgh = cfg.lstm ? dgx : torch::empty({K, T * B, G * dh}, opts);
  auto xh_c = torch::empty({K, T * B, W}, opts);
  std::vector<int64_t> count(static_cast<size_t>(K), 0);
  auto dqkv = cfg.communication ? torch::zeros({K, T, B, d.qkv_width()}, opts) : Tensor();
  auto dy = cfg.communication ? torch::empty({T, K, B, 2 * dh}, opts) : Tensor();
  auto dht = torch::empty({K, B, dh}, opts);
  auto dcn = torch::empty({K, B, dh}, opts);
  auto dhp = torch::empty({K, B, dh}, opts);
  auto dcp = torch::empty({K, B, dh}, opts);
  // Rows of inactive units are never written nor read (InputAttentionBackward skips them).
  auto dread = torch::empty({K, B, DV}, opts);
  auto dz = cfg.communication ? torch::empty({K * B, d.z_width()}, opts) : Tensor();
  auto dh_comm = torch::empty({B, dh}, opts);
  auto dxh_c = torch::empty({B, W}, opts);
  std::vector<int64_t> active;
  const Operands op = MakeOperands(cfg, d, w, T, /*backward=*/true);
  const float* keepp = keep.defined() ? F(keep) : nullptr;
  // Raw pointers once: data_ptr's checks inside the element loops were a tenth of the backward.
  float* const p_dht = F(dht);
  float* const p_dcn = F(dcn);
  float* const p_dhp = F(dhp);
  float* const p_dcp = F(dcp);
  float* const p_dread = F(dread);
  float* const p_dgx = F(dgx);
  float* const p_dgh = F(dgh);
  float* const p_xh_c = F(xh_c);
  float* const p_dxh = F(dxh_c);
  const float* const p_dh_comm = F(dh_comm);

  for (int64_t t = T - 1; t >= 0; --t) {
    float* dhv = F(dh_t);
    float* dcv = cfg.lstm ? F(dc_t) : nullptr;
    if (d_out.defined()) {
      const float* src = F(d_out) + t * K * B * dh;
      for (int64_t i = 0; i < K * B * dh; ++i) dhv[i] += src[i];
    }
    const float* mask = F(s.mask) + t * B * K;
    // An active unit's gradient goes to its update; an inactive one's to its previous state.
    for (int64_t k = 0; k < K; ++k) {
      for (int64_t b = 0; b < B; ++b) {
        const bool on = mask[b * K + k] != 0.0f;
        const int64_t r = (k * B + b) * dh;
        for (int64_t j = 0; j < dh; ++j) {
          p_dht[r + j] = on ? dhv[r + j] : 0.0f;
          p_dhp[r + j] = on ? 0.0f : dhv[r + j];
          if (dcv != nullptr) {
            p_dcn[r + j] = on ? dcv[r + j] : 0.0f;
            p_dcp[r + j] = on ? 0.0f : dcv[r + j];
          }
        }
      }
    }
    // 6. Communication, backwards: the gated output, the shared projection, the attention, and
    // through the gradient gate to the active units' updates only.
    if (cfg.communication) {
      const int64_t at = t * K * B * dh;  // step t of the [T, K, B, d_h] buffers
      const float* gate = F(s.gate) + at;
      const float* branch = F(s.branch) + at;
      const float* noise = s.comm_noise.defined() ? F(s.comm_noise) + at : nullptr;
      float* dyt = F(dy) + 2 * at;
      for (int64_t k = 0; k < K; ++k) {
        for (int64_t b = 0; b < B; ++b) {
          float* row = dyt + (k * B + b) * 2 * dh;
          if (mask[b * K + k] == 0.0f) {  // an inactive unit's communication output is discarded
            std::fill(row, row + 2 * dh, 0.0f);
            continue;
          }
          const int64_t r = (k * B + b) * dh;
          for (int64_t j = 0; j < dh; ++j) {
            const float go = p_dht[r + j], sg = gate[r + j], tb = branch[r + j];
            row[j] = go * tb * sg * (1.0f - sg);
            row[dh + j] = go * sg * (1.0f - tb * tb) * (noise != nullptr ? noise[r + j] : 1.0f);
          }
        }
      }
      op.o.Multiply(K * B, dyt, 2 * dh, 0.0f, F(dz), d.z_width());
      fused_rim::CommAttentionBackward(d, CRows(s.qkv, t), F(s.comm_att) + t * B * d.nc * K * K,
                                       mask, F(dz), Rows(dqkv, t));
      for (int64_t k = 0; k < K; ++k) {
        op.c[static_cast<size_t>(k)].Multiply(B, Rows(dqkv, t).row(k, 0), d.qkv_width(), 0.0f,
                                              F(dh_comm), dh);
        for (int64_t b = 0; b < B; ++b) {
          if (mask[b * K + k] == 0.0f) continue;
          float* dst = p_dht + (k * B + b) * dh;
          const float* src = p_dh_comm + b * dh;
          for (int64_t j = 0; j < dh; ++j) dst[j] += src[j];
        }
      }
    }
    // 5. The dynamics of the active rows, packed.
    const auto hp = HpRows(s.xh, t, DV);
    const auto xh = Rows(s.xh, t);
    const float* noise_t = s.read_noise.defined() ? CRows(s.read_noise, t).data : nullptr;
    for (int64_t k = 0; k < K; ++k) {
      active.clear();
      for (int64_t b = 0; b < B; ++b) {
        if (mask[b * K + k] != 0.0f) active.push_back(b);
      }
      const int64_t na = static_cast<int64_t>(active.size()), base = count[static_cast<size_t>(k)];
      if (na == 0) continue;
      const float* gates = Rows(s.gates, t).row(k, 0);
      const float* tc_k = cfg.lstm ? Rows(s.tanh_c, t).row(k, 0) : nullptr;
      const float* cp_k = cfg.lstm ? Rows(s.cp, t).row(k, 0) : nullptr;
      const float* ghn_k = cfg.lstm ? nullptr : Rows(s.gh_n, t).row(k, 0);
      for (int64_t i = 0; i < na; ++i) {
        const int64_t b = active[static_cast<size_t>(i)];
        const float* gr = gates + b * G * dh;
        const float* dhr = p_dht + (k * B + b) * dh;
        float* gx = (p_dgx + k * T * B * G * dh) + (base + i) * G * dh;
        std::copy(xh.row(k, b), xh.row(k, b) + W, (p_xh_c + k * T * B * W) + (base + i) * W);
        if (cfg.lstm) {
          const float* tc = tc_k + b * dh;
          const float* cpr = cp_k + b * dh;
          float* dcr = p_dcn + (k * B + b) * dh;
          float* dcpr = p_dcp + (k * B + b) * dh;
          for (int64_t j = 0; j < dh; ++j) {
            const float ig = gr[j], fg = gr[dh + j], gg = gr[2 * dh + j], og = gr[3 * dh + j];
            const float dct = dcr[j] + dhr[j] * og * (1.0f - tc[j] * tc[j]);
            gx[j] = dct * gg * ig * (1.0f - ig);
            gx[dh + j] = dct * cpr[j] * fg * (1.0f - fg);
            gx[2 * dh + j] = dct * ig * (1.0f - gg * gg);
            gx[3 * dh + j] = dhr[j] * tc[j] * og * (1.0f - og);
            dcpr[j] += dct * fg;
          }
        } else {
          const float* ghn = ghn_k + b * dh;
          const float* hpr = hp.row(k, b);
          float* gh = (p_dgh + k * T * B * G * dh) + (base + i) * G * dh;
          float* dhpr = p_dhp + (k * B + b) * dh;
          for (int64_t j = 0; j < dh; ++j) {
            const float rg = gr[j], zg = gr[dh + j], ng = gr[2 * dh + j];
            const float dn = dhr[j] * (1.0f - zg);
            const float dpre_n = dn * (1.0f - ng * ng);
            const float dpre_z = dhr[j] * (hpr[j] - ng) * zg * (1.0f - zg);
            const float dpre_r = dpre_n * ghn[j] * rg * (1.0f - rg);
            dhpr[j] += dhr[j] * zg;
            gx[j] = gh[j] = dpre_r;
            gx[dh + j] = gh[dh + j] = dpre_z;
            gx[2 * dh + j] = dpre_n;
            gh[2 * dh + j] = dpre_n * rg;
          }
        }
      }
      const float* rows_x = p_dgx + (k * T * B + base) * G * dh;
      const float* rows_h = p_dgh + (k * T * B + base) * G * dh;
      // The forward's stacked weights give [d read | d h] in one product.
      const auto u = static_cast<size_t>(k);
      op.x[u].Multiply(na, rows_x, G * dh, 0.0f, p_dxh, W);
      if (!w.wx.defined()) op.h[u].Multiply(na, rows_h, G * dh, 0.0f, p_dxh + DV, W);
      // Scatter back: the read's gradient through its dropout, the previous h's added.
      for (int64_t i = 0; i < na; ++i) {
        const int64_t b = active[static_cast<size_t>(i)];
        const float* src = p_dxh + i * W;
        float* dr = p_dread + (k * B + b) * DV;
        if (noise_t != nullptr) {
          const float* m = noise_t + k * T * B * DV + b * DV;
          for (int64_t j = 0; j < DV; ++j) dr[j] = src[j] * m[j];
        } else {
          std::copy(src, src + DV, dr);
        }
        float* dst = p_dhp + (k * B + b) * dh;
        for (int64_t j = 0; j < dh; ++j) dst[j] += src[DV + j];
      }
      count[static_cast<size_t>(k)] += na;
    }
    // 2-4. Dropout, the read and the input attention, backwards; then the queries.
    const float* kv_t = F(kv) + t * B * d.M * d.kv_width();
    fused_rim::InputAttentionBackward(
        d, kv_t, CRows(s.q, t), F(s.att) + t * B * d.n * K * (d.M + 1), mask,
        ConstUnitRows{p_dread, B * DV, DV}, Rows(dq, t), F(g.dkv) + t * B * d.M * d.kv_width());
    for (int64_t k = 0; k < K; ++k) {
      op.q[static_cast<size_t>(k)].Multiply(B, Rows(dq, t).row(k, 0), DK, 1.0f, p_dhp + k * B * dh,
                                            dh);
    }
    // 1. Resets.
    for (int64_t b = 0; b < B; ++b) {
      const float f = keepp != nullptr ? keepp[t * B + b] : 1.0f;
      for (int64_t k = 0; k < K; ++k) {
        const int64_t r = (k * B + b) * dh;
        for (int64_t j = 0; j < dh; ++j) {
          dhv[r + j] = p_dhp[r + j] * f;
          if (dcv != nullptr) dcv[r + j] = p_dcp[r + j] * f;
        }
      }
    }
  }
  g.dh0 = dh_t;
  g.dc0 = dc_t;
  // Each weight's gradient: one product over all (active) rows of all steps.
  g.dwq = torch::empty_like(w.wq);
  for (int64_t k = 0; k < K; ++k) {
    Gemm(true, false, dh, DK, T * B, 1.0f, F(s.xh) + k * T * B * W + DV, W, F(dq) + k * T * B * DK,
         DK, 0.0f, F(g.dwq) + k * dh * DK, DK);
  }
  g.dwih = torch::empty_like(w.wih);
  g.dwhh = torch::empty_like(w.whh);
  g.dbih = torch::empty_like(w.bih);
  if (!cfg.lstm) g.dbhh = torch::empty_like(w.bhh);
  // Raw offsets, not per-unit tensor views: a view, a sum and a copy per unit were a tenth of a
  // small cell's backward.
  float* const p_dwih = F(g.dwih);
  float* const p_dwhh = F(g.dwhh);
  float* const p_dbih = F(g.dbih);
  float* const p_dbhh = cfg.lstm ? nullptr : F(g.dbhh);
  for (int64_t k = 0; k < K; ++k) {
    const int64_t n = count[static_cast<size_t>(k)];
    const float* x = p_dgx + k * T * B * G * dh;
    const float* hgrad = p_dgh + k * T * B * G * dh;
    float* dwih_k = p_dwih + k * DV * G * dh;
    float* dwhh_k = p_dwhh + k * dh * G * dh;
    if (n == 0) {  // never active: no gradient, and BLAS is not asked for an empty product
      std::fill(dwih_k, dwih_k + DV * G * dh, 0.0f);
      std::fill(dwhh_k, dwhh_k + dh * G * dh, 0.0f);
    } else {
      const float* rows = p_xh_c + k * T * B * W;
      Gemm(true, false, DV, G * dh, n, 1.0f, rows, W, x, G * dh, 0.0f, dwih_k, G * dh);
      Gemm(true, false, dh, G * dh, n, 1.0f, rows + DV, W, hgrad, G * dh, 0.0f, dwhh_k, G * dh);
    }
    ColumnSums(x, n, G * dh, p_dbih + k * G * dh);
    if (!cfg.lstm) ColumnSums(hgrad, n, G * dh, p_dbhh + k * G * dh);
  }
  if (cfg.communication) {
    const int64_t QW = d.qkv_width(), ZW = d.z_width();
    g.dwc = torch::empty_like(w.wc);
    for (int64_t k = 0; k < K; ++k) {
      Gemm(true, false, dh, QW, T * B, 1.0f, F(s.h_cand) + k * T * B * dh, dh,
           F(dqkv) + k * T * B * QW, QW, 0.0f, F(g.dwc) + k * dh * QW, QW);
    }
    g.dwo = torch::empty({2 * dh, ZW}, opts);
    Gemm(true, false, 2 * dh, ZW, T * K * B, 1.0f, F(dy), 2 * dh, F(s.z), ZW, 0.0f, F(g.dwo), ZW);
    g.dbo = torch::empty({2 * dh}, opts);
    ColumnSums(F(dy), T * K * B, 2 * dh, F(g.dbo));
  }
  return g;
}

}  // namespace rimlab::models::fused_rim
