#include "models/fused_conv.h"

#include <cmath>
#include <cstdint>
#include <stdexcept>

namespace rimlab::models {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

/// Conv weight [C, Cin, 2, 2] as [C, 4 Cin] with columns in (dy, dx, cin) order, the order
/// Im2Col gathers a patch in.
torch::Tensor PatchWeight(const torch::Tensor& w) {
  return w.permute({0, 2, 3, 1}).reshape({w.size(0), -1}).contiguous();
}

/// The inverse layout, for the weight gradient: [C, 4 Cin] -> [C, Cin, 2, 2].
torch::Tensor ConvWeight(const torch::Tensor& g, int64_t cin) {
  return g.view({g.size(0), 2, 2, cin}).permute({0, 3, 1, 2}).contiguous();
}

/// The 2x2 patches of an NHWC map [b, h, w, c] as rows [b (h-1) (w-1), 4c].
template <typename T>
void Im2Col(const T* in, int64_t b, int64_t h, int64_t w, int64_t c, float* out) {
  for (int64_t n = 0; n < b; ++n) {
    for (int64_t y = 0; y + 1 < h; ++y) {
      for (int64_t x = 0; x + 1 < w; ++x) {
        for (int64_t dy = 0; dy < 2; ++dy) {
          const T* src = in + ((n * h + y + dy) * w + x) * c;
          for (int64_t k = 0; k < 2 * c; ++k) *out++ = static_cast<float>(src[k]);
        }
      }
    }
  }
}

/// Adds patch rows [b (h-1) (w-1), 4c] back onto the NHWC map [b, h, w, c] they came from.
void Col2Im(const float* cols, int64_t b, int64_t h, int64_t w, int64_t c, float* out) {
  for (int64_t n = 0; n < b; ++n) {
    for (int64_t y = 0; y + 1 < h; ++y) {
      for (int64_t x = 0; x + 1 < w; ++x) {
        for (int64_t dy = 0; dy < 2; ++dy) {
          float* dst = out + ((n * h + y + dy) * w + x) * c;
          for (int64_t k = 0; k < 2 * c; ++k) dst[k] += *cols++;
        }
      }
    }
  }
}

/// Rows of a conv output [b h w, c] to torch's NCHW flattening [b, c h w]; and back.
torch::Tensor ToNchwFlat(const torch::Tensor& rows, int64_t b, int64_t hw) {
  if (hw == 1) return rows;
  return rows.view({b, hw, -1}).transpose(1, 2).reshape({b, -1});
}
torch::Tensor FromNchwFlat(const torch::Tensor& flat, int64_t b, int64_t hw) {
  if (hw == 1) return flat.contiguous();
  return flat.view({b, -1, hw}).transpose(1, 2).reshape({b * hw, -1}).contiguous();
}

/// g *= (out > 0) elementwise: ReLU's backward given its output.
void ReluBackward(const torch::Tensor& out, torch::Tensor& g) {
  const float* o = out.data_ptr<float>();
  float* d = g.data_ptr<float>();
  const int64_t n = g.numel();
  for (int64_t i = 0; i < n; ++i) d[i] = o[i] > 0.0f ? d[i] : 0.0f;
}

class FusedGridConvFunction : public torch::autograd::Function<FusedGridConvFunction> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& image,
                               const torch::Tensor& w1, const torch::Tensor& b1,
                               const torch::Tensor& w2, const torch::Tensor& b2,
                               const torch::Tensor& w3, const torch::Tensor& b3) {
    const auto img = image.contiguous();
    const int64_t b = img.size(0), h = img.size(1), w = img.size(2);
    const int64_t c1 = w1.size(0), c2 = w2.size(0);
    const int64_t h1 = h - 1, w1s = w - 1;     // conv 1
    const int64_t ph = h1 / 2, pw = w1s / 2;   // pool
    const int64_t h2 = ph - 1, w2s = pw - 1;   // conv 2
    const int64_t h3 = h2 - 1, w3s = w2s - 1;  // conv 3
    const auto opts = w1.options();

    auto col1 = torch::empty({b * h1 * w1s, 12}, opts);
    Im2Col(img.data_ptr<uint8_t>(), b, h, w, 3, col1.data_ptr<float>());
    const auto a1 = torch::addmm(b1, col1, PatchWeight(w1).t());  // [b h1 w1, c1]

    // Max-pool then ReLU (the same as ReLU then max-pool, and one pass). `arg` keeps the row of
    // a1 each maximum came from; the first maximum in row-major order wins, as in torch.
    auto p1 = torch::empty({b, ph, pw, c1}, opts);
    auto arg = torch::empty({b, ph, pw, c1}, opts.dtype(torch::kInt32));
    {
      const float* a = a1.data_ptr<float>();
      float* p = p1.data_ptr<float>();
      int32_t* r = arg.data_ptr<int32_t>();
      for (int64_t n = 0; n < b; ++n) {
        for (int64_t py = 0; py < ph; ++py) {
          for (int64_t px = 0; px < pw; ++px) {
            const int64_t first = (n * h1 + 2 * py) * w1s + 2 * px;
            for (int64_t k = 0; k < c1; ++k) {
              p[k] = a[first * c1 + k];
              r[k] = static_cast<int32_t>(first);
            }
            for (int64_t dy = 0; dy < 2; ++dy) {
              for (int64_t dx = 0; dx < 2; ++dx) {
                if (dy == 0 && dx == 0) continue;
                const int64_t row = first + dy * w1s + dx;
                for (int64_t k = 0; k < c1; ++k) {
                  const float v = a[row * c1 + k];
                  if (v > p[k] || std::isnan(v)) {
                    p[k] = v;
                    r[k] = static_cast<int32_t>(row);
                  }
                }
              }
            }
            for (int64_t k = 0; k < c1; ++k) p[k] = p[k] > 0.0f || std::isnan(p[k]) ? p[k] : 0.0f;
            p += c1;
            r += c1;
          }
        }
      }
    }

    auto col2 = torch::empty({b * h2 * w2s, 4 * c1}, opts);
    Im2Col(p1.data_ptr<float>(), b, ph, pw, c1, col2.data_ptr<float>());
    const auto wm2 = PatchWeight(w2);
    auto r2 = torch::addmm(b2, col2, wm2.t()).clamp_min_(0.0);  // [b h2 w2, c2]

    auto col3 = torch::empty({b * h3 * w3s, 4 * c2}, opts);
    Im2Col(r2.data_ptr<float>(), b, h2, w2s, c2, col3.data_ptr<float>());
    const auto wm3 = PatchWeight(w3);
    auto r3 = torch::addmm(b3, col3, wm3.t()).clamp_min_(0.0);  // [b h3 w3, c3]

    ctx->save_for_backward({col1, arg, p1, col2, wm2, r2, col3, wm3, r3});
    ctx->saved_data["shape"] = std::vector<int64_t>{b, h, w};
    // The output is a tensor of its own (never r3 itself), so that r3 stays a plain saved input.
    return ToNchwFlat(r3, b, h3 * w3s).clone();
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& col1 = saved[0];
    const auto& arg = saved[1];
    const auto& p1 = saved[2];
    const auto& col2 = saved[3];
    const auto& wm2 = saved[4];
    const auto& r2 = saved[5];
    const auto& col3 = saved[6];
    const auto& wm3 = saved[7];
    const auto& r3 = saved[8];
    if (!grads[0].defined()) return variable_list(7);
    const auto shape = ctx->saved_data["shape"].toIntVector();
    const int64_t b = shape[0], h = shape[1], w = shape[2];
    const int64_t h1 = h - 1, w1s = w - 1, ph = h1 / 2, pw = w1s / 2;
    const int64_t h2 = ph - 1, w2s = pw - 1, h3 = h2 - 1, w3s = w2s - 1;
    const int64_t c1 = p1.size(3), c2 = r2.size(1);

    auto g3 = FromNchwFlat(grads[0], b, h3 * w3s);
    if (g3.data_ptr() == grads[0].data_ptr()) g3 = g3.clone();  // masked in place below
    ReluBackward(r3, g3);
    auto d_w3 = torch::mm(g3.t(), col3);
    auto d_b3 = g3.sum(0);

    const auto d_col3 = torch::mm(g3, wm3);  // [b h3 w3, 4 c2]
    auto g2 = torch::zeros_like(r2);
    Col2Im(d_col3.data_ptr<float>(), b, h2, w2s, c2, g2.data_ptr<float>());
    ReluBackward(r2, g2);
    auto d_w2 = torch::mm(g2.t(), col2);
    auto d_b2 = g2.sum(0);

    const auto d_col2 = torch::mm(g2, wm2);  // [b h2 w2, 4 c1]
    auto d_p1 = torch::zeros_like(p1);
    Col2Im(d_col2.data_ptr<float>(), b, ph, pw, c1, d_p1.data_ptr<float>());
    // Through ReLU (p1 > 0) and the pool: each pooled gradient goes to its window's maximum.
    auto g1 = torch::zeros({b * h1 * w1s, c1}, p1.options());
    {
      const float* p = p1.data_ptr<float>();
      const float* dp = d_p1.data_ptr<float>();
      const int32_t* r = arg.data_ptr<int32_t>();
      float* g = g1.data_ptr<float>();
      const int64_t n = p1.numel();
      for (int64_t i = 0; i < n; ++i) {
        if (p[i] > 0.0f) g[static_cast<int64_t>(r[i]) * c1 + i % c1] += dp[i];
      }
    }
    auto d_w1 = torch::mm(g1.t(), col1);
    auto d_b1 = g1.sum(0);
    return {torch::Tensor(),
            ConvWeight(d_w1, 3),
            d_b1,
            ConvWeight(d_w2, c1),
            d_b2,
            ConvWeight(d_w3, c2),
            d_b3};
  }
};

bool IsConv2x2(const torch::Tensor& w, int64_t in) {
  return w.defined() && w.dim() == 4 && w.size(1) == in && w.size(2) == 2 && w.size(3) == 2 &&
         w.scalar_type() == torch::kFloat32 && w.device().is_cpu();
}

}  // namespace

bool FusedGridConvSupported(const torch::Tensor& image, const torch::Tensor& w1,
                            const torch::Tensor& w2, const torch::Tensor& w3) {
  return image.defined() && image.dim() == 4 && image.size(1) >= 7 && image.size(2) >= 7 &&
         image.size(3) == 3 && image.scalar_type() == torch::kUInt8 && image.device().is_cpu() &&
         image.size(0) * image.size(1) * image.size(2) < (int64_t{1} << 31) && IsConv2x2(w1, 3) &&
         IsConv2x2(w2, w1.size(0)) && IsConv2x2(w3, w2.size(0));
}

torch::Tensor FusedGridConv(const torch::Tensor& image, const torch::Tensor& w1,
                            const torch::Tensor& b1, const torch::Tensor& w2,
                            const torch::Tensor& b2, const torch::Tensor& w3,
                            const torch::Tensor& b3) {
  if (!FusedGridConvSupported(image, w1, w2, w3)) {
    throw std::invalid_argument(
        "FusedGridConv: expected a uint8 [B, H>=7, W>=7, 3] image and "
        "float32 CPU 2x2 conv weights, got image " +
        c10::str(image.sizes()));
  }
  return FusedGridConvFunction::apply(image, w1, b1, w2, b2, w3, b3);
}

}  // namespace rimlab::models
