#include "runners/train/evaluate.h"

#include <chrono>
#include <cmath>
#include <memory>
#include <stdexcept>

#include "common/rng.h"

namespace rimlab {

void WilsonInterval(int k, int n, double* low, double* high) {
  if (n <= 0) {
    *low = 0.0;
    *high = 1.0;
    return;
  }
  const double z = 1.959963984540054;
  const double p = static_cast<double>(k) / n;
  const double denom = 1.0 + z * z / n;
  const double centre = (p + z * z / (2.0 * n)) / denom;
  const double half = z * std::sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n)) / denom;
  *low = std::max(0.0, centre - half);
  *high = std::min(1.0, centre + half);
}

EpisodeStats Evaluate(ActorPool* pool, int episodes, const BatchPolicy& policy) {
  if (!pool->sync()) throw std::invalid_argument("Evaluate needs a pool in sync mode");
  if (episodes <= 0) throw std::invalid_argument("Evaluate needs at least one episode");
  const int n = pool->num_envs();
  std::vector<int> quota(static_cast<size_t>(n), episodes / n);
  for (int i = 0; i < episodes % n; ++i) ++quota[static_cast<size_t>(i)];
  std::vector<int> done(static_cast<size_t>(n), 0);
  std::vector<Action> actions(static_cast<size_t>(n));
  int finished = 0;
  int successes = 0;
  double sum = 0.0;
  double sum_sq = 0.0;
  double length_sum = 0.0;
  EpisodeStats stats;
  const auto start = std::chrono::steady_clock::now();
  const BatchView* batch = &pool->Reset();
  while (finished < episodes) {
    policy(*batch, actions.data());
    batch = &pool->Step(actions.data());
    stats.frames += n;
    for (int i = 0; i < batch->size; ++i) {
      if (batch->step_type[i] != StepType::kLast) continue;
      const auto env = static_cast<size_t>(batch->env_id[i]);
      if (done[env] >= quota[env]) continue;
      ++done[env];
      ++finished;
      successes += batch->success[i] ? 1 : 0;
      const double r = batch->episode_return[i];
      sum += r;
      sum_sq += r * r;
      length_sum += batch->episode_length[i];
    }
  }
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  stats.episodes = finished;
  stats.success_rate = static_cast<double>(successes) / finished;
  WilsonInterval(successes, finished, &stats.success_low, &stats.success_high);
  stats.return_mean = sum / finished;
  const double var = finished > 1 ? (sum_sq - sum * sum / finished) / (finished - 1) : 0.0;
  stats.return_ci95 = 1.959963984540054 * std::sqrt(std::max(0.0, var) / finished);
  stats.length_mean = length_sum / finished;
  return stats;
}

BatchPolicy RandomPolicy(const ActionSpec& spec, uint64_t seed) {
  auto rng = std::make_shared<Rng>(seed);
  auto values = std::make_shared<std::vector<float>>();
  return [spec, rng, values](const BatchView& batch, Action* actions) {
    if (spec.discrete()) {
      for (int i = 0; i < batch.size; ++i) {
        actions[i].index =
            static_cast<int32_t>(rng->Below(static_cast<uint32_t>(spec.num_actions)));
      }
      return;
    }
    values->resize(static_cast<size_t>(batch.size) * static_cast<size_t>(spec.dim));
    for (auto& v : *values) v = static_cast<float>(rng->Uniform(spec.low, spec.high));
    for (int i = 0; i < batch.size; ++i) {
      actions[i].values = values->data() + static_cast<size_t>(i) * static_cast<size_t>(spec.dim);
    }
  };
}

}  // namespace rimlab
