// The dm_env contract, checked for every registered environment and every named split: reset gives
// FIRST, observations meet their spec, the same seed gives the same trajectory, LAST is followed
// by FIRST, time limits hold, and rendering works.
#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <vector>

#include "envs/core/rng.h"
#include "envs/registry.h"

using namespace rimlab;

namespace {

struct Variant {
  std::string env;
  std::string split;  // empty when the env has none
  Params params() const {
    Params p;
    if (!split.empty()) p.Set("split", split);
    return p;
  }
  std::string label() const { return split.empty() ? env : env + "[" + split + "]"; }
};

std::vector<Variant> AllVariants() {
  std::vector<Variant> out;
  for (const auto& e : Registry::Global().entries()) {
    if (e.splits.empty()) out.push_back({e.name, ""});
    for (const auto& s : e.splits) out.push_back({e.name, s});
  }
  return out;
}

Action RandomAction(const ActionSpec& spec, Rng* rng, std::vector<float>* buf) {
  Action a;
  if (spec.discrete()) {
    a.index = static_cast<int32_t>(rng->Below(static_cast<uint32_t>(spec.num_actions)));
  } else {
    buf->resize(static_cast<size_t>(spec.dim));
    for (auto& v : *buf) v = static_cast<float>(rng->Uniform(spec.low, spec.high));
    a.values = buf->data();
  }
  return a;
}

struct Record {
  std::vector<TimeStep> steps;
  std::vector<Observation> obs;
};

bool SameStep(const TimeStep& a, const TimeStep& b) {
  return a.type == b.type && a.reward == b.reward && a.discount == b.discount &&
         a.success == b.success;
}

// Runs `num_steps` random steps with resets after LAST, checking the contract on the way.
Record Play(Environment* env, uint64_t seed, int num_steps, uint64_t action_seed) {
  Record rec;
  const EnvSpec& spec = env->Spec();
  Observation obs(spec.observation);
  Rng rng(action_seed);
  std::vector<float> buf;
  env->Seed(seed);
  TimeStep ts = env->Reset(obs.Ref());
  int episode_length = 0;
  for (int t = 0; t < num_steps; ++t) {
    if (t == 0 || rec.steps.back().last()) {
      if (t > 0) {
        // After LAST, stepping without a reset is an error; a reset starts a FIRST step.
        CHECK_THROWS_AS(env->Step(RandomAction(spec.action, &rng, &buf), obs.Ref()),
                        std::logic_error);
        ts = env->Reset(obs.Ref());
      }
      CHECK(ts.first());
      CHECK(ts.reward == 0.0f);
      CHECK(ts.discount == 1.0f);
      episode_length = 0;
    } else {
      ts = env->Step(RandomAction(spec.action, &rng, &buf), obs.Ref());
      ++episode_length;
      CHECK_FALSE(ts.first());
      CHECK((ts.discount == 0.0f || ts.discount == 1.0f));
      if (ts.mid()) CHECK(ts.discount == 1.0f);
      if (spec.max_episode_steps > 0) {
        CHECK(episode_length <= spec.max_episode_steps);
        if (episode_length == spec.max_episode_steps) CHECK(ts.last());
      }
    }
    for (int f = 0; f < obs.num_fields(); ++f) {
      const ArraySpec& field = spec.observation.fields[static_cast<size_t>(f)];
      INFO("field " << field.name << " at step " << t);
      REQUIRE(field.Contains(obs.data(f)));
    }
    rec.steps.push_back(ts);
    rec.obs.push_back(obs);
  }
  return rec;
}

}  // namespace

TEST_CASE("Every registered env and split honours the env contract", "[conformance]") {
  const auto variants = AllVariants();
  REQUIRE(variants.size() >= 3);
  for (const auto& v : variants) {
    SECTION(v.label()) {
      auto env = Registry::Global().Make(v.env, v.params());
      const EnvSpec& spec = env->Spec();
      REQUIRE_NOTHROW(spec.Validate());
      CHECK(spec.name == v.env);

      // Same seed and actions: the same trajectory, step for step and byte for byte.
      const Record a = Play(env.get(), 7, 600, 99);
      auto twin = Registry::Global().Make(v.env, v.params());
      const Record b = Play(twin.get(), 7, 600, 99);
      REQUIRE(a.steps.size() == b.steps.size());
      for (size_t t = 0; t < a.steps.size(); ++t) {
        INFO("step " << t);
        REQUIRE(SameStep(a.steps[t], b.steps[t]));
        REQUIRE(a.obs[t] == b.obs[t]);
      }
      // Re-seeding the same instance replays the stream from the start.
      const Record c = Play(env.get(), 7, 600, 99);
      for (size_t t = 0; t < a.steps.size(); ++t) REQUIRE(a.obs[t] == c.obs[t]);

      // Episodes do end under random play (every task here has a time limit).
      int lasts = 0;
      for (const auto& s : a.steps) lasts += s.last() ? 1 : 0;
      CHECK(lasts > 0);

      // Rendering: a non-trivial RGB frame, the same for the same state.
      Frame f1;
      Frame f2;
      env->Render(&f1);
      env->Render(&f2);
      REQUIRE(f1.width > 0);
      REQUIRE(f1.height > 0);
      REQUIRE(f1.rgb.size() == static_cast<size_t>(f1.width) * f1.height * 3);
      CHECK(f1.rgb == f2.rgb);
      std::set<uint32_t> colours;
      for (size_t i = 0; i < f1.rgb.size(); i += 3) {
        colours.insert(static_cast<uint32_t>(f1.rgb[i]) << 16 | f1.rgb[i + 1] << 8 | f1.rgb[i + 2]);
      }
      CHECK(colours.size() >= 3);
      CHECK_FALSE(env->Describe().empty());
    }
  }
}

TEST_CASE("Different seeds give different episodes for randomised envs", "[conformance]") {
  for (const auto& v : AllVariants()) {
    if (v.env == "level") continue;  // a fixed map: the seed only matters through the actions
    SECTION(v.label()) {
      auto env = Registry::Global().Make(v.env, v.params());
      Observation o1(env->Spec().observation);
      Observation o2(env->Spec().observation);
      int differ = 0;
      for (uint64_t s = 0; s < 10; ++s) {
        env->Seed(s);
        env->Reset(o1.Ref());
        env->Seed(s + 1000);
        env->Reset(o2.Ref());
        differ += o1 != o2 ? 1 : 0;
      }
      CHECK(differ >= 5);
    }
  }
}

TEST_CASE("The registry rejects unknown envs and options by name", "[conformance]") {
  CHECK_THROWS_WITH(MakeEnv("nosuchenv"),
                    Catch::Contains("nosuchenv") && Catch::Contains("known: "));
  for (const auto& e : Registry::Global().entries()) {
    Params p;
    p.Set("no_such_option", int64_t{1}, "test.yaml:3");
    INFO(e.name);
    CHECK_THROWS_WITH(e.make(p), Catch::Contains("no_such_option") &&
                                     Catch::Contains("test.yaml:3") &&
                                     Catch::Contains("unknown option"));
  }
}
