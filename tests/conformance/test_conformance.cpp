// The dm_env contract, checked for every registered environment and every named split: reset gives
// FIRST, observations meet their spec, the same seed gives the same trajectory, LAST is followed
// by FIRST, time limits hold, rendering works, and a snapshot (SaveState/LoadState) resumes the
// trajectory exactly.
#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/rng.h"
#include "envs/registry.h"

using namespace rimlab;

namespace {

struct Variant {
  std::string env;
  std::string split;  // empty when the env has none
  std::string flag;   // a boolean option set to true, or empty
  Params params() const {
    Params p;
    if (!split.empty()) p.Set("split", split);
    if (!flag.empty()) p.Set(flag, true);
    return p;
  }
  std::string label() const {
    std::string s = split;
    if (!flag.empty()) s += (s.empty() ? "" : ",") + flag;
    return s.empty() ? env : env + "[" + s + "]";
  }
};

std::vector<Variant> AllVariants() {
  std::vector<Variant> out;
  for (const auto& e : Registry::Global().entries()) {
    if (e.splits.empty()) out.push_back({e.name, "", ""});
    for (const auto& s : e.splits) out.push_back({e.name, s, ""});
  }
  // Options that give an env state of its own beyond what the splits exercise.
  if (Registry::Global().Find("distractors") != nullptr) {
    out.push_back({"distractors", "train", "moving"});
  }
  if (Registry::Global().Find("balls_touch") != nullptr) {
    out.push_back({"balls_touch", "train", "features"});
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

/// An env played with random actions, resetting after LAST as a driver would.
struct Driver {
  std::unique_ptr<Environment> env;
  Observation obs;
  TimeStep ts;
  bool started = false;

  explicit Driver(std::unique_ptr<Environment> e)
      : env(std::move(e)), obs(env->Spec().observation) {}

  /// One step (a Reset when the episode is over or never started); `rng` draws the action.
  void Next(Rng* rng, std::vector<float>* buf) {
    const Action a = RandomAction(env->Spec().action, rng, buf);
    ts = !started || ts.last() ? env->Reset(obs.Ref()) : env->Step(a, obs.Ref());
    started = true;
  }
};

enum class SnapAt { kNeverReset, kJustReset, kMidEpisode, kAtLast };

const char* SnapAtName(SnapAt at) {
  switch (at) {
    case SnapAt::kNeverReset:
      return "before the first reset";
    case SnapAt::kJustReset:
      return "right after a reset";
    case SnapAt::kMidEpisode:
      return "mid-episode";
    default:
      return "on a LAST step";
  }
}

/// Every way `good` can be damaged that a loader must refuse.
std::vector<std::string> BadSnapshots(const std::string& good) {
  std::vector<std::string> bad = {"", "not a snapshot at all", good + std::string(1, '\0'),
                                  good + good};
  const size_t stride = std::max<size_t>(1, good.size() / 300);
  for (size_t n = 0; n < good.size(); n += stride) bad.push_back(good.substr(0, n));
  bad.push_back(good.substr(0, good.size() - 1));
  Rng rng(good.size());
  std::string noise(good.size(), '\0');
  for (auto& c : noise) c = static_cast<char>(rng.Below(256));
  bad.push_back(noise);
  return bad;
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
    // level: a fixed map, the seed only matters through the actions; bandit: its observation is
    // a constant by design, the seed only draws reward noise.
    if (v.env == "level" || v.env == "bandit") continue;
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

TEST_CASE("Every registered env and split resumes exactly from a snapshot",
          "[conformance][snapshot]") {
  const auto variants = AllVariants();
  for (const auto& v : variants) {
    for (SnapAt at :
         {SnapAt::kNeverReset, SnapAt::kJustReset, SnapAt::kMidEpisode, SnapAt::kAtLast}) {
      SECTION(v.label() + " " + SnapAtName(at)) {
        Driver a(Registry::Global().Make(v.env, v.params()));
        std::vector<float> buf;
        Rng actions(3);
        a.env->Seed(11);
        if (at != SnapAt::kNeverReset) a.Next(&actions, &buf);
        for (int k = 0; at == SnapAt::kMidEpisode && k < 23; ++k) {
          a.Next(&actions, &buf);
        }
        for (int k = 0; at == SnapAt::kAtLast && !a.ts.last(); ++k) {
          REQUIRE(k < 100000);
          a.Next(&actions, &buf);
        }
        std::string bytes;
        // An env that cannot snapshot fails here with its own message: every env must support it.
        REQUIRE_NOTHROW(bytes = a.env->SaveState());
        CHECK(a.env->SaveState() == bytes);  // saving does not change the state

        // The loading env has another seed and an episode of its own, which the load replaces.
        Driver b(Registry::Global().Make(v.env, v.params()));
        Rng other_actions(4);
        b.env->Seed(12345);
        for (int k = 0; k < 5; ++k) b.Next(&other_actions, &buf);

        // Damaged bytes, and a snapshot of another env, are refused with std::invalid_argument.
        for (const std::string& bad : BadSnapshots(bytes)) {
          INFO("a damaged snapshot of " << bad.size() << " bytes (the good one has " << bytes.size()
                                        << ")");
          CHECK_THROWS_AS(b.env->LoadState(bad), std::invalid_argument);
        }
        for (const auto& other : variants) {
          if (other.env == v.env) continue;
          auto stranger = Registry::Global().Make(other.env, other.params());
          stranger->Seed(1);
          Observation o(stranger->Spec().observation);
          stranger->Reset(o.Ref());
          INFO("a snapshot of " << other.label());
          CHECK_THROWS_AS(b.env->LoadState(stranger->SaveState()), std::invalid_argument);
          break;
        }

        REQUIRE_NOTHROW(b.env->LoadState(bytes));
        b.started = a.started;
        b.ts = a.ts;
        Frame fa;
        Frame fb;
        a.env->Render(&fa);
        b.env->Render(&fb);
        CHECK(fa.rgb == fb.rgb);
        CHECK(a.env->Describe() == b.env->Describe());

        // Both continue with the same actions, across episode boundaries, step for step.
        Rng shared_a(77);
        Rng shared_b(77);
        int lasts = 0;
        for (int t = 0; t < 600; ++t) {
          a.Next(&shared_a, &buf);
          b.Next(&shared_b, &buf);
          INFO("step " << t << " after the snapshot");
          REQUIRE(SameStep(a.ts, b.ts));
          REQUIRE(a.obs == b.obs);
          lasts += a.ts.last() ? 1 : 0;
        }
        CHECK(lasts > 0);
      }
    }
  }
}
