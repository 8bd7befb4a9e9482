// Encoders: shapes from options, set outputs for RIM, mission padding, gradients reach the inputs'
// embeddings, and a grid encoder feeding a RIM core end to end.
#include <torch/torch.h>
// LibTorch brings glog, whose CHECK would shadow Catch2's: Catch2 must own it here.
#undef CHECK
#include <catch2/catch.hpp>

#include <sstream>
#include <vector>

#include "models/cores.h"
#include "models/encoders.h"

using namespace rimlab::models;  // NOLINT: test file

namespace {
torch::Tensor RandomView(int64_t b, int64_t h, int64_t w) {
  auto obj = torch::randint(0, 11, {b, h, w, 1});
  auto col = torch::randint(0, 6, {b, h, w, 1});
  auto st = torch::randint(0, 3, {b, h, w, 1});
  return torch::cat({obj, col, st}, 3).to(torch::kUInt8);
}
}  // namespace

TEST_CASE("grid encoder: vector and set outputs, sizes from options", "[encoders]") {
  torch::manual_seed(0);
  auto mission = MissionEncoderOptions(12).hidden_size(16);
  GridEncoder vec(GridEncoderOptions().mission(mission).output_size(40));
  auto img = RandomView(5, 7, 7);
  auto dir = torch::randint(0, 4, {5, 1}, torch::kInt32);
  auto tokens = torch::randint(1, 12, {5, 4}, torch::kInt32);
  auto v = vec(img, dir, tokens);
  CHECK(v.sizes() == torch::IntArrayRef({5, 40 + 8 + 16}));
  CHECK(vec->element_size() == 64);
  CHECK(vec->set_size() == 1);

  GridEncoder set(GridEncoderOptions()
                      .image_height(5)
                      .image_width(6)
                      .conv_channels({16})
                      .set_output(true)
                      .mission(mission));
  auto s = set(RandomView(3, 5, 6), torch::randint(0, 4, {3}, torch::kInt32),
               torch::randint(1, 12, {3, 2}, torch::kInt32));
  CHECK(s.sizes() == torch::IntArrayRef({3, 30, 16 + 2 + 8 + 16}));
  CHECK(set->set_size() == 30);
  CHECK(set->element_size() == s.size(2));
  CHECK_THROWS(set(RandomView(3, 7, 7), torch::zeros({3}, torch::kInt32),
                   torch::ones({3, 2}, torch::kInt32)));
}

TEST_CASE("grid encoder output depends on each cell, direction and mission", "[encoders]") {
  torch::manual_seed(1);
  GridEncoder enc(GridEncoderOptions().mission(MissionEncoderOptions(10)).set_output(true));
  auto img = RandomView(1, 7, 7);
  auto dir = torch::zeros({1}, torch::kInt32);
  auto tok = torch::tensor({{3, 4}}, torch::kInt32);
  auto base = enc(img, dir, tok);
  auto img2 = img.clone();
  img2[0][6][3][0] = (img2[0][6][3][0].item<int>() + 1) % 11;
  auto changed = enc(img2, dir, tok);
  // Only positions within the 2-layer 3x3 receptive field of cell (6, 3) change.
  auto diff = (changed - base).abs().sum(-1)[0];  // [49]
  CHECK(diff[6 * 7 + 3].item<float>() > 0);
  CHECK(diff[0].item<float>() == 0);
  CHECK_FALSE(torch::equal(enc(img, torch::ones({1}, torch::kInt32), tok), base));
  CHECK_FALSE(torch::equal(enc(img, dir, torch::tensor({{5, 4}}, torch::kInt32)), base));
}

TEST_CASE("mission encoder ignores trailing padding", "[encoders]") {
  torch::manual_seed(2);
  for (const std::string kind : {"gru", "bag"}) {
    MissionEncoder enc(MissionEncoderOptions(9).kind(kind));
    auto a = enc(torch::tensor({{2, 5, 7}}, torch::kInt64));
    auto b = enc(torch::tensor({{2, 5, 7, 0, 0}}, torch::kInt64));
    CHECK(torch::allclose(a, b, 1e-6, 1e-6));
    CHECK(a.size(1) == enc->output_size());
    CHECK_FALSE(torch::allclose(a, enc(torch::tensor({{2, 5, 8}}, torch::kInt64))));
  }
}

TEST_CASE("frame encoder and decoder shapes, set output, gradients", "[encoders]") {
  torch::manual_seed(3);
  FrameEncoder enc(FrameEncoderOptions(3).output_size(100));
  FrameDecoder dec(FrameDecoderOptions(100, 3));
  auto frames = torch::rand({2, 3, 64, 64});
  auto z = enc(frames);
  CHECK(z.sizes() == torch::IntArrayRef({2, 100}));
  auto logits = dec(z);
  CHECK(logits.sizes() == torch::IntArrayRef({2, 3, 64, 64}));
  torch::nn::functional::binary_cross_entropy_with_logits(logits, frames).backward();
  for (const auto& p : enc->parameters()) CHECK(p.grad().abs().sum().item<float>() > 0);
  FrameEncoder set(FrameEncoderOptions(1).set_output(true).image_size(32));
  auto s = set(torch::rand({2, 1, 32, 32}));
  CHECK(s.sizes() == torch::IntArrayRef({2, 4, 34}));
  CHECK(set->set_size() == 4);
  CHECK_THROWS(FrameEncoder(FrameEncoderOptions(1).image_size(40)));
}

TEST_CASE("a grid encoder's set feeds a RIM core; gradients reach the cell embeddings",
          "[encoders]") {
  torch::manual_seed(4);
  GridEncoder enc(GridEncoderOptions().set_output(true).conv_channels({8}));
  CoreOptions o;
  o.type = "rim";
  o.rim = RIMCellOptions().num_units(4).top_k(2).unit_size(8);
  auto core = MakeCore(o, enc->element_size(), enc->set_size());
  auto feats = enc(RandomView(2, 7, 7), torch::zeros({2}, torch::kInt32));
  auto step = core->Step(feats, core->InitialState(2), {});
  CHECK(step.info.input_attention.sizes() == torch::IntArrayRef({2, 4, 50}));
  step.output.sum().backward();
  CHECK(enc->cells->weight.grad().abs().sum().item<float>() > 0);
  // An LSTM core takes the same set flattened.
  o.type = "lstm";
  o.hidden_size = 16;
  auto lstm = MakeCore(o, enc->element_size(), enc->set_size());
  CHECK(lstm->Step(feats.detach(), lstm->InitialState(2), {}).output.sizes() ==
        torch::IntArrayRef({2, 16}));
}

TEST_CASE("acting reuses mission encodings until a parameter changes", "[encoders]") {
  torch::manual_seed(4);
  MissionEncoder enc(MissionEncoderOptions(20).kind("gru").hidden_size(16));
  enc->eval();
  const auto batch = [](std::vector<int64_t> first) {
    auto t = torch::randint(1, 20, {6, 3}, torch::kInt64);
    for (size_t i = 0; i < first.size(); ++i) t[0][static_cast<int64_t>(i)] = first[i];
    t[3] = t[0];  // a repeated mission within the batch
    return t;
  };
  const auto reference = [&enc](const torch::Tensor& ids) {
    return enc(ids).detach();  // grad mode on: the uncached path
  };
  const auto acting = [&enc](const torch::Tensor& ids) {
    c10::InferenceMode inference;
    return enc(ids).clone();
  };
  auto a = batch({1, 2, 3});
  CHECK(torch::allclose(acting(a), reference(a), 1e-5, 1e-6));
  // Cached missions mixed with new ones, one row at a time too.
  auto b = batch({1, 2, 3});
  CHECK(torch::allclose(acting(b), reference(b), 1e-5, 1e-6));
  CHECK(torch::allclose(acting(b.slice(0, 2, 3)), reference(b.slice(0, 2, 3)), 1e-5, 1e-6));

  // An optimiser-style in-place step changes the encoding: the cache must not serve old rows.
  const auto before = acting(a);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : enc->parameters()) p.add_(0.05);
  }
  const auto after = acting(a);
  CHECK_FALSE(torch::allclose(before, after, 1e-4, 1e-5));
  CHECK(torch::allclose(after, reference(a), 1e-5, 1e-6));

  // So must a load, which swaps the parameters' storage.
  MissionEncoder other(MissionEncoderOptions(20).kind("gru").hidden_size(16));
  std::stringstream saved;
  torch::save(other, saved);
  torch::load(enc, saved);
  enc->eval();
  CHECK(torch::allclose(acting(a), reference(a), 1e-5, 1e-6));
  other->eval();
  CHECK(torch::allclose(acting(a), other(a).detach(), 1e-5, 1e-6));
}
