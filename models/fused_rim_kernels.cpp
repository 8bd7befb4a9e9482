#include "models/fused_rim_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace rimlab::models::fused_rim {

void FillRows(float* out, const float* bias, int64_t rows, int64_t n) {
  for (int64_t r = 0; r < rows; ++r) std::copy(bias, bias + n, out + r * n);
}

namespace {

// Eight lanes as a GCC vector: each clone compiles it to its own registers (one ymm, or two xmm).
typedef float Lanes __attribute__((vector_size(32)));
typedef float HalfLanes __attribute__((vector_size(16)));

/// a . b. The lanes are summed by halving, not one by one: a serial horizontal sum (what an
/// `omp simd` reduction compiles to) cost more than the products at these lengths.
float Dot(const float* a, const float* b, int64_t n) {
  Lanes acc = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    Lanes x, y;
    std::memcpy(&x, a + i, sizeof x);
    std::memcpy(&y, b + i, sizeof y);
    acc += x * y;
  }
  const HalfLanes four =
      __builtin_shufflevector(acc, acc, 0, 1, 2, 3) + __builtin_shufflevector(acc, acc, 4, 5, 6, 7);
  const HalfLanes two = four + __builtin_shufflevector(four, four, 2, 3, 0, 1);
  float s = two[0] + two[1];
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

typedef int32_t IntLanes __attribute__((vector_size(32)));

/// e^x in each lane for x <= 0, as Cephes' expf computes it (x = n ln 2 + r, |r| <= ln 2 / 2,
/// e^r by a degree-5 polynomial, 2^n into the exponent bits): within 2 ulp of std::exp, and
/// eight at a time where libm takes one call each. Below -87 the result is about 1e-38, not 0.
/// Inlined into each vector clone; by pointer, so no vector argument crosses a call.
inline __attribute__((always_inline)) void ExpNonPositive(Lanes* lanes) {
  Lanes x = *lanes;
  x = x < -87.0f ? Lanes{} - 87.0f : x;
  const Lanes t = x * 1.44269504088896341f + 0.5f;
  Lanes n = __builtin_convertvector(__builtin_convertvector(t, IntLanes), Lanes);
  n += __builtin_convertvector(n > t, Lanes);  // truncation rounded up for negative t: floor
  const Lanes r = x - n * 0.693359375f - n * -2.12194440e-4f;
  Lanes y = r * 1.9875691500e-4f + 1.3981999507e-3f;
  y = y * r + 8.3334519073e-3f;
  y = y * r + 4.1665795894e-2f;
  y = y * r + 1.6666665459e-1f;
  y = y * r + 5.0000001201e-1f;
  y = y * (r * r) + r + 1.0f;
  const IntLanes bits = (__builtin_convertvector(n, IntLanes) + 127) << 23;
  Lanes scale;
  std::memcpy(&scale, &bits, sizeof scale);
  *lanes = y * scale;
}

/// Eight lanes of the logistic function: e = exp(-|x|) never overflows, and
/// sigmoid(x) = 1 / (1 + e) for x >= 0, e / (1 + e) below.
inline __attribute__((always_inline)) void SigmoidLanes(Lanes* lanes) {
  const Lanes x = *lanes;
  Lanes e = x < 0.0f ? x : -x;
  ExpNonPositive(&e);
  const Lanes one = Lanes{} + 1.0f;
  *lanes = (x < 0.0f ? e : one) / (one + e);
}

/// Eight lanes of tanh as Cephes' tanhf computes it: below |x| = 0.625 an odd polynomial (where
/// 1 - e would lose the small result's digits), above it (1 - e) / (1 + e) with e = exp(-2|x|).
inline __attribute__((always_inline)) void TanhLanes(Lanes* lanes) {
  const Lanes x = *lanes;
  const Lanes ax = x < 0.0f ? -x : x;
  Lanes e = -2.0f * ax;
  ExpNonPositive(&e);
  const Lanes one = Lanes{} + 1.0f;
  const Lanes big = (one - e) / (one + e);
  const Lanes z = x * x;
  Lanes p = z * -5.70498872745e-3f + 2.06390887954e-2f;
  p = p * z - 5.37397155531e-2f;
  p = p * z + 1.33314422036e-1f;
  p = p * z - 3.33332819422e-1f;
  const Lanes small = p * z * x + x;
  *lanes = ax < 0.625f ? small : (x < 0.0f ? -big : big);
}

template <void (*kFn)(Lanes*)>
inline __attribute__((always_inline)) void MapLanes(float* p, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    Lanes x;
    std::memcpy(&x, p + i, sizeof x);
    kFn(&x);
    std::memcpy(p + i, &x, sizeof x);
  }
  if (i < n) {
    Lanes x = {};
    std::memcpy(&x, p + i, static_cast<size_t>(n - i) * sizeof(float));
    kFn(&x);
    std::memcpy(p + i, &x, static_cast<size_t>(n - i) * sizeof(float));
  }
}

/// In place over each of `rows` contiguous rows of n: softmax, shifted by the row's maximum as
/// torch computes it. The exponentials run over the whole block, eight at a time.
RIMLAB_VECTOR_CLONES
void SoftmaxRows(float* p, int64_t rows, int64_t n) {
  for (int64_t r = 0; r < rows; ++r) {
    float* row = p + r * n;
    float mx = row[0];
    for (int64_t j = 1; j < n; ++j) mx = std::max(mx, row[j]);
    for (int64_t j = 0; j < n; ++j) row[j] -= mx;
  }
  MapLanes<ExpNonPositive>(p, rows * n);
  for (int64_t r = 0; r < rows; ++r) {
    float* row = p + r * n;
    float sum = 0.0f;
    for (int64_t j = 0; j < n; ++j) sum += row[j];
    const float inv = 1.0f / sum;
    for (int64_t j = 0; j < n; ++j) row[j] *= inv;
  }
}

/// For a softmax output a[0..n) and the gradient of its outputs da (overwritten), the gradient
/// of its inputs: a_j (da_j - sum_i a_i da_i).
RIMLAB_VECTOR_CLONES
void SoftmaxBackward(const float* a, float* da, int64_t n) {
  float dot = 0.0f;
  for (int64_t j = 0; j < n; ++j) dot += a[j] * da[j];
  for (int64_t j = 0; j < n; ++j) da[j] = a[j] * (da[j] - dot);
}

}  // namespace

RIMLAB_VECTOR_CLONES
void InputAttentionForward(const Dims& d, const float* kv, ConstUnitRows q, float* att,
                           UnitRows read) {
  const int64_t width = d.kv_width(), keys = d.n * d.dk, m1 = d.M + 1;
  const float scale = 1.0f / std::sqrt(static_cast<float>(d.dk));
  for (int64_t b = 0; b < d.B; ++b) {
    const float* x = kv + b * d.M * width;
    for (int64_t h = 0; h < d.n; ++h) {
      for (int64_t k = 0; k < d.K; ++k) {
        const float* qk = q.row(k, b) + h * d.dk;
        float* a = att + ((b * d.n + h) * d.K + k) * m1;
        a[0] = 0.0f;  // the null element's key is zero
        for (int64_t j = 0; j < d.M; ++j)
          a[j + 1] = Dot(qk, x + j * width + h * d.dk, d.dk) * scale;
      }
    }
  }
  SoftmaxRows(att, d.B * d.n * d.K, m1);
  for (int64_t b = 0; b < d.B; ++b) {
    const float* x = kv + b * d.M * width;
    for (int64_t h = 0; h < d.n; ++h) {
      for (int64_t k = 0; k < d.K; ++k) {
        const float* a = att + ((b * d.n + h) * d.K + k) * m1;
        float* r = read.row(k, b) + h * d.dv;
        std::fill(r, r + d.dv, 0.0f);
        for (int64_t j = 0; j < d.M; ++j) {
          const float* v = x + j * width + keys + h * d.dv;
          const float w = a[j + 1];
          for (int64_t e = 0; e < d.dv; ++e) r[e] += w * v[e];
        }
      }
    }
  }
}

RIMLAB_VECTOR_CLONES
void SelectUnits(const Dims& d, const float* att, float* mask, float* att_mean) {
  const int64_t m1 = d.M + 1;
  for (int64_t b = 0; b < d.B; ++b) {
    float* mean = att_mean + b * d.K * m1;
    std::fill(mean, mean + d.K * m1, 0.0f);
    for (int64_t h = 0; h < d.n; ++h) {
      const float* a = att + (b * d.n + h) * d.K * m1;
      for (int64_t i = 0; i < d.K * m1; ++i) mean[i] += a[i];
    }
    if (d.n > 1) {
      for (int64_t i = 0; i < d.K * m1; ++i) mean[i] /= static_cast<float>(d.n);
    }
    for (int64_t k = 0; k < d.K; ++k) {
      const float mine = mean[k * m1];
      int64_t beaten = 0;
      for (int64_t j = 0; j < d.K; ++j) {
        const float other = mean[j * m1];
        beaten += (other < mine || (other == mine && j < k)) ? 1 : 0;
      }
      mask[b * d.K + k] = beaten < d.top_k ? 1.0f : 0.0f;
    }
  }
}

RIMLAB_VECTOR_CLONES
void InputAttentionBackward(const Dims& d, const float* kv, ConstUnitRows q, const float* att,
                            const float* mask, ConstUnitRows dread, UnitRows dq, float* dkv) {
  const int64_t width = d.kv_width(), keys = d.n * d.dk, m1 = d.M + 1;
  const float scale = 1.0f / std::sqrt(static_cast<float>(d.dk));
  std::vector<float> scratch(static_cast<size_t>(m1));
  float* da = scratch.data();
  for (int64_t b = 0; b < d.B; ++b) {
    const float* x = kv + b * d.M * width;
    float* dx = dkv + b * d.M * width;
    for (int64_t k = 0; k < d.K; ++k) {
      float* dqk = dq.row(k, b);
      std::fill(dqk, dqk + keys, 0.0f);
      if (mask[b * d.K + k] == 0.0f) continue;  // an inactive unit's read reaches nothing
      for (int64_t h = 0; h < d.n; ++h) {
        const float* a = att + ((b * d.n + h) * d.K + k) * m1;
        const float* dr = dread.row(k, b) + h * d.dv;
        da[0] = 0.0f;  // the null element's value is zero
        for (int64_t j = 0; j < d.M; ++j) {
          const float* v = x + j * width + keys + h * d.dv;
          float* dvj = dx + j * width + keys + h * d.dv;
          const float w = a[j + 1];
          da[j + 1] = Dot(dr, v, d.dv);
          for (int64_t e = 0; e < d.dv; ++e) dvj[e] += w * dr[e];
        }
        SoftmaxBackward(a, da, m1);
        const float* qh = q.row(k, b) + h * d.dk;
        float* dqh = dqk + h * d.dk;
        for (int64_t j = 0; j < d.M; ++j) {
          const float g = da[j + 1] * scale;
          const float* key = x + j * width + h * d.dk;
          float* dkey = dx + j * width + h * d.dk;
          for (int64_t e = 0; e < d.dk; ++e) {
            dqh[e] += g * key[e];
            dkey[e] += g * qh[e];
          }
        }
      }
    }
  }
}

namespace {

/// Communication's forward for key size kKey and value size kValue (0: the sizes in d), as
/// CommBackward below.
template <int kKey, int kValue>
inline __attribute__((always_inline)) void CommForward(const Dims& d, ConstUnitRows qkv, float* att,
                                                       float* z, float* att_mean) {
  const int64_t dkc = kKey > 0 ? kKey : d.dkc, dvc = kValue > 0 ? kValue : d.dvc;
  const int64_t kq = d.nc * dkc, zw = d.nc * dvc;
  const float scale = 1.0f / std::sqrt(static_cast<float>(dkc));
  for (int64_t b = 0; b < d.B; ++b) {
    for (int64_t h = 0; h < d.nc; ++h) {
      for (int64_t i = 0; i < d.K; ++i) {
        const float* qi = qkv.row(i, b) + h * dkc;
        float* a = att + ((b * d.nc + h) * d.K + i) * d.K;
        for (int64_t j = 0; j < d.K; ++j) a[j] = Dot(qi, qkv.row(j, b) + kq + h * dkc, dkc) * scale;
      }
    }
  }
  SoftmaxRows(att, d.B * d.nc * d.K, d.K);
  for (int64_t b = 0; b < d.B; ++b) {
    float* mean = att_mean + b * d.K * d.K;
    std::fill(mean, mean + d.K * d.K, 0.0f);
    for (int64_t h = 0; h < d.nc; ++h) {
      for (int64_t i = 0; i < d.K; ++i) {
        const float* a = att + ((b * d.nc + h) * d.K + i) * d.K;
        float* __restrict zi = z + (i * d.B + b) * zw + h * dvc;
        std::fill(zi, zi + dvc, 0.0f);
        for (int64_t j = 0; j < d.K; ++j) {
          const float* __restrict v = qkv.row(j, b) + 2 * kq + h * dvc;
          const float w = a[j];
          for (int64_t e = 0; e < dvc; ++e) zi[e] += w * v[e];
          mean[i * d.K + j] += w;
        }
      }
    }
    if (d.nc > 1) {
      for (int64_t i = 0; i < d.K * d.K; ++i) mean[i] /= static_cast<float>(d.nc);
    }
  }
}

}  // namespace

RIMLAB_VECTOR_CLONES
void CommAttentionForward(const Dims& d, ConstUnitRows qkv, float* att, float* z, float* att_mean) {
  if (d.dkc == 32 && d.dvc == 32) {
    CommForward<32, 32>(d, qkv, att, z, att_mean);
  } else {
    CommForward<0, 0>(d, qkv, att, z, att_mean);
  }
}

namespace {

/// Communication's backward for key size kKey and value size kValue (0: the sizes in d). The
/// paper's sizes (32 and 32) get their own copy, whose inner loops have fixed trip counts.
template <int kKey, int kValue>
inline __attribute__((always_inline)) void CommBackward(const Dims& d, ConstUnitRows qkv,
                                                        const float* att, const float* mask,
                                                        const float* dz, UnitRows dqkv) {
  const int64_t dkc = kKey > 0 ? kKey : d.dkc, dvc = kValue > 0 ? kValue : d.dvc;
  const int64_t kq = d.nc * dkc, zw = d.nc * dvc;
  const float scale = 1.0f / std::sqrt(static_cast<float>(dkc));
  float da[64];
  for (int64_t b = 0; b < d.B; ++b) {
    for (int64_t i = 0; i < d.K; ++i) {
      if (mask[b * d.K + i] == 0.0f) continue;  // an inactive reader's output is discarded
      for (int64_t h = 0; h < d.nc; ++h) {
        const float* a = att + ((b * d.nc + h) * d.K + i) * d.K;
        const float* __restrict dzi = dz + (i * d.B + b) * zw + h * dvc;
        for (int64_t j = 0; j < d.K; ++j) {
          const float* __restrict v = qkv.row(j, b) + 2 * kq + h * dvc;
          float* __restrict dvj = dqkv.row(j, b) + 2 * kq + h * dvc;
          da[j] = Dot(dzi, v, dvc);
          const float w = a[j];
          for (int64_t e = 0; e < dvc; ++e) dvj[e] += w * dzi[e];
        }
        SoftmaxBackward(a, da, d.K);
        const float* __restrict qi = qkv.row(i, b) + h * dkc;
        float* __restrict dqi = dqkv.row(i, b) + h * dkc;
        for (int64_t j = 0; j < d.K; ++j) {
          const float g = da[j] * scale;
          const float* __restrict kj = qkv.row(j, b) + kq + h * dkc;
          float* __restrict dkj = dqkv.row(j, b) + kq + h * dkc;
          for (int64_t e = 0; e < dkc; ++e) {
            dqi[e] += g * kj[e];
            dkj[e] += g * qi[e];
          }
        }
      }
    }
  }
}

}  // namespace

RIMLAB_VECTOR_CLONES
void CommAttentionBackward(const Dims& d, ConstUnitRows qkv, const float* att, const float* mask,
                           const float* dz, UnitRows dqkv) {
  if (d.K > 64) throw std::invalid_argument("CommAttentionBackward: more than 64 units");
  if (d.dkc == 32 && d.dvc == 32) {
    CommBackward<32, 32>(d, qkv, att, mask, dz, dqkv);
  } else {
    CommBackward<0, 0>(d, qkv, att, mask, dz, dqkv);
  }
}

RIMLAB_VECTOR_CLONES
void SigmoidInPlace(float* p, int64_t n) {
  MapLanes<SigmoidLanes>(p, n);
}

RIMLAB_VECTOR_CLONES
void TanhInPlace(float* p, int64_t n) {
  MapLanes<TanhLanes>(p, n);
}

RIMLAB_VECTOR_CLONES
void ColumnSums(const float* x, int64_t rows, int64_t cols, float* out) {
  // Summed in double, in blocks of columns that stay in registers.
  constexpr int64_t kBlock = 64;
  for (int64_t j0 = 0; j0 < cols; j0 += kBlock) {
    const int64_t w = std::min(kBlock, cols - j0);
    double acc[kBlock] = {};
    for (int64_t r = 0; r < rows; ++r) {
      const float* row = x + r * cols + j0;
      for (int64_t j = 0; j < w; ++j) acc[j] += static_cast<double>(row[j]);
    }
    for (int64_t j = 0; j < w; ++j) out[j0 + j] = static_cast<float>(acc[j]);
  }
}

}  // namespace rimlab::models::fused_rim
