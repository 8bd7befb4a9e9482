// The toy envs: bandit and memory rules, their options and their snapshots.
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "envs/registry.h"
#include "envs/toy/toy.h"

using namespace rimlab;

namespace {

Params With(std::initializer_list<std::pair<const char*, ParamValue>> kv) {
  Params p;
  for (const auto& e : kv) p.Set(e.first, e.second, "toy.yaml:4");
  return p;
}

TimeStep StepWith(Environment* env, int32_t a, const Observation& obs) {
  Action action;
  action.index = a;
  return env->Step(action, obs.Ref());
}

// The cue shown by a memory env's first observation.
int CueOf(const Observation& obs, int num_cues) {
  int cue = -1;
  for (int i = 0; i < num_cues; ++i) {
    if (obs.Field<float>(0)[i] == 1.0f) {
      REQUIRE(cue == -1);
      cue = i;
    }
  }
  REQUIRE(cue >= 0);
  return cue;
}

// Checks that making `env` from `params` fails with a message naming `key` and the file:line.
void RejectsOption(const std::string& env, const Params& params, const std::string& key) {
  INFO(env << " " << key);
  try {
    MakeEnv(env, params);
    FAIL("accepted");
  } catch (const OptionError& e) {
    CHECK(e.key() == key);
    CHECK(e.where() == "toy.yaml:4");
    CHECK_THAT(e.what(), Catch::Contains("'" + env + "'"));
  }
}

}  // namespace

TEST_CASE("bandit: spec, one-step episodes and the reward of each arm", "[toy]") {
  auto env = MakeEnv("bandit", With({{"arms", int64_t{3}}, {"good_arm", int64_t{2}}}));
  const EnvSpec& spec = env->Spec();
  REQUIRE(spec.observation.fields.size() == 1);
  CHECK(spec.observation.fields[0].name == "obs");
  CHECK(spec.observation.fields[0].dtype == DType::kFloat32);
  CHECK(spec.observation.fields[0].shape == std::vector<int64_t>{1});
  CHECK(spec.action.num_actions == 3);
  CHECK(spec.max_episode_steps == 1);

  Observation obs(spec.observation);
  env->Seed(5);
  for (int arm = 0; arm < 3; ++arm) {
    const TimeStep first = env->Reset(obs.Ref());
    CHECK(first.first());
    CHECK(obs.Field<float>(0)[0] == 1.0f);
    const TimeStep last = StepWith(env.get(), arm, obs);
    CHECK(last.last());
    CHECK(last.discount == 0.0f);
    CHECK(last.reward == (arm == 2 ? 1.0f : 0.0f));
    CHECK(last.success == (arm == 2));
    CHECK(obs.Field<float>(0)[0] == 1.0f);
    CHECK_THROWS_AS(StepWith(env.get(), arm, obs), std::logic_error);
  }
  CHECK_THROWS_AS(StepWith(env.get(), 0, obs), std::logic_error);
  env->Reset(obs.Ref());
  CHECK_THROWS_AS(StepWith(env.get(), 3, obs), std::invalid_argument);
}

TEST_CASE("bandit: defaults are two arms with arm 1 paying", "[toy]") {
  auto env = MakeEnv("bandit");
  Observation obs(env->Spec().observation);
  CHECK(env->Spec().action.num_actions == 2);
  env->Reset(obs.Ref());
  CHECK(StepWith(env.get(), 1, obs).reward == 1.0f);
  env->Reset(obs.Ref());
  CHECK(StepWith(env.get(), 0, obs).reward == 0.0f);
}

TEST_CASE("bandit: noise flips rewards at its rate, success still means the good arm", "[toy]") {
  auto env = MakeEnv("bandit", With({{"noise", 0.2}}));
  Observation obs(env->Spec().observation);
  env->Seed(1);
  const int n = 4000;
  double paid[2] = {0, 0};
  for (int i = 0; i < n; ++i) {
    const int arm = i % 2;
    env->Reset(obs.Ref());
    const TimeStep ts = StepWith(env.get(), arm, obs);
    CHECK(ts.success == (arm == 1));
    paid[arm] += ts.reward;
  }
  CHECK(paid[0] / (n / 2) == Approx(0.2).margin(0.04));
  CHECK(paid[1] / (n / 2) == Approx(0.8).margin(0.04));
}

TEST_CASE("bandit: bad options name their key", "[toy]") {
  RejectsOption("bandit", With({{"arms", int64_t{1}}}), "arms");
  RejectsOption("bandit", With({{"arms", std::string("two")}}), "arms");
  RejectsOption("bandit", With({{"good_arm", int64_t{2}}}), "good_arm");
  RejectsOption("bandit", With({{"arms", int64_t{4}}, {"good_arm", int64_t{-1}}}), "good_arm");
  RejectsOption("bandit", With({{"noise", 0.7}}), "noise");
  RejectsOption("bandit", With({{"probabilities", 0.5}}), "probabilities");
  toy::BanditOptions o;
  o.good_arm = 5;
  CHECK_THROWS_WITH(toy::MakeBandit(o), Catch::Contains("good_arm"));
  // An explicit good arm within range is accepted.
  auto env = MakeEnv("bandit", With({{"arms", int64_t{4}}, {"good_arm", int64_t{3}}}));
  Observation obs(env->Spec().observation);
  env->Reset(obs.Ref());
  CHECK(StepWith(env.get(), 3, obs).success);
}

TEST_CASE("memory: the answer to the query is rewarded only when it is the cue", "[toy]") {
  for (const bool right : {true, false}) {
    auto env = MakeEnv("memory", With({{"num_cues", int64_t{3}}}));
    const EnvSpec& spec = env->Spec();
    CHECK(spec.observation.fields[0].shape == std::vector<int64_t>{4});
    CHECK(spec.action.num_actions == 3);
    CHECK(spec.max_episode_steps == 5);
    Observation obs(spec.observation);
    env->Seed(11);
    CHECK(env->Reset(obs.Ref()).first());
    const int cue = CueOf(obs, 3);
    CHECK(obs.Field<float>(0)[3] == 0.0f);
    // The action on the cue step and during the delay does not matter.
    for (int t = 0; t < 4; ++t) {
      const TimeStep ts = StepWith(env.get(), (cue + 1) % 3, obs);
      CHECK(ts.mid());
      CHECK(ts.reward == 0.0f);
      CHECK(ts.discount == 1.0f);
      for (int i = 0; i < 3; ++i) CHECK(obs.Field<float>(0)[i] == 0.0f);
      CHECK(obs.Field<float>(0)[3] == (t == 3 ? 1.0f : 0.0f));  // the query flag, last
    }
    const TimeStep ts = StepWith(env.get(), right ? cue : (cue + 2) % 3, obs);
    CHECK(ts.last());
    CHECK(ts.discount == 0.0f);
    CHECK(ts.reward == (right ? 1.0f : 0.0f));
    CHECK(ts.success == right);
    CHECK_THROWS_AS(StepWith(env.get(), 0, obs), std::logic_error);
    CHECK_THAT(env->Describe(), Catch::Contains(right ? "right" : "wrong"));
  }
}

TEST_CASE("memory: an episode lasts delay + 2 steps", "[toy]") {
  for (const int64_t delay : {0, 1, 3, 17}) {
    INFO("delay " << delay);
    auto env = MakeEnv("memory", With({{"delay", delay}}));
    CHECK(env->Spec().max_episode_steps == delay + 2);
    Observation obs(env->Spec().observation);
    for (int episode = 0; episode < 3; ++episode) {
      env->Reset(obs.Ref());
      int steps = 0;
      TimeStep ts;
      do {
        ts = StepWith(env.get(), 0, obs);
        ++steps;
        // The query shows exactly once, on the observation before the last action.
        CHECK(obs.Field<float>(0)[2] == (steps == delay + 1 ? 1.0f : 0.0f));
      } while (!ts.last());
      CHECK(steps == delay + 2);
    }
  }
}

TEST_CASE("memory: cues are uniform over seeds and episodes, and fixed by the seed", "[toy]") {
  auto env = MakeEnv("memory", With({{"num_cues", int64_t{4}}, {"delay", int64_t{0}}}));
  Observation obs(env->Spec().observation);
  auto sequence = [&](uint64_t seed, int n) {
    std::vector<int> cues;
    env->Seed(seed);
    for (int i = 0; i < n; ++i) {
      env->Reset(obs.Ref());
      cues.push_back(CueOf(obs, 4));
      StepWith(env.get(), 0, obs);
      StepWith(env.get(), 0, obs);
    }
    return cues;
  };
  std::map<int, int> over_seeds;
  for (uint64_t s = 0; s < 4000; ++s) ++over_seeds[sequence(s, 1)[0]];
  std::map<int, int> over_episodes;
  for (int c : sequence(3, 4000)) ++over_episodes[c];
  for (int c = 0; c < 4; ++c) {
    // 1000 expected; 5 standard deviations is about 137.
    CHECK(over_seeds[c] > 860);
    CHECK(over_seeds[c] < 1140);
    CHECK(over_episodes[c] > 860);
    CHECK(over_episodes[c] < 1140);
  }
  CHECK(sequence(42, 50) == sequence(42, 50));
  auto twin = MakeEnv("memory", With({{"num_cues", int64_t{4}}, {"delay", int64_t{0}}}));
  Observation twin_obs(twin->Spec().observation);
  twin->Seed(42);
  for (int c : sequence(42, 50)) {
    twin->Reset(twin_obs.Ref());
    CHECK(CueOf(twin_obs, 4) == c);
    StepWith(twin.get(), 0, twin_obs);
    StepWith(twin.get(), 0, twin_obs);
  }
  CHECK(sequence(42, 50) != sequence(43, 50));
}

TEST_CASE("memory: bad options name their key", "[toy]") {
  RejectsOption("memory", With({{"delay", int64_t{-1}}}), "delay");
  RejectsOption("memory", With({{"delay", int64_t{1001}}}), "delay");
  RejectsOption("memory", With({{"delay", 2.5}}), "delay");
  RejectsOption("memory", With({{"num_cues", int64_t{1}}}), "num_cues");
  RejectsOption("memory", With({{"cues", int64_t{3}}}), "cues");
  toy::MemoryOptions o;
  o.delay = -1;
  CHECK_THROWS_WITH(toy::MakeMemory(o), Catch::Contains("delay"));
  CHECK(MakeEnv("memory", With({{"delay", int64_t{1000}}}))->Spec().max_episode_steps == 1002);
}

TEST_CASE("toy envs: a snapshot resumes the same trajectory; bad bytes are refused", "[toy]") {
  for (const char* name : {"bandit", "memory"}) {
    SECTION(name) {
      const Params p = std::string(name) == "bandit" ? With({{"noise", 0.3}, {"arms", int64_t{3}}})
                                                     : With({{"delay", int64_t{2}}});
      auto env = MakeEnv(name, p);
      Observation obs(env->Spec().observation);
      env->Seed(9);
      env->Reset(obs.Ref());
      StepWith(env.get(), 1, obs);
      if (std::string(name) == "bandit") env->Reset(obs.Ref());
      const std::string bytes = env->SaveState();

      auto copy = MakeEnv(name, p);
      copy->LoadState(bytes);
      CHECK(copy->Describe() == env->Describe());
      Frame f1;
      Frame f2;
      env->Render(&f1);
      copy->Render(&f2);
      CHECK(f1.rgb == f2.rgb);
      Observation copy_obs(copy->Spec().observation);
      bool ended = false;  // both envs were saved mid-episode
      for (int t = 0; t < 40; ++t) {
        INFO("step " << t);
        const TimeStep a = ended ? env->Reset(obs.Ref()) : StepWith(env.get(), t % 2, obs);
        const TimeStep b =
            ended ? copy->Reset(copy_obs.Ref()) : StepWith(copy.get(), t % 2, copy_obs);
        REQUIRE(a.type == b.type);
        REQUIRE(a.reward == b.reward);
        REQUIRE(a.success == b.success);
        REQUIRE(obs == copy_obs);
        ended = a.last();
      }

      CHECK_THROWS_AS(copy->LoadState(bytes.substr(0, bytes.size() - 1)), std::invalid_argument);
      CHECK_THROWS_AS(copy->LoadState(bytes + "x"), std::invalid_argument);
      CHECK_THROWS_AS(copy->LoadState(""), std::invalid_argument);
      const char* other = std::string(name) == "bandit" ? "memory" : "bandit";
      CHECK_THROWS_AS(copy->LoadState(MakeEnv(other)->SaveState()), std::invalid_argument);
      // A snapshot of the same env made with other options is refused too.
      auto different = MakeEnv(name, std::string(name) == "bandit" ? With({{"arms", int64_t{5}}})
                                                                   : With({{"delay", int64_t{7}}}));
      CHECK_THROWS_AS(different->LoadState(bytes), std::invalid_argument);
    }
  }
}

TEST_CASE("toy envs: rendering shows the state", "[toy]") {
  auto env = MakeEnv("memory", With({{"num_cues", int64_t{40}}, {"delay", int64_t{1}}}));
  Observation obs(env->Spec().observation);
  Frame cue_frame;
  Frame delay_frame;
  env->Reset(obs.Ref());
  env->Render(&cue_frame);
  StepWith(env.get(), 0, obs);
  env->Render(&delay_frame);
  CHECK(cue_frame.width > 0);
  CHECK(cue_frame.width == delay_frame.width);
  CHECK(cue_frame.rgb != delay_frame.rgb);  // the progress bar moved

  auto bandit = MakeEnv("bandit", With({{"arms", int64_t{100}}}));
  Observation bobs(bandit->Spec().observation);
  Frame before;
  Frame after;
  bandit->Reset(bobs.Ref());
  bandit->Render(&before);
  StepWith(bandit.get(), 7, bobs);
  bandit->Render(&after);
  CHECK(before.width < 1000);  // many arms wrap into rows
  CHECK(before.rgb != after.rgb);
  CHECK_THAT(bandit->Describe(), Catch::Contains("pulled arm 7"));
}
