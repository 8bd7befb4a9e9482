// Packed-weight products (models/packed_gemm.h), BLIS-style and single-threaded:
//  * B is packed once into panels of NR columns, k-major, zero-padded to NR.
//  * A is read in place: MR row streams, which the prefetchers follow; with A (at most a few
//    hundred KB here) in L2 this measured about 6% faster than packing A at every call.
//  * The micro-kernel keeps an MR x NR tile of C in registers and per k step loads the panel's
//    vectors and broadcasts MR values of A into MR * NV FMAs.
//  * Loop order: [MC rows of A] > [KC slice of k] > [NR-column panel] > [MR-row block] >
//    micro-kernel. A KC x NR slice of a panel (64 KB at KC = 512) is reused from L1/L2 by every
//    row block. KC of 128 or 256 measured 3-6% slower than the whole k = 500 at once; MC from 96
//    to 384 made no difference; MR of 8, 10 or 14 and tiles of 8 x 48 or 6 x 64 were no better
//    than 12 x 32; embedded-broadcast FMAs were 10-20% slower.
//  * One instantiation per instruction set, each compiled with a target attribute and chosen at
//    run time, so one binary runs on every x86-64.
#include "models/packed_gemm.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <stdexcept>

// The vector helpers below pass 32/64-byte vectors by value; they are always
// inlined into the target-specific drivers, so no call ABI is involved.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace rimlab::models {
namespace {

#define RL_INLINE inline __attribute__((always_inline))

typedef float V8 __attribute__((vector_size(32)));
typedef float V16 __attribute__((vector_size(64)));

// Unaligned vector load/store (C and A rows have arbitrary leading dimensions).
template <class V>
RL_INLINE V LoadU(const float* p) {
  V v;
  std::memcpy(&v, p, sizeof(V));
  return v;
}
template <class V>
RL_INLINE void StoreU(float* p, const V& v) {
  std::memcpy(p, &v, sizeof(V));
}

// C[0..MR)[0..NR) (ldc) = acc + beta * C (C is not read when beta == 0).
template <class V, int NV, int MR>
RL_INLINE void StoreTile(const V (&acc)[MR][NV], float beta, float* c, int64_t ldc) {
  constexpr int kL = sizeof(V) / sizeof(float);
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      float* cp = c + i * ldc + v * kL;
      V r = acc[i][v];
      if (beta != 0.0f) r += beta * LoadU<V>(cp);
      StoreU(cp, r);
    }
  }
}

// C tile (MR x ncols, ncols <= NR) = beta * C + A block (MR x kc, lda) *
// B panel slice (kc x NR, packed k-major).
// `ldbp` is the distance between the slice's k rows: NR in a packed panel (64-byte aligned), the
// weight's leading dimension when B is read in place (kInPlace: unaligned loads).
template <class V, int NV, int MR, bool kInPlace = false>
RL_INLINE void MicroKernel(int64_t kc, const float* __restrict a, int64_t lda,
                           const float* __restrict bp, int64_t ldbp, float beta,
                           float* __restrict c, int64_t ldc, int ncols) {
  constexpr int kL = sizeof(V) / sizeof(float);
  constexpr int kNR = NV * kL;
  V acc[MR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[i][v] = V{};

  for (int64_t p = 0; p < kc; ++p) {
    V bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      if constexpr (kInPlace) {
        bv[v] = LoadU<V>(bp + p * ldbp + v * kL);
      } else {
        bv[v] = *reinterpret_cast<const V*>(bp + p * kNR + v * kL);
      }
    }
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const float ai = a[i * lda + p];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[i][v] += ai * bv[v];
    }
  }

  if (ncols == kNR) {
    StoreTile<V, NV, MR>(acc, beta, c, ldc);
    return;
  }
  // Last, partial panel: go through a full-width scratch tile so that the
  // vector stores never write past column n.
  alignas(64) float tile[MR * kNR];
  StoreTile<V, NV, MR>(acc, 0.0f, tile, kNR);
  for (int i = 0; i < MR; ++i) {
    float* cp = c + i * ldc;
    for (int j = 0; j < ncols; ++j)
      cp[j] = tile[i * kNR + j] + (beta != 0.0f ? beta * cp[j] : 0.0f);
  }
}

// Runs MicroKernel<MR = mr>, for a runtime mr in [1, MR], so every row
// remainder gets a fully unrolled, register-resident kernel.
template <class V, int NV, int MR, bool kInPlace = false>
RL_INLINE void MicroKernelRows(int mr, int64_t kc, const float* a, int64_t lda, const float* bp,
                               int64_t ldbp, float beta, float* c, int64_t ldc, int ncols) {
  if (mr == MR) {
    MicroKernel<V, NV, MR, kInPlace>(kc, a, lda, bp, ldbp, beta, c, ldc, ncols);
  } else if constexpr (MR > 1) {
    MicroKernelRows<V, NV, MR - 1, kInPlace>(mr, kc, a, lda, bp, ldbp, beta, c, ldc, ncols);
  }
}

template <class V, int NV, int MR, int KC, int MC>
RL_INLINE void Driver(int64_t m, const float* a, int64_t lda, const PackedB& b, float beta,
                      float* c, int64_t ldc) {
  constexpr int kNR = NV * static_cast<int>(sizeof(V) / sizeof(float));
  const int64_t k = b.k, n = b.n;
  for (int64_t ic = 0; ic < m; ic += MC) {
    const int64_t mc = std::min<int64_t>(MC, m - ic);
    for (int64_t p0 = 0; p0 < k; p0 += KC) {
      const int64_t kc = std::min<int64_t>(KC, k - p0);
      // Later k slices accumulate onto what the earlier ones stored.
      const float slice_beta = p0 == 0 ? beta : 1.0f;
      for (int64_t j0 = 0, jp = 0; j0 < n; j0 += kNR, ++jp) {
        const int ncols = static_cast<int>(std::min<int64_t>(kNR, n - j0));
        const float* bp = b.data.get() + jp * k * kNR + p0 * kNR;
        for (int64_t i0 = ic; i0 < ic + mc; i0 += MR) {
          const int mr = static_cast<int>(std::min<int64_t>(MR, ic + mc - i0));
          MicroKernelRows<V, NV, MR>(mr, kc, a + i0 * lda + p0, lda, bp, kNR, slice_beta,
                                     c + i0 * ldc + j0, ldc, ncols);
        }
      }
    }
  }
}

// B (k x n, row-major, ldb) read in place: panels of NV vectors wherever NV fit, then one
// vector, and the last columns (fewer than one vector) through a zero-padded copy, so that no
// load reads past column n.
template <class V, int NV, int MR, int KC>
RL_INLINE void DirectDriver(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                            const float* b, int64_t ldb, float beta, float* c, int64_t ldc,
                            float* tail) {
  constexpr int kL = static_cast<int>(sizeof(V) / sizeof(float));
  for (int64_t p0 = 0; p0 < k; p0 += KC) {
    const int64_t kc = std::min<int64_t>(KC, k - p0);
    const float slice_beta = p0 == 0 ? beta : 1.0f;
    int64_t j0 = 0;
    for (; j0 + NV * kL <= n; j0 += NV * kL) {
      for (int64_t i0 = 0; i0 < m; i0 += MR) {
        const int mr = static_cast<int>(std::min<int64_t>(MR, m - i0));
        MicroKernelRows<V, NV, MR, true>(mr, kc, a + i0 * lda + p0, lda, b + p0 * ldb + j0, ldb,
                                         slice_beta, c + i0 * ldc + j0, ldc, NV * kL);
      }
    }
    for (; j0 < n; j0 += kL) {
      const int cols = static_cast<int>(std::min<int64_t>(kL, n - j0));
      const float* bp = b + p0 * ldb + j0;
      int64_t ldbp = ldb;
      if (cols < kL) {
        for (int64_t p = 0; p < kc; ++p) {
          std::memcpy(tail + p * kL, b + (p0 + p) * ldb + j0, cols * sizeof(float));
          std::fill(tail + p * kL + cols, tail + (p + 1) * kL, 0.0f);
        }
        bp = tail;
        ldbp = kL;
      }
      for (int64_t i0 = 0; i0 < m; i0 += MR) {
        const int mr = static_cast<int>(std::min<int64_t>(MR, m - i0));
        MicroKernelRows<V, 1, MR, true>(mr, kc, a + i0 * lda + p0, lda, bp, ldbp, slice_beta,
                                        c + i0 * ldc + j0, ldc, cols);
      }
    }
  }
}

// Tile shapes fill the vector register file: AVX-512 has 32 zmm, so a 12 x 32 tile is 24
// accumulators, 2 B vectors and the broadcasts; AVX2 has 16 ymm: 6 x 16 is 12 + 2 + 1.
constexpr int kKC = 512, kMC = 192;  // kMC: a multiple of both MRs
constexpr int kAvx512MR = 12, kAvx2MR = 6;

__attribute__((target("avx512f"))) void GemmAvx512(int64_t m, const float* a, int64_t lda,
                                                   const PackedB& b, float beta, float* c,
                                                   int64_t ldc) {
  Driver<V16, 2, kAvx512MR, kKC, kMC>(m, a, lda, b, beta, c, ldc);
}
__attribute__((target("avx2,fma"))) void GemmAvx2(int64_t m, const float* a, int64_t lda,
                                                  const PackedB& b, float beta, float* c,
                                                  int64_t ldc) {
  Driver<V8, 2, kAvx2MR, kKC, kMC>(m, a, lda, b, beta, c, ldc);
}

__attribute__((target("avx512f"))) void DirectAvx512(int64_t m, int64_t n, int64_t k,
                                                     const float* a, int64_t lda, const float* b,
                                                     int64_t ldb, float beta, float* c, int64_t ldc,
                                                     float* tail) {
  DirectDriver<V16, 2, kAvx512MR, kKC>(m, n, k, a, lda, b, ldb, beta, c, ldc, tail);
}
__attribute__((target("avx2,fma"))) void DirectAvx2(int64_t m, int64_t n, int64_t k, const float* a,
                                                    int64_t lda, const float* b, int64_t ldb,
                                                    float beta, float* c, int64_t ldc,
                                                    float* tail) {
  DirectDriver<V8, 2, kAvx2MR, kKC>(m, n, k, a, lda, b, ldb, beta, c, ldc, tail);
}

}  // namespace

GemmIsa BestGemmIsa() {
  static const GemmIsa isa = [] {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return GemmIsa::kAvx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return GemmIsa::kAvx2;
#endif
    return GemmIsa::kNone;
  }();
  return isa;
}

void PackB(bool trans_b, int64_t k, int64_t n, const float* b, int64_t ldb, PackedB* out,
           GemmIsa isa) {
  if (isa == GemmIsa::kNone || static_cast<int>(isa) > static_cast<int>(BestGemmIsa())) {
    throw std::invalid_argument("PackB: no packed kernel for this instruction set on this CPU");
  }
  out->isa = isa;
  out->nr = isa == GemmIsa::kAvx512 ? 32 : 16;
  out->k = k;
  out->n = n;
  const int nr = out->nr;
  const int64_t panels = out->num_panels();
  const int64_t floats = panels * k * nr;
  if (out->capacity < floats) {
    // aligned_alloc needs a size that is a multiple of the alignment.
    const size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
    float* p = static_cast<float*>(std::aligned_alloc(64, bytes));
    if (p == nullptr) throw std::bad_alloc();
    out->data.reset(p);
    out->capacity = floats;
  }
  float* dst = out->data.get();
  for (int64_t jp = 0; jp < panels; ++jp) {
    const int64_t j0 = jp * nr;
    const int cols = static_cast<int>(std::min<int64_t>(nr, n - j0));
    float* panel = dst + jp * k * nr;
    if (!trans_b) {
      for (int64_t p = 0; p < k; ++p) {
        std::memcpy(panel + p * nr, b + p * ldb + j0, cols * sizeof(float));
        std::fill(panel + p * nr + cols, panel + (p + 1) * nr, 0.0f);
      }
    } else {
      // op(B)[p][j] = b[j * ldb + p], each stored row read contiguously. A scalar transpose
      // (about 0.12 ms for 500 x 400, once per unroll); blocking it gained under 10%.
      if (cols < nr) std::fill(panel, panel + k * nr, 0.0f);
      for (int j = 0; j < cols; ++j) {
        const float* src = b + (j0 + j) * ldb;
        for (int64_t p = 0; p < k; ++p) panel[p * nr + j] = src[p];
      }
    }
  }
}

void GemmPacked(int64_t m, const float* a, int64_t lda, const PackedB& b, float beta, float* c,
                int64_t ldc) {
  if (m <= 0 || b.n <= 0) return;
  if (b.k <= 0) {  // Empty product: C = beta * C.
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < b.n; ++j)
        c[i * ldc + j] = beta != 0.0f ? beta * c[i * ldc + j] : 0.0f;
    return;
  }
  if (b.isa == GemmIsa::kAvx512) {
    GemmAvx512(m, a, lda, b, beta, c, ldc);
  } else {
    GemmAvx2(m, a, lda, b, beta, c, ldc);
  }
}

void GemmDirect(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
                int64_t ldb, float beta, float* c, int64_t ldc, GemmIsa isa) {
  if (isa == GemmIsa::kNone || static_cast<int>(isa) > static_cast<int>(BestGemmIsa())) {
    throw std::invalid_argument("GemmDirect: no kernel for this instruction set on this CPU");
  }
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {  // Empty product: C = beta * C.
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = beta != 0.0f ? beta * c[i * ldc + j] : 0.0f;
    return;
  }
  // The zero-padded copy of the last columns: one k slice of one vector.
  alignas(64) float tail[kKC * 16];
  if (isa == GemmIsa::kAvx512) {
    DirectAvx512(m, n, k, a, lda, b, ldb, beta, c, ldc, tail);
  } else {
    DirectAvx2(m, n, k, a, lda, b, ldb, beta, c, ldc, tail);
  }
}

}  // namespace rimlab::models
