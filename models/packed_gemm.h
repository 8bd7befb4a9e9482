#pragma once
// Single-threaded float32 products whose right operand, a weight, is packed once and reused.
//
// BLAS's sgemm packs both operands at every call. The fused cells multiply by the same weights at
// every step of an unroll (each RIM unit's [read | h] by its own weight, the LSTM's h by W_hh),
// so OpenBLAS spent a fifth of the RIM's training step re-packing the same weights
// (docs/cores.md). Here a weight is packed once per unroll and every step's product reads the
// packed copy. Row-major matrices throughout.

#include <cstdint>
#include <cstdlib>
#include <memory>

namespace rimlab::models {

/// The vector instructions a kernel uses. kNone: this CPU has neither AVX2+FMA nor AVX-512F
/// (the products then go to BLAS).
enum class GemmIsa { kNone = 0, kAvx2 = 2, kAvx512 = 3 };

/// The widest kernel this CPU runs.
GemmIsa BestGemmIsa();

/// op(B) (k x n) in column panels of `nr` columns (32 for AVX-512, 16 for AVX2), k-major inside
/// a panel, zero-padded past column n: the layout of the kernel it was packed for.
struct PackedB {
  int64_t k = 0, n = 0;
  int nr = 0;
  GemmIsa isa = GemmIsa::kNone;
  struct FreeDeleter {
    void operator()(float* p) const { std::free(p); }
  };
  std::unique_ptr<float, FreeDeleter> data;  // 64-byte aligned
  int64_t capacity = 0;                      // floats allocated
  int64_t num_panels() const { return (n + nr - 1) / nr; }
};

/// Packs op(B): B (k x n, leading dimension ldb), or with trans_b the transpose of B stored
/// n x k. Reuses out's buffer when large enough. `isa` must not exceed BestGemmIsa() nor be kNone.
void PackB(bool trans_b, int64_t k, int64_t n, const float* b, int64_t ldb, PackedB* out,
           GemmIsa isa = BestGemmIsa());

/// C (m x n, ldc) = A (m x k, lda) op(B) + beta C. beta == 0 never reads C (it may hold NaN).
void GemmPacked(int64_t m, const float* a, int64_t lda, const PackedB& b, float beta, float* c,
                int64_t ldc);

/// C (m x n, ldc) = A (m x k, lda) B + beta C with the same kernels as GemmPacked, B (k x n,
/// row-major, ldb) read in place: for a weight too small, or read too few times, for packing it
/// to pay (a small cell's product at every step through sgemm, which packs both operands at every
/// call). beta == 0 never reads C. `isa` must not exceed BestGemmIsa() nor be kNone.
void GemmDirect(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
                int64_t ldb, float beta, float* c, int64_t ldc, GemmIsa isa = BestGemmIsa());

}  // namespace rimlab::models
