#include "models/gemm.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

extern "C" void sgemm_(const char* transa, const char* transb, const int* m, const int* n,
                       const int* k, const float* alpha, const float* a, const int* lda,
                       const float* b, const int* ldb, const float* beta, float* c, const int* ldc);

namespace rimlab::models {

namespace {

/// RIMLAB_GEMM's mode; the default when unset or unknown (an environment variable read at start-up
/// has no caller to report to).
GemmMode EnvironmentMode() {
  const char* env = std::getenv("RIMLAB_GEMM");
  if (env == nullptr) return GemmMode::kDirect;
  try {
    return ParseGemmMode(env);
  } catch (const std::invalid_argument&) {
    return GemmMode::kDirect;
  }
}

std::atomic<bool>& PackedFlag() {
  static std::atomic<bool> flag{BestGemmIsa() != GemmIsa::kNone &&
                                EnvironmentMode() != GemmMode::kBlas};
  return flag;
}

std::atomic<int64_t> min_packed_work{kDefaultMinPackedWork};

std::atomic<bool>& DirectFlag() {
  static std::atomic<bool> flag{EnvironmentMode() == GemmMode::kDirect};
  return flag;
}

}  // namespace

void Gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  // Column-major BLAS sees each row-major matrix transposed: C^T = op(B)^T op(A)^T.
  const int mi = static_cast<int>(n), ni = static_cast<int>(m), ki = static_cast<int>(k);
  const int la = static_cast<int>(lda), lb = static_cast<int>(ldb), lc = static_cast<int>(ldc);
  const char ta = trans_a ? 'T' : 'N', tb = trans_b ? 'T' : 'N';
  sgemm_(&tb, &ta, &mi, &ni, &ki, &alpha, b, &lb, a, &la, &beta, c, &lc);
}

bool PackedWeights() {
  return PackedFlag().load(std::memory_order_relaxed);
}

void SetPackedWeights(bool on, int64_t min_work) {
  PackedFlag().store(on && BestGemmIsa() != GemmIsa::kNone, std::memory_order_relaxed);
  min_packed_work.store(min_work, std::memory_order_relaxed);
}

bool DirectWeights() {
  return DirectFlag().load(std::memory_order_relaxed);
}

void SetDirectWeights(bool on) {
  DirectFlag().store(on, std::memory_order_relaxed);
}

GemmMode ParseGemmMode(const std::string& name) {
  if (name == "direct") return GemmMode::kDirect;
  if (name == "packed") return GemmMode::kPacked;
  if (name == "blas") return GemmMode::kBlas;
  throw std::invalid_argument("gemm mode '" + name + "': expected direct, packed or blas");
}

const char* GemmModeName(GemmMode mode) {
  switch (mode) {
    case GemmMode::kDirect:
      return "direct";
    case GemmMode::kPacked:
      return "packed";
    case GemmMode::kBlas:
      break;
  }
  return "blas";
}

GemmMode CurrentGemmMode() {
  if (!PackedWeights()) return GemmMode::kBlas;
  return DirectWeights() ? GemmMode::kDirect : GemmMode::kPacked;
}

void SetGemmMode(GemmMode mode) {
  SetPackedWeights(mode != GemmMode::kBlas);
  SetDirectWeights(mode == GemmMode::kDirect);
}

void WeightOperand::Set(bool trans_b, int64_t k, int64_t n, const float* b, int64_t ldb,
                        int64_t uses, int64_t rows) {
  // A transposed weight cannot be read in place: with direct products on, a small one read more
  // than once is packed (a copy the size of the weight) rather than left to sgemm.
  const bool direct = PackedWeights() && DirectWeights();
  packed_ =
      PackedWeights() && uses > 1 &&
      (rows * k * n >= min_packed_work.load(std::memory_order_relaxed) || (trans_b && direct));
  direct_ = !packed_ && !trans_b && direct;
  trans_b_ = trans_b;
  k_ = k;
  n_ = n;
  ldb_ = ldb;
  b_ = b;
  if (packed_) PackB(trans_b, k, n, b, ldb, &pack_);
}

void WeightOperand::Multiply(int64_t m, const float* a, int64_t lda, float beta, float* c,
                             int64_t ldc) const {
  if (packed_) {
    GemmPacked(m, a, lda, pack_, beta, c, ldc);
  } else if (direct_) {
    GemmDirect(m, n_, k_, a, lda, b_, ldb_, beta, c, ldc);
  } else {
    Gemm(false, trans_b_, m, n_, k_, 1.0f, a, lda, b_, ldb_, beta, c, ldc);
  }
}

}  // namespace rimlab::models
