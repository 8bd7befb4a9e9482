#pragma once
// The attention and selection parts of one RIM step (models/fused_rim.h) as plain loops over
// raw float buffers. They are small (a few keys, a handful of units): as loops they cost less
// than the batched matrix products and their autograd bookkeeping they replace.
//
// Layouts. kv: one step's input keys and values, [B, M, n*d_k + n*d_v] (head h's key at column
// h*d_k, its value at n*d_k + h*d_v). Per-unit buffers are addressed as base + k * unit_stride +
// b * row_width: unit k's rows for one step, B rows each.

#include <cstdint>

#include "models/gemm.h"
#include "models/vector_clones.h"

namespace rimlab::models::fused_rim {

struct Dims {
  int64_t K = 0, B = 0, dh = 0;          // units, batch, unit size
  int64_t M = 0, n = 0, dk = 0, dv = 0;  // input elements (null excluded), heads, key/value
  int64_t nc = 0, dkc = 0, dvc = 0;      // communication heads and key/value sizes
  int64_t top_k = 0;
  int64_t kv_width() const { return n * (dk + dv); }
  int64_t read_width() const { return n * dv; }
  int64_t qkv_width() const { return nc * (2 * dkc + dvc); }
  int64_t z_width() const { return nc * dvc; }
};

/// A per-unit buffer: unit k's row b at data + k * unit_stride + b * width.
struct UnitRows {
  float* data;
  int64_t unit_stride;
  int64_t width;
  float* row(int64_t k, int64_t b) const { return data + k * unit_stride + b * width; }
};
struct ConstUnitRows {
  const float* data;
  int64_t unit_stride;
  int64_t width;
  const float* row(int64_t k, int64_t b) const { return data + k * unit_stride + b * width; }
};

using models::Gemm;

/// Each of `rows` rows of `out` (width n) set to `bias`.
void FillRows(float* out, const float* bias, int64_t rows, int64_t n);

/// Scores q_k . key_j / sqrt(d_k) against the null element (score 0) and the M elements, softmax
/// over those M + 1 per head: att [B, n, K, M+1]; each unit's read (the attention-weighted
/// values, heads side by side) into `read`.
void InputAttentionForward(const Dims& d, const float* kv, ConstUnitRows q, float* att,
                           UnitRows read);

/// The units that attend least to the null element (head mean) update: mask [B, K] 0/1, ties to
/// the lower index. Also the head-mean attention [B, K, M+1] that the cell reports.
void SelectUnits(const Dims& d, const float* att, float* mask, float* att_mean);

/// Gradients of the active units' queries (dq, every row written, zeros for inactive units) and
/// of the keys and values (added into dkv, [B, M, kv_width]) from the gradient of the reads.
void InputAttentionBackward(const Dims& d, const float* kv, ConstUnitRows q, const float* att,
                            const float* mask, ConstUnitRows dread, UnitRows dq, float* dkv);

/// Communication: per head, every unit reads every unit (itself included), softmax over the K
/// read units: att [B, nc, K, K] (reader, read), z [K, B, nc*d_vc] (heads side by side) and the
/// head mean [B, K, K].
void CommAttentionForward(const Dims& d, ConstUnitRows qkv, float* att, float* z, float* att_mean);

/// From dz [K, B, z_width] (zero rows for inactive readers, which are skipped), the gradients of
/// every unit's query, key and value, added into dqkv.
void CommAttentionBackward(const Dims& d, ConstUnitRows qkv, const float* att, const float* mask,
                           const float* dz, UnitRows dqkv);

/// The logistic function and tanh in place over n floats, eight lanes at a time (each within a
/// few ulp of torch's, by models/fused_rim_kernels.cpp's exponential): a step's pointwise blocks
/// hold a few thousand values, where torch's `sigmoid_` and `tanh_` spent as long setting up as
/// computing.
void SigmoidInPlace(float* p, int64_t n);
void TanhInPlace(float* p, int64_t n);

/// out[j] = the sum over `rows` rows of x[r * cols + j] (a bias's gradient), summed in double;
/// zeros for no rows.
void ColumnSums(const float* x, int64_t rows, int64_t cols, float* out);

}  // namespace rimlab::models::fused_rim
