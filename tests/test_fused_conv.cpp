// The fused image network (models/fused_conv.h) against torch's Conv2d/ReLU/MaxPool2d layers:
// outputs and every weight and bias gradient, on random and on MiniGrid-like views (whose repeated
// cells make max-pool ties), for several view sizes; and the grid encoder with and without it.
#include <torch/torch.h>
// LibTorch brings glog, whose CHECK would shadow Catch2's: Catch2 must own it here.
#undef CHECK
#include <catch2/catch.hpp>

#include <vector>

#include "models/encoders.h"
#include "models/fused_conv.h"

using namespace rimlab::models;  // NOLINT: test file

namespace {

struct Net {
  torch::nn::Conv2d c1{nullptr}, c2{nullptr}, c3{nullptr};
  std::vector<torch::Tensor> Params() const {
    return {c1->weight, c1->bias, c2->weight, c2->bias, c3->weight, c3->bias};
  }
};

Net MakeNet(int64_t ch1, int64_t ch2, int64_t ch3, uint64_t seed) {
  torch::manual_seed(seed);
  Net n;
  n.c1 = torch::nn::Conv2d(torch::nn::Conv2dOptions(3, ch1, 2));
  n.c2 = torch::nn::Conv2d(torch::nn::Conv2dOptions(ch1, ch2, 2));
  n.c3 = torch::nn::Conv2d(torch::nn::Conv2dOptions(ch2, ch3, 2));
  return n;
}

/// rl-starter-files' image network with torch's layers.
torch::Tensor Reference(Net n, const torch::Tensor& image) {
  auto x = image.permute({0, 3, 1, 2}).to(torch::kFloat32);
  x = torch::max_pool2d(torch::relu(n.c1->forward(x)), 2);
  x = torch::relu(n.c2->forward(x));
  x = torch::relu(n.c3->forward(x));
  return x.flatten(1);
}

torch::Tensor Fused(const Net& n, const torch::Tensor& image) {
  return FusedGridConv(image, n.c1->weight, n.c1->bias, n.c2->weight, n.c2->bias, n.c3->weight,
                       n.c3->bias);
}

/// Random indices in MiniGrid's ranges (object 0..10, colour 0..5, state 0..2).
torch::Tensor RandomView(int64_t b, int64_t h, int64_t w) {
  auto obj = torch::randint(0, 11, {b, h, w, 1});
  auto col = torch::randint(0, 6, {b, h, w, 1});
  auto state = torch::randint(0, 3, {b, h, w, 1});
  return torch::cat({obj, col, state}, 3).to(torch::kUInt8);
}

/// Mostly empty floor (1, 0, 0) and walls (2, 5, 0), a few objects: many identical 2x2 patches,
/// hence equal pre-activations inside pooling windows.
torch::Tensor MiniGridLikeView(int64_t b, int64_t h, int64_t w) {
  auto v = torch::zeros({b, h, w, 3}, torch::kUInt8);
  v.select(3, 0).fill_(1);
  v.narrow(1, 0, 1).select(3, 0).fill_(2);
  v.narrow(1, 0, 1).select(3, 1).fill_(5);
  for (int64_t i = 0; i < b; ++i) {
    const int64_t y = 1 + i % (h - 1), x = (3 * i) % w;
    v[i][y][x][0] = 6 + i % 2;  // a ball or a key
    v[i][y][x][1] = i % 6;
  }
  return v;
}

void CheckMatches(const Net& net, const torch::Tensor& image) {
  const auto ref = Reference(net, image);
  const auto fused = Fused(net, image);
  REQUIRE(fused.sizes() == ref.sizes());
  CHECK(torch::allclose(fused, ref, 1e-5, 1e-4));

  const auto up = torch::randn(ref.sizes());
  const auto params = net.Params();
  const auto g_ref = torch::autograd::grad({(ref * up).sum()}, params);
  const auto g_fused = torch::autograd::grad({(fused * up).sum()}, params);
  for (size_t i = 0; i < params.size(); ++i) {
    INFO("parameter " << i);
    REQUIRE(g_fused[i].sizes() == g_ref[i].sizes());
    CHECK(torch::allclose(g_fused[i], g_ref[i], 1e-4, 1e-3));
  }
}

}  // namespace

TEST_CASE("fused image network equals torch's layers on random views", "[fused_conv]") {
  const auto net = MakeNet(16, 32, 64, 1);
  torch::manual_seed(7);
  for (int64_t b : {1, 3, 64}) {
    INFO("batch " << b);
    CheckMatches(net, RandomView(b, 7, 7));
  }
}

TEST_CASE("fused image network handles larger views in NCHW flattening order", "[fused_conv]") {
  torch::manual_seed(8);
  // 9 x 8 gives a 2 x 1 output map, 11 x 11 a 3 x 3 one: the output's order is channel-major.
  const auto net = MakeNet(8, 12, 10, 2);
  CheckMatches(net, RandomView(5, 9, 8));
  CheckMatches(net, RandomView(4, 11, 11));
  CheckMatches(net, RandomView(2, 8, 7));  // odd rows and columns dropped by the pool
}

TEST_CASE("fused image network routes max-pool ties as torch does", "[fused_conv]") {
  torch::manual_seed(9);
  CheckMatches(MakeNet(16, 32, 64, 3), MiniGridLikeView(12, 7, 7));
  // Negative biases make whole windows negative: the ReLU then zeroes the pooled gradient.
  auto net = MakeNet(16, 32, 64, 4);
  {
    torch::NoGradGuard no_grad;
    net.c1->bias.fill_(-3.0);
  }
  CheckMatches(net, MiniGridLikeView(6, 7, 7));
  CheckMatches(net, RandomView(6, 7, 7));
}

TEST_CASE("fused image network without autograd gives the same output", "[fused_conv]") {
  const auto net = MakeNet(16, 32, 64, 5);
  torch::manual_seed(10);
  const auto image = RandomView(16, 7, 7);
  const auto ref = Reference(net, image).detach();
  torch::NoGradGuard no_grad;
  const auto out = Fused(net, image);
  CHECK_FALSE(out.requires_grad());
  CHECK(torch::allclose(out, ref, 1e-5, 1e-4));
}

TEST_CASE("fused image network refuses what it does not handle", "[fused_conv]") {
  const auto net = MakeNet(16, 32, 64, 6);
  const auto w1 = net.c1->weight, w2 = net.c2->weight, w3 = net.c3->weight;
  CHECK(FusedGridConvSupported(RandomView(2, 7, 7), w1, w2, w3));
  CHECK_FALSE(FusedGridConvSupported(RandomView(2, 7, 7).to(torch::kFloat32), w1, w2, w3));
  CHECK_FALSE(FusedGridConvSupported(RandomView(2, 6, 7), w1, w2, w3));
  CHECK_FALSE(FusedGridConvSupported(RandomView(2, 7, 7), w1.to(torch::kFloat64), w2, w3));
  CHECK_FALSE(FusedGridConvSupported(RandomView(2, 7, 7), w2, w1, w3));  // channels do not chain
  CHECK_THROWS_AS(Fused(net, RandomView(2, 7, 7).to(torch::kInt64)), std::invalid_argument);
}

TEST_CASE("grid encoder gives the same features and gradients fused and unfused", "[fused_conv]") {
  GridEncoderOptions o;
  o.arch("conv").conv_channels({16, 32, 64}).direction_embedding_size(0);
  torch::manual_seed(11);
  GridEncoder fused(o);
  GridEncoder plain(GridEncoderOptions(o).fused(false));
  {
    torch::NoGradGuard no_grad;
    const auto from = fused->parameters();
    auto to = plain->parameters();
    REQUIRE(from.size() == to.size());
    for (size_t i = 0; i < from.size(); ++i) to[i].copy_(from[i]);
  }
  const auto image = RandomView(32, 7, 7);
  const auto a = fused->forward(image, {});
  const auto b = plain->forward(image, {});
  REQUIRE(a.sizes() == b.sizes());
  CHECK(torch::allclose(a, b, 1e-5, 1e-4));
  a.sum().backward();
  b.sum().backward();
  const auto ga = fused->parameters();
  const auto gb = plain->parameters();
  for (size_t i = 0; i < ga.size(); ++i) {
    INFO("parameter " << i);
    CHECK(torch::allclose(ga[i].grad(), gb[i].grad(), 1e-4, 1e-3));
  }
}
