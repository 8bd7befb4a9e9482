// Single-thread environment throughput: random actions, observation encoding and automatic resets
// included, so the figure is what one actor thread can feed a learner.
#include <chrono>
#include <cstdio>
#include <memory>

#include "bench/bench.h"
#include "common/rng.h"
#include "envs/registry.h"

namespace rimlab::bench {

namespace {

struct EnvCase {
  const char* label;
  const char* env;
  Params params;
};

// Steps `env` with uniformly random actions for about `seconds`; returns steps per second.
double StepsPerSecond(Environment* env, double seconds, int64_t* episodes) {
  Observation obs(env->Spec().observation);
  const ObsRef ref = obs.Ref();
  Rng rng(12345);
  const auto n = static_cast<uint32_t>(env->Spec().action.num_actions);
  env->Seed(1);
  env->Reset(ref);
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  int64_t steps = 0;
  *episodes = 0;
  double elapsed = 0.0;
  // Check the clock every 4096 steps so that timing costs nothing measurable.
  while (elapsed < seconds) {
    for (int i = 0; i < 4096; ++i) {
      Action a;
      a.index = static_cast<int32_t>(rng.Below(n));
      if (env->Step(a, ref).last()) {
        env->Reset(ref);
        ++*episodes;
      }
    }
    steps += 4096;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  }
  return static_cast<double>(steps) / elapsed;
}

}  // namespace

int RunEnvsSuite(const BenchArgs& args) {
  Params fetch8;
  fetch8.Set("size", int64_t{8});
  fetch8.Set("num_objects", int64_t{3});
  Params fetch8_occluded = fetch8;
  fetch8_occluded.Set("see_through_walls", false);
  Params more;
  more.Set("split", std::string("more"));
  Params moving;
  moving.Set("moving", true);
  const EnvCase cases[] = {
      {"pickup_8x8_n3", "pickup", fetch8},
      {"pickup_8x8_n3_occluded", "pickup", fetch8_occluded},
      {"distractors_train", "distractors", Params{}},
      {"distractors_more", "distractors", more},
      {"distractors_train_moving", "distractors", moving},
      {"level_default", "level", Params{}},
  };
  const double seconds = args.quick ? 0.05 : args.seconds;
  for (const auto& c : cases) {
    auto env = MakeEnv(c.env, c.params);
    int64_t episodes = 0;
    const double sps = StepsPerSecond(env.get(), seconds, &episodes);
    Report(std::string("envs/") + c.label + "/steps_per_s", sps, "steps/s");
  }
  return 0;
}

}  // namespace rimlab::bench
