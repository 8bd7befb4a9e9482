// GAE and recurrent minibatch layout (agents/rollout.h) against plain reference loops.
#include <torch/torch.h>
// LibTorch brings glog, whose CHECK would shadow Catch2's: Catch2 must own it here.
#undef CHECK
#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <vector>

#include "agents/rollout.h"

using rimlab::agents::ExplainedVariance;
using rimlab::agents::Gae;

namespace {

/// The textbook definition, written differently from Gae(): for each decision row, sum the
/// discounted TD errors forward until the episode's LAST row or the rollout's end.
std::vector<double> ReferenceGae(int T, int N, const std::vector<double>& r,
                                 const std::vector<double>& d, const std::vector<double>& v,
                                 const std::vector<int>& last, const std::vector<double>& next_v,
                                 double gamma, double lambda) {
  std::vector<double> adv(static_cast<size_t>(T * N), 0.0);
  auto at = [N](int t, int e) { return static_cast<size_t>(t * N + e); };
  for (int e = 0; e < N; ++e) {
    for (int t = 0; t < T; ++t) {
      if (last[at(t, e)]) continue;
      double sum = 0.0;
      double weight = 1.0;
      for (int k = t; k < T; ++k) {
        if (last[at(k, e)]) break;
        const double next = k + 1 < T ? v[at(k + 1, e)] : next_v[static_cast<size_t>(e)];
        const double delta = r[at(k, e)] + gamma * d[at(k, e)] * next - v[at(k, e)];
        sum += weight * delta;
        weight *= gamma * lambda * d[at(k, e)];
        if (weight == 0.0) break;
      }
      adv[at(t, e)] = sum;
    }
  }
  return adv;
}

torch::Tensor ToTensor(const std::vector<double>& x, int T, int N) {
  std::vector<float> f(x.begin(), x.end());
  return torch::tensor(f).view({T, N});
}

}  // namespace

TEST_CASE("GAE matches the reference loop on random episodes with both kinds of ending") {
  const int T = 37, N = 5;
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  for (double lambda : {0.0, 0.5, 0.95, 1.0}) {
    std::vector<double> r(T * N), d(T * N), v(T * N), next_v(N);
    std::vector<int> last(T * N, 0);
    for (int e = 0; e < N; ++e) {
      for (int t = 0; t < T; ++t) {
        const size_t i = static_cast<size_t>(t * N + e);
        r[i] = u(rng);
        v[i] = u(rng);
        d[i] = 1.0;
        // A LAST row (never two in a row: a FIRST always follows); the transition into it
        // carries discount 0 (termination) or 1 (truncation).
        if (t > 0 && !last[static_cast<size_t>((t - 1) * N + e)] && u(rng) > 0.6) {
          last[i] = 1;
          d[static_cast<size_t>((t - 1) * N + e)] = u(rng) > 0.0 ? 0.0 : 1.0;
        }
      }
      next_v[static_cast<size_t>(e)] = u(rng);
    }
    // Rewards after a LAST row belong to the reset step: 0, as the pool reports them.
    for (size_t i = 0; i < r.size(); ++i) {
      if (last[i]) r[i] = 0.0;
    }
    std::vector<double> lastd(last.begin(), last.end());
    const auto ref = ReferenceGae(T, N, r, d, v, last, next_v, 0.97, lambda);
    auto adv = Gae(ToTensor(r, T, N), ToTensor(d, T, N), ToTensor(v, T, N), ToTensor(lastd, T, N),
                   torch::tensor(std::vector<float>(next_v.begin(), next_v.end())), 0.97, lambda);
    for (int i = 0; i < T * N; ++i) {
      CHECK(adv.view({-1})[i].item<double>() == Approx(ref[static_cast<size_t>(i)]).margin(1e-4));
    }
  }
}

TEST_CASE("GAE bootstraps on truncation and not on termination") {
  // Row 0 decides, row 1 is the episode's LAST observation (value 10).
  auto v = torch::tensor({1.0f, 10.0f}).view({2, 1});
  auto r = torch::tensor({0.5f, 0.0f}).view({2, 1});
  auto last = torch::tensor({0.0f, 1.0f}).view({2, 1});
  auto next = torch::tensor({3.0f});
  const double g = 0.9;
  auto truncated = Gae(r, torch::tensor({1.0f, 1.0f}).view({2, 1}), v, last, next, g, 0.95);
  auto terminated = Gae(r, torch::tensor({0.0f, 1.0f}).view({2, 1}), v, last, next, g, 0.95);
  CHECK(truncated[0][0].item<double>() == Approx(0.5 + g * 10.0 - 1.0));
  CHECK(terminated[0][0].item<double>() == Approx(0.5 - 1.0));
  CHECK(truncated[1][0].item<double>() == 0.0);  // a LAST row is no decision
  // The rollout's end bootstraps from next_value.
  auto open =
      Gae(torch::tensor({0.5f}).view({1, 1}), torch::tensor({1.0f}).view({1, 1}),
          torch::tensor({1.0f}).view({1, 1}), torch::tensor({0.0f}).view({1, 1}), next, g, 0.95);
  CHECK(open[0][0].item<double>() == Approx(0.5 + g * 3.0 - 1.0));
}

TEST_CASE("chunks keep sequences whole and start from the stored state") {
  rimlab::EnvSpec spec;
  spec.name = "fake";
  spec.observation.fields.push_back({"x", {2}, rimlab::DType::kFloat32, -1e9, 1e9});
  spec.action = rimlab::ActionSpec::Discrete(2);
  const int64_t T = 8, N = 3, R = 4;
  rimlab::agents::RolloutBuffer b(spec, T, N);
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t e = 0; e < N; ++e) {
      b.obs[0][t][e].fill_(static_cast<double>(t * 10 + e));
      b.actions[t][e] = t * 10 + e;
    }
    rimlab::models::State s;
    s.tensors.push_back(torch::arange(N, torch::kFloat32).unsqueeze(1) + 100.0 * t);
    b.StoreState(t, s);
  }
  b.last[5][1] = 1.0;
  // Chunk 4 = second time block (rows 4..7) of env 1.
  auto batch = rimlab::agents::GatherChunks(b, torch::tensor({4, 0}, torch::kInt64), R);
  REQUIRE(batch.actions.sizes() == torch::IntArrayRef({R, 2}));
  for (int64_t k = 0; k < R; ++k) {
    CHECK(batch.actions[k][0].item<int64_t>() == (4 + k) * 10 + 1);
    CHECK(batch.actions[k][1].item<int64_t>() == k * 10 + 0);
    CHECK(batch.obs[0][k][0][1].item<float>() == static_cast<float>((4 + k) * 10 + 1));
  }
  CHECK(batch.mask[1][0].item<float>() == 0.0f);  // row 5 of env 1 is LAST
  CHECK(batch.mask[0][0].item<float>() == 1.0f);
  CHECK(batch.state.tensors[0][0][0].item<float>() == 401.0f);
  CHECK(batch.state.tensors[0][1][0].item<float>() == 0.0f);
  CHECK_THROWS(rimlab::agents::GatherChunks(b, torch::tensor({0}, torch::kInt64), 3));
}

TEST_CASE("explained variance") {
  auto target = torch::tensor({1.0f, 2.0f, 3.0f, 4.0f});
  auto mask = torch::ones({4});
  CHECK(ExplainedVariance(target, target, mask) == Approx(1.0));
  CHECK(ExplainedVariance(torch::full({4}, 2.5f), target, mask) == Approx(0.0));
  CHECK(std::isnan(ExplainedVariance(target, torch::ones({4}), mask)));
  // Masked rows do not count.
  auto pred = torch::tensor({1.0f, 2.0f, 3.0f, 100.0f});
  CHECK(ExplainedVariance(pred, target, torch::tensor({1.0f, 1.0f, 1.0f, 0.0f})) == Approx(1.0));
}
