#pragma once
// What the offline learners' tests share: episodes of pickup 6x6 recorded into an EpisodeStore
// from a given policy, and one stored observation as a batch of one for stepping a policy.

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "agents/offline_data.h"
#include "agents/rollout.h"
#include "envs/core/env.h"
#include "envs/registry.h"

namespace offline_test {

/// The env the episodes come from: pickup 6x6 with 2 objects and a `max_steps` limit.
inline std::unique_ptr<rimlab::Environment> Pickup(int64_t max_steps) {
  rimlab::Params p;
  p.Set("size", int64_t{6});
  p.Set("num_objects", int64_t{2});
  p.Set("max_steps", max_steps);
  return rimlab::MakeEnv("pickup", p);
}

/// `episodes` episodes seeded `seed + i`, actions from `policy(observation)`.
inline rimlab::agents::EpisodeStore Record(
    int episodes, uint64_t seed, int64_t max_steps,
    const std::function<int(const rimlab::Observation&)>& policy) {
  auto env = Pickup(max_steps);
  const rimlab::EnvSpec& spec = env->Spec();
  rimlab::agents::EpisodeStore store(spec.observation, spec.action.num_actions);
  rimlab::Observation obs(spec.observation);
  for (int e = 0; e < episodes; ++e) {
    env->Seed(seed + static_cast<uint64_t>(e));
    rimlab::agents::StoredEpisode ep;
    ep.observations.resize(spec.observation.fields.size());
    const auto record = [&] {
      for (int f = 0; f < obs.num_fields(); ++f) {
        const auto* d = static_cast<const uint8_t*>(obs.data(f));
        auto& rows = ep.observations[static_cast<size_t>(f)];
        rows.insert(rows.end(), d, d + obs.num_bytes(f));
      }
    };
    rimlab::TimeStep ts = env->Reset(obs.Ref());
    record();
    while (!ts.last()) {
      const int a = policy(obs);
      ts = env->Step(rimlab::Action{a, nullptr}, obs.Ref());
      record();
      ep.actions.push_back(a);
      ep.rewards.push_back(static_cast<float>(ts.reward));
      ep.terminations.push_back(ts.terminated() ? 1 : 0);
    }
    store.Add(std::move(ep));
  }
  return store;
}

/// Observation row t of stored episode `e` as tensors [1, ...field shape].
inline rimlab::agents::ObsTensors Row(const rimlab::agents::EpisodeStore& store,
                                      const rimlab::agents::StoredEpisode& e, int64_t t) {
  rimlab::agents::ObsTensors obs;
  for (size_t f = 0; f < store.spec().fields.size(); ++f) {
    const auto& field = store.spec().fields[f];
    std::vector<int64_t> shape = {1};
    shape.insert(shape.end(), field.shape.begin(), field.shape.end());
    obs.push_back(torch::from_blob(const_cast<uint8_t*>(e.observations[f].data()) +
                                       t * static_cast<int64_t>(field.NumBytes()),
                                   shape, rimlab::agents::TorchDType(field.dtype))
                      .clone());
  }
  return obs;
}

}  // namespace offline_test
