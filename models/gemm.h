#pragma once
// The fused cells' matrix products: BLAS's sgemm for products whose operands change at every
// call, and WeightOperand for a weight that one unroll multiplies by at every step, packed once
// for the kernels of models/packed_gemm.h when large, read in place by the same kernels when small
// (or left to sgemm where those kernels do not run, or when RIMLAB_GEMM asks for it).

#include <cstdint>
#include <string>

#include "models/packed_gemm.h"

namespace rimlab::models {

/// C = alpha op(A) op(B) + beta C on row-major matrices (op(X) = X^T where the flag is set; C is
/// m x n, the inner size k), straight through BLAS's sgemm: at these sizes the checks and
/// dispatch of torch::mm around the same call cost as much as the product.
void Gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

/// Below this many multiply-adds per product a weight is not packed (WeightOperand::Set).
constexpr int64_t kDefaultMinPackedWork = int64_t{1} << 20;

/// Whether WeightOperand packs: on by default where a packed kernel runs; RIMLAB_GEMM=blas in the
/// environment, or SetPackedWeights(false), sends every product to sgemm (the bench compares the
/// two in one run). `min_work` 0 packs every weight read more than once, whatever its size (the
/// tests' small cells take the packed path that way).
bool PackedWeights();
void SetPackedWeights(bool on, int64_t min_work = kDefaultMinPackedWork);

/// Whether WeightOperand reads the weights it does not pack in place with GemmDirect (when
/// PackedWeights() and the weight is not transposed) instead of sending them to sgemm: on by
/// default; RIMLAB_GEMM=packed in the environment, or SetDirectWeights(false), turns it off (the
/// benches compare the three ways in one run).
bool DirectWeights();
void SetDirectWeights(bool on);

/// The three ways together, as RIMLAB_GEMM and the benches' `gemm=` key name them: "direct"
/// (packed when large, in place when small: the default), "packed" (packed when large, sgemm
/// otherwise), "blas" (everything through sgemm).
enum class GemmMode { kDirect, kPacked, kBlas };
/// Throws std::invalid_argument naming `name` and the three names when it is none of them.
GemmMode ParseGemmMode(const std::string& name);
const char* GemmModeName(GemmMode mode);
/// The mode the switches above are in (kBlas where no packed kernel runs).
GemmMode CurrentGemmMode();
/// Sets both switches (packing from the default size); kDirect and kPacked fall back to sgemm
/// where no packed kernel runs.
void SetGemmMode(GemmMode mode);

/// A constant right operand op(B) (k x n) for repeated products C = A op(B) + beta C.
class WeightOperand {
 public:
  /// Packs op(B) when PackedWeights(), the weight is to be read by at least two products
  /// (`uses`) and each product (`rows` x k x n) does at least the `min_work` of
  /// SetPackedWeights (by default kDefaultMinPackedWork) multiply-adds, or B is transposed and
  /// DirectWeights().
  /// Otherwise keeps the pointer (B must then outlive the products) and multiplies with B read in
  /// place (GemmDirect) when DirectWeights() and B is not transposed, through sgemm otherwise: a
  /// transposed pack of LSTM-600's W_hh costs about as much as one step, and sgemm packs both
  /// operands at every call, which for a small cell's products (units of 16, LSTM-64, 32-row
  /// minibatches) costs as much as the arithmetic.
  void Set(bool trans_b, int64_t k, int64_t n, const float* b, int64_t ldb, int64_t uses,
           int64_t rows);
  void Multiply(int64_t m, const float* a, int64_t lda, float beta, float* c, int64_t ldc) const;

 private:
  bool packed_ = false, direct_ = false, trans_b_ = false;
  int64_t k_ = 0, n_ = 0, ldb_ = 0;
  const float* b_ = nullptr;
  PackedB pack_;
};

}  // namespace rimlab::models
