#pragma once
// The fused cells' per-step products through sgemm, or through weights packed once per unroll
// (models/gemm.h) for every product read more than once, however small: the tests' small cells
// would otherwise stay under the size where packing starts. Restores the default at the end.

#include "models/gemm.h"

namespace gemm_test {

struct GemmMode {
  explicit GemmMode(bool packed) { rimlab::models::SetPackedWeights(packed, 0); }
  ~GemmMode() { rimlab::models::SetPackedWeights(true); }
  GemmMode(const GemmMode&) = delete;
  GemmMode& operator=(const GemmMode&) = delete;
};

}  // namespace gemm_test
