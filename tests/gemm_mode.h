#pragma once
// The fused cells' per-step products each way models/gemm.h offers: through sgemm (kBlas);
// through weights packed once per unroll for every product read more than once, however small
// (kPacked: the tests' small cells would otherwise stay under the size where packing starts);
// and the default (kDefault: at the tests' sizes, weights read in place by GemmDirect, transposed
// ones packed). Restores the default at the end.

#include "models/gemm.h"

namespace gemm_test {

enum Mode { kBlas = 0, kPacked = 1, kDefault = 2 };

struct GemmMode {
  explicit GemmMode(int mode) {
    rimlab::models::SetPackedWeights(mode != kBlas,
                                     mode == kPacked ? 0 : rimlab::models::kDefaultMinPackedWork);
    rimlab::models::SetDirectWeights(mode == kDefault);
  }
  ~GemmMode() {
    rimlab::models::SetPackedWeights(true);
    rimlab::models::SetDirectWeights(true);
  }
  GemmMode(const GemmMode&) = delete;
  GemmMode& operator=(const GemmMode&) = delete;
};

}  // namespace gemm_test
