// The packed-weight products (models/packed_gemm.h, models/gemm.h) against a plain triple loop in
// double precision, for every kernel this CPU runs: remainders of rows, columns and the inner
// size around each kernel's tile and panel, padded leading dimensions (the padding must stay
// untouched), beta 0 over NaN (C must not be read) and beta 1, the shapes the fused cells use,
// and sizes past one k slice and one row block. GemmDirect (the weight read in place) the same.
// WeightOperand gives the same products packed, read in place and through sgemm.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/gemm.h"
#include "models/packed_gemm.h"

using namespace rimlab::models;

namespace {

struct Case {
  bool trans_b;
  int64_t m, n, k, pad;
  float beta;
};

std::string Describe(const Case& c) {
  std::ostringstream o;
  o << "trans_b " << c.trans_b << " m " << c.m << " n " << c.n << " k " << c.k << " pad " << c.pad
    << " beta " << c.beta;
  return o.str();
}

/// Largest error of C against the loop, relative to sum |a_ip b_pj| (+ |beta c|); false when a
/// padding column changed.
bool Check(const Case& cs, std::mt19937* rng, double* max_err,
           const std::function<void(const float*, int64_t, const float*, int64_t, float*, int64_t)>&
               product) {
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  const int64_t lda = cs.k + cs.pad, ldb = (cs.trans_b ? cs.k : cs.n) + cs.pad, ldc = cs.n + cs.pad;
  std::vector<float> a(static_cast<size_t>(cs.m * lda)),
      b(static_cast<size_t>((cs.trans_b ? cs.n : cs.k) * ldb)), c(static_cast<size_t>(cs.m * ldc));
  for (auto& x : a) x = u(*rng);
  for (auto& x : b) x = u(*rng);
  for (size_t i = 0; i < c.size(); ++i) {
    const bool padding = static_cast<int64_t>(i) % ldc >= cs.n;
    c[i] = cs.beta == 0.0f && !padding ? std::numeric_limits<float>::quiet_NaN() : u(*rng);
  }
  const std::vector<float> c0 = c;
  product(a.data(), lda, b.data(), ldb, c.data(), ldc);
  *max_err = 0.0;
  for (int64_t i = 0; i < cs.m; ++i) {
    for (int64_t j = 0; j < ldc; ++j) {
      const size_t at = static_cast<size_t>(i * ldc + j);
      if (j >= cs.n) {
        if (c[at] != c0[at]) return false;
        continue;
      }
      double s = 0.0, scale = 0.0;
      for (int64_t p = 0; p < cs.k; ++p) {
        const double bv =
            cs.trans_b ? b[static_cast<size_t>(j * ldb + p)] : b[static_cast<size_t>(p * ldb + j)];
        s += static_cast<double>(a[static_cast<size_t>(i * lda + p)]) * bv;
        scale += std::fabs(static_cast<double>(a[static_cast<size_t>(i * lda + p)]) * bv);
      }
      if (cs.beta != 0.0f) {
        s += cs.beta * static_cast<double>(c0[at]);
        scale += std::fabs(cs.beta * static_cast<double>(c0[at]));
      }
      const double err = std::fabs(static_cast<double>(c[at]) - s) / (scale + 1e-30);
      if (!(err <= *max_err)) *max_err = std::isnan(err) ? 1e30 : err;
    }
  }
  return true;
}

std::vector<GemmIsa> Kernels() {
  std::vector<GemmIsa> out;
  if (static_cast<int>(BestGemmIsa()) >= static_cast<int>(GemmIsa::kAvx2)) {
    out.push_back(GemmIsa::kAvx2);
  }
  if (BestGemmIsa() == GemmIsa::kAvx512) out.push_back(GemmIsa::kAvx512);
  return out;
}

std::vector<Case> Cases() {
  std::vector<Case> out;
  // Around AVX-512's 12 x 32 tile and AVX2's 6 x 16, and the 512-deep k slice.
  for (int tb = 0; tb < 2; ++tb) {
    for (int64_t m : {1, 5, 6, 7, 12, 13, 43, 64}) {
      for (int64_t n : {1, 15, 16, 17, 32, 33, 401}) {
        for (int64_t k : {1, 7, 100, 511, 512, 513}) {
          for (float beta : {0.0f, 1.0f}) {
            out.push_back({tb == 1, m, n, k, (m + n + k) % 3 == 0 ? 0 : 5, beta});
          }
        }
      }
    }
  }
  // The fused cells' shapes: a unit's [read | h] by its stacked weight, the backward through its
  // transpose, query, communication, output projection, LSTM-600's W_hh both ways.
  out.push_back({false, 64, 400, 500, 0, 1.0f});
  out.push_back({true, 43, 500, 400, 0, 0.0f});
  out.push_back({false, 64, 64, 100, 400, 0.0f});
  out.push_back({false, 64, 384, 100, 0, 0.0f});
  out.push_back({true, 384, 200, 128, 0, 1.0f});
  out.push_back({true, 64, 2400, 600, 0, 1.0f});
  out.push_back({false, 64, 600, 2400, 0, 0.0f});
  // Past one row block (192) and one k slice, and a general beta.
  out.push_back({false, 400, 33, 1030, 3, 1.0f});
  out.push_back({true, 769, 65, 513, 0, 0.0f});
  out.push_back({false, 7, 33, 9, 2, 0.5f});
  return out;
}

}  // namespace

TEST_CASE("GemmPacked equals the plain loop for every kernel, shape and remainder", "[gemm]") {
  const auto kernels = Kernels();
  if (kernels.empty()) {
    WARN("this CPU has neither AVX2+FMA nor AVX-512F: the fused cells use sgemm");
    return;
  }
  std::mt19937 rng(42);
  for (GemmIsa isa : kernels) {
    for (const Case& cs : Cases()) {
      INFO("kernel " << static_cast<int>(isa) << ", " << Describe(cs));
      double err = 0.0;
      const bool untouched = Check(
          cs, &rng, &err,
          [&](const float* a, int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc) {
            PackedB packed;
            PackB(cs.trans_b, cs.k, cs.n, b, ldb, &packed, isa);
            REQUIRE(packed.nr == (isa == GemmIsa::kAvx512 ? 32 : 16));
            GemmPacked(cs.m, a, lda, packed, cs.beta, c, ldc);
          });
      REQUIRE(untouched);
      REQUIRE(err <= 1e-5);
    }
  }
}

TEST_CASE("GemmDirect equals the plain loop for every kernel, shape and remainder", "[gemm]") {
  const auto kernels = Kernels();
  if (kernels.empty()) return;
  std::mt19937 rng(11);
  auto cases = Cases();
  // The small cell's products: query, gates, communication, output projection (units of 16).
  for (const Case& cs : {Case{false, 32, 64, 16, 0, 0.0f}, Case{false, 32, 64, 80, 0, 1.0f},
                         Case{false, 32, 384, 16, 0, 0.0f}, Case{false, 192, 32, 128, 0, 1.0f},
                         Case{false, 16, 256, 64, 0, 1.0f}}) {
    cases.push_back(cs);
  }
  for (GemmIsa isa : kernels) {
    for (const Case& cs : cases) {
      if (cs.trans_b) continue;
      INFO("kernel " << static_cast<int>(isa) << ", " << Describe(cs));
      double err = 0.0;
      const bool untouched = Check(
          cs, &rng, &err,
          [&](const float* a, int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc) {
            GemmDirect(cs.m, cs.n, cs.k, a, lda, b, ldb, cs.beta, c, ldc, isa);
          });
      REQUIRE(untouched);
      REQUIRE(err <= 1e-5);
    }
  }
}

TEST_CASE("a packed buffer is reused: a smaller weight packed into it multiplies correctly",
          "[gemm]") {
  if (Kernels().empty()) return;
  std::mt19937 rng(7);
  PackedB packed;
  for (const Case& cs : {Case{false, 13, 401, 513, 0, 0.0f}, Case{true, 5, 17, 7, 2, 1.0f}}) {
    INFO(Describe(cs));
    double err = 0.0;
    REQUIRE(
        Check(cs, &rng, &err,
              [&](const float* a, int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc) {
                PackB(cs.trans_b, cs.k, cs.n, b, ldb, &packed);
                GemmPacked(cs.m, a, lda, packed, cs.beta, c, ldc);
              }));
    CHECK(err <= 1e-5);
  }
}

TEST_CASE("WeightOperand: packed, in place, through sgemm and for a single use, the same product",
          "[gemm]") {
  const bool before = PackedWeights();
  std::mt19937 rng(3);
  for (bool packed : {true, false}) {
    for (bool direct : {true, false}) {
      for (int64_t uses : {1, 32}) {
        SetPackedWeights(packed);
        SetDirectWeights(direct);
        for (const Case& cs : {Case{false, 64, 400, 500, 3, 1.0f},
                               Case{true, 43, 500, 400, 0, 0.0f}, Case{true, 3, 17, 9, 1, 0.0f},
                               Case{false, 32, 64, 80, 2, 1.0f}, Case{false, 5, 17, 9, 1, 0.0f}}) {
          INFO("packed " << packed << " direct " << direct << " uses " << uses << ", "
                         << Describe(cs));
          double err = 0.0;
          REQUIRE(Check(
              cs, &rng, &err,
              [&](const float* a, int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc) {
                WeightOperand w;
                w.Set(cs.trans_b, cs.k, cs.n, b, ldb, uses, cs.m);
                w.Multiply(cs.m, a, lda, cs.beta, c, ldc);
              }));
          CHECK(err <= 1e-5);
        }
      }
    }
  }
  SetPackedWeights(before);
  SetDirectWeights(true);
}

TEST_CASE("PackB and GemmDirect refuse a kernel this CPU does not run", "[gemm]") {
  PackedB packed;
  const float w = 1.0f;
  CHECK_THROWS_AS(PackB(false, 1, 1, &w, 1, &packed, GemmIsa::kNone), std::invalid_argument);
  float c = 0.0f;
  CHECK_THROWS_AS(GemmDirect(1, 1, 1, &w, 1, &w, 1, 0.0f, &c, 1, GemmIsa::kNone),
                  std::invalid_argument);
  if (BestGemmIsa() != GemmIsa::kAvx512) {
    CHECK_THROWS_AS(PackB(false, 1, 1, &w, 1, &packed, GemmIsa::kAvx512), std::invalid_argument);
  }
}

TEST_CASE("gemm modes: parsed by name, set and read back, a wrong name refused", "[gemm]") {
  const GemmMode before = CurrentGemmMode();
  for (const char* name : {"direct", "packed", "blas"}) {
    const GemmMode mode = ParseGemmMode(name);
    CHECK(std::string(GemmModeName(mode)) == name);
    SetGemmMode(mode);
    // Without a packed kernel every mode is sgemm.
    CHECK(CurrentGemmMode() == (BestGemmIsa() == GemmIsa::kNone ? GemmMode::kBlas : mode));
    CHECK(PackedWeights() == (mode != GemmMode::kBlas && BestGemmIsa() != GemmIsa::kNone));
  }
  try {
    ParseGemmMode("fast");
    FAIL("no error for an unknown mode");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()) == "gemm mode 'fast': expected direct, packed or blas");
  }
  SetGemmMode(before);
}
