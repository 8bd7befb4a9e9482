// FlatAdam (agents/flat_adam.h): torch's Adam, element for element, on flat buffers; checkpoints
// interchangeable with torch::optim::Adam's; storage swaps (loads) re-flattened; clipping.
#include <torch/torch.h>
// LibTorch brings glog, whose CHECK would shadow Catch2's: Catch2 must own it here.
#undef CHECK
#include <catch2/catch.hpp>

#include <sstream>
#include <vector>

#include "agents/flat_adam.h"

using rimlab::agents::FlatAdam;

namespace {

torch::nn::Sequential Net() {
  // Odd sizes: slices that do not fill whole 64-byte blocks.
  return torch::nn::Sequential(torch::nn::Linear(7, 13), torch::nn::Tanh(),
                               torch::nn::Linear(13, 3));
}

void Backward(torch::nn::Sequential& net, int i) {
  torch::manual_seed(100 + i);
  auto x = torch::randn({9, 7});
  for (auto& p : net->parameters()) {
    if (p.grad().defined()) p.mutable_grad().zero_();
  }
  net->forward(x).pow(2).sum().backward();
}

std::vector<torch::Tensor> Values(torch::nn::Sequential& net) {
  std::vector<torch::Tensor> out;
  for (const auto& p : net->parameters()) out.push_back(p.detach().clone());
  return out;
}

void RequireClose(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    INFO("tensor " << i);
    REQUIRE(torch::allclose(a[i], b[i], 1e-6, 1e-7));
  }
}

}  // namespace

TEST_CASE("FlatAdam follows torch's Adam step for step, and goes flat") {
  torch::manual_seed(1);
  auto a = Net();
  auto b = Net();
  for (size_t i = 0; i < a->parameters().size(); ++i) {
    torch::NoGradGuard g;
    b->parameters()[i].copy_(a->parameters()[i]);
  }
  const auto options = torch::optim::AdamOptions(0.01).eps(1e-5);
  torch::optim::Adam reference(a->parameters(), options);
  FlatAdam flat(b->parameters(), options);
  for (int i = 0; i < 20; ++i) {
    Backward(a, i);
    Backward(b, i);
    reference.step();
    flat.step();
    RequireClose(Values(a), Values(b));
  }
  CHECK(flat.flat());
  // Parameters kept their identity (modules and other optimisers still hold them).
  CHECK(b->parameters()[0].unsafeGetTensorImpl() ==
        b[0]->as<torch::nn::Linear>()->weight.unsafeGetTensorImpl());
}

TEST_CASE("FlatAdam checkpoints load into torch's Adam and back, and loads re-flatten") {
  torch::manual_seed(2);
  auto net = Net();
  const auto options = torch::optim::AdamOptions(0.01);
  FlatAdam flat(net->parameters(), options);
  for (int i = 0; i < 5; ++i) {
    Backward(net, i);
    flat.step();
  }
  std::stringstream model_bytes, opt_bytes;
  torch::save(net, model_bytes);
  torch::save(flat, opt_bytes);
  {
    // A checkpoint holds each moment once, not the flat buffer per parameter: no bigger than
    // torch's Adam's for the same network.
    auto other = Net();
    torch::optim::Adam adam(other->parameters(), options);
    Backward(other, 0);
    adam.step();
    std::stringstream adam_bytes;
    torch::save(adam, adam_bytes);
    CHECK(opt_bytes.str().size() <= adam_bytes.str().size() + 64);
  }

  // Into torch's Adam on a fresh copy: both continue identically.
  auto twin = Net();
  torch::load(twin, model_bytes);
  torch::optim::Adam reference(twin->parameters(), options);
  std::stringstream copy(opt_bytes.str());
  torch::load(reference, copy);
  for (int i = 5; i < 10; ++i) {
    Backward(net, i);
    Backward(twin, i);
    flat.step();
    reference.step();
    RequireClose(Values(net), Values(twin));
  }

  // And a torch Adam checkpoint loaded into the flat one (new storage for its moments and,
  // through torch::load of the model, for the parameters) continues exactly too.
  std::stringstream ref_model, ref_opt;
  torch::save(twin, ref_model);
  torch::save(reference, ref_opt);
  torch::load(net, ref_model);
  torch::load(flat, ref_opt);
  CHECK_FALSE(flat.flat());
  for (int i = 10; i < 15; ++i) {
    Backward(net, i);
    Backward(twin, i);
    flat.step();
    reference.step();
    RequireClose(Values(net), Values(twin));
  }
  CHECK(flat.flat());
}

TEST_CASE("FlatAdam clips the global gradient norm like the per-tensor clip") {
  torch::manual_seed(3);
  auto net = Net();
  FlatAdam flat(net->parameters(), torch::optim::AdamOptions(0.01));
  for (const bool flattened : {false, true}) {
    Backward(net, 1);
    if (flattened) flat.step();  // goes flat
    Backward(net, 1);
    double expected = 0.0;
    for (const auto& p : net->parameters()) expected += p.grad().pow(2).sum().item<double>();
    expected = std::sqrt(expected);
    const double norm = flat.ClipGradNorm(0.5 * expected);
    CHECK(norm == Approx(expected).epsilon(1e-5));
    double after = 0.0;
    for (const auto& p : net->parameters()) after += p.grad().pow(2).sum().item<double>();
    CHECK(std::sqrt(after) == Approx(0.5 * expected).epsilon(1e-4));
    CHECK(flat.ClipGradNorm(0.0) == Approx(0.5 * expected).epsilon(1e-4));  // 0: measure only
  }
}

TEST_CASE("FlatAdam falls back to torch's step where the flat path does not apply") {
  torch::manual_seed(4);
  auto a = Net();
  auto b = Net();
  for (size_t i = 0; i < a->parameters().size(); ++i) {
    torch::NoGradGuard g;
    b->parameters()[i].copy_(a->parameters()[i]);
  }
  const auto options = torch::optim::AdamOptions(0.01).weight_decay(0.1);
  torch::optim::Adam reference(a->parameters(), options);
  FlatAdam flat(b->parameters(), options);
  for (int i = 0; i < 5; ++i) {
    Backward(a, i);
    Backward(b, i);
    reference.step();
    flat.step();
  }
  CHECK_FALSE(flat.flat());
  RequireClose(Values(a), Values(b));
}

TEST_CASE("a FlatAdam run resumed from its checkpoint continues bit for bit") {
  torch::manual_seed(5);
  auto net = Net();
  const auto options = torch::optim::AdamOptions(0.01);
  FlatAdam flat(net->parameters(), options);
  for (int i = 0; i < 5; ++i) {
    Backward(net, i);
    flat.ClipGradNorm(0.5);
    flat.step();
  }
  std::stringstream model_bytes, opt_bytes;
  torch::save(net, model_bytes);
  torch::save(flat, opt_bytes);
  auto twin = Net();
  torch::load(twin, model_bytes);
  FlatAdam resumed(twin->parameters(), options);
  torch::load(resumed, opt_bytes);
  for (int i = 5; i < 10; ++i) {
    Backward(net, i);
    Backward(twin, i);
    CHECK(flat.ClipGradNorm(0.5) == resumed.ClipGradNorm(0.5));
    flat.step();
    resumed.step();
    const auto a = Values(net), b = Values(twin);
    for (size_t k = 0; k < a.size(); ++k) REQUIRE(torch::equal(a[k], b[k]));
  }
}

TEST_CASE("a flat step bumps every parameter's version, as an in-place step would") {
  auto net = Net();
  FlatAdam flat(net->parameters(), torch::optim::AdamOptions(0.01));
  Backward(net, 0);
  flat.step();
  REQUIRE(flat.flat());
  std::vector<int64_t> before;
  for (const auto& p : net->parameters()) before.push_back(p._version());
  Backward(net, 1);
  flat.step();
  for (size_t i = 0; i < before.size(); ++i) CHECK(net->parameters()[i]._version() > before[i]);
}
