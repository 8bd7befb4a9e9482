#pragma once
// A small deterministic env for the actor pool tests. Its observation encodes who it is (seed),
// which episode and step it is at and the last action, so that a test can tell from the data alone
// which env produced a result and whether auto-reset kept the right observation. Episodes last
// 2..11 steps, drawn from the seed: those longer than max_episode_steps (8) are truncated
// (discount 1), the others terminate (discount 0).

#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "envs/core/env.h"
#include "common/rng.h"

namespace rimlab::testing {

struct CounterOptions {
  bool continuous = false;
  int work = 0;                ///< busy-loop iterations per step, to make envs slower than others
  int64_t throw_at_step = -1;  ///< throw std::runtime_error on this Step call (counting from 1)
  int64_t obs_size = 3;        ///< image elements, to vary the spec
  /// Yield on about 1 step in 25 and sleep 50 us on about 1 in 400, chosen by seed and step
  /// count (the trajectory does not change): threads then wake late, stall mid-round and have
  /// their envs stolen.
  bool jitter = false;
};

class CounterEnv : public Environment {
 public:
  static constexpr int kMaxSteps = 8;
  static constexpr int kNumActions = 4;
  enum Field { kState = 0, kImage = 1, kValue = 2 };
  enum State { kSeed = 0, kEpisode = 1, kT = 2, kLastAction = 3, kLength = 4 };

  explicit CounterEnv(CounterOptions o = {}) : o_(o) {
    spec_.name = o.continuous ? "counter_continuous" : "counter";
    spec_.observation.fields = {{"state", {5}, DType::kInt32, -1e9, 1e9},
                                {"image", {o.obs_size}, DType::kUInt8, 0, 255},
                                {"value", {2}, DType::kFloat32, -1e9, 1e9}};
    spec_.action =
        o.continuous ? ActionSpec::Continuous(2, -1.0f, 1.0f) : ActionSpec::Discrete(kNumActions);
    spec_.max_episode_steps = kMaxSteps;
  }

  const EnvSpec& Spec() const override { return spec_; }

  void Seed(uint64_t seed) override {
    seed_ = seed;
    rng_.Seed(seed);
    episode_ = 0;
    done_ = true;
  }

  TimeStep Reset(const ObsRef& obs) override {
    ++episode_;
    t_ = 0;
    length_ = 2 + static_cast<int>(rng_.Below(10));
    last_action_ = -1;
    value_ = 0.0f;
    done_ = false;
    Write(obs);
    return TimeStep{};
  }

  TimeStep Step(const Action& action, const ObsRef& obs) override {
    if (done_) throw std::logic_error("CounterEnv: Step after LAST without Reset");
    ++calls_;
    if (calls_ == o_.throw_at_step) {
      throw std::runtime_error("CounterEnv " + std::to_string(seed_) + " fails on purpose");
    }
    Spin();
    ++t_;
    last_action_ = o_.continuous ? static_cast<int32_t>(action.values[0] * 1000.0f) +
                                       10000 * static_cast<int32_t>(action.values[1] * 10.0f)
                                 : action.index;
    TimeStep ts;
    ts.type = StepType::kMid;
    ts.reward = 0.25f * static_cast<float>(last_action_ % 7) + static_cast<float>(rng_.Uniform());
    value_ += ts.reward;
    if (t_ >= length_ || t_ >= kMaxSteps) {
      ts.type = StepType::kLast;
      ts.discount = t_ >= length_ && length_ <= kMaxSteps ? 0.0f : 1.0f;
      ts.success = ts.discount == 0.0f && last_action_ % 2 == 0;
      done_ = true;
    }
    Write(obs);
    return ts;
  }

  void Render(Frame* /*frame*/) const override {}

 private:
  void Write(const ObsRef& obs) const {
    int32_t* s = obs.Field<int32_t>(kState);
    s[kSeed] = static_cast<int32_t>(seed_);
    s[kEpisode] = episode_;
    s[kT] = t_;
    s[kLastAction] = last_action_;
    s[kLength] = length_;
    uint8_t* image = obs.Field<uint8_t>(kImage);
    uint64_t h =
        seed_ * 1000003u + static_cast<uint64_t>(episode_) * 131u + static_cast<uint64_t>(t_);
    for (int64_t i = 0; i < o_.obs_size; ++i) image[i] = static_cast<uint8_t>(SplitMix64(&h));
    float* v = obs.Field<float>(kValue);
    v[0] = value_;
    v[1] = static_cast<float>(t_) * 0.5f;
  }

  void Spin() {
    if (o_.jitter) {
      const uint64_t k = (seed_ * 7919 + static_cast<uint64_t>(calls_)) % 400;
      if (k == 0) {
        std::this_thread::sleep_for(std::chrono::microseconds(50));
      } else if (k % 16 == 1) {
        std::this_thread::yield();
      }
    }
    uint64_t x = seed_ + 1;
    for (int i = 0; i < o_.work; ++i) x = x * 6364136223846793005ull + 1442695040888963407ull;
    sink_ ^= x;
  }

  CounterOptions o_;
  EnvSpec spec_;
  Rng rng_;
  uint64_t seed_ = 0;
  int32_t episode_ = 0;
  int32_t t_ = 0;
  int32_t length_ = 0;
  int32_t last_action_ = -1;
  float value_ = 0.0f;
  bool done_ = true;
  int64_t calls_ = 0;
  uint64_t sink_ = 0;
};

/// A deterministic "policy": the action for env `e` on its k-th step.
inline int32_t TestAction(int e, int64_t k) {
  uint64_t h = static_cast<uint64_t>(e) * 7919u + static_cast<uint64_t>(k) * 104729u;
  return static_cast<int32_t>(SplitMix64(&h) % CounterEnv::kNumActions);
}

}  // namespace rimlab::testing
