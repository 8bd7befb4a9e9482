// bandit: an n-armed bandit without context, in one-step episodes; the smallest task on which a
// learner must turn rewards into a preference.
//
// Mission:     none; always pull `good_arm`.
// Actions:     discrete, one per arm ("arm0", "arm1", ...).
// Observation: obs float32 [1], always 1.0 (a constant input, so networks still get a forward
//              pass and a value baseline).
// Reward:      1 for the good arm, 0 for the others; with `noise` p the pull's reward is flipped
//              with probability p (drawn per episode from the seed).
// Termination: after the single action (LAST, discount 0); success = pulled the good arm.
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/state_io.h"
#include "envs/toy/toy.h"

namespace rimlab::toy {

namespace {

constexpr uint32_t kVersion = 1;
constexpr int kMaxArms = 1000;

void Check(const BanditOptions& o, const ParamReader& r) {
  if (o.arms < 2 || o.arms > kMaxArms) {
    r.Fail("arms", "expected an integer in [2, " + std::to_string(kMaxArms) + "], got " +
                       std::to_string(o.arms));
  }
  if (o.good_arm < 0 || o.good_arm >= o.arms) {
    r.Fail("good_arm", "expected an integer in [0, " + std::to_string(o.arms - 1) + "] (arms is " +
                           std::to_string(o.arms) + "), got " + std::to_string(o.good_arm));
  }
  if (!(o.noise >= 0.0 && o.noise <= 0.5)) {
    r.Fail("noise", "expected a number in [0, 0.5], got " + std::to_string(o.noise));
  }
}

class Bandit : public Environment {
 public:
  explicit Bandit(const BanditOptions& o) : o_(o) {
    ParamReader r(Params{}, "env 'bandit'");
    Check(o_, r);
    spec_.name = "bandit";
    spec_.observation.fields = {ArraySpec{"obs", {1}, DType::kFloat32, 1.0, 1.0}};
    std::vector<std::string> names;
    names.reserve(static_cast<size_t>(o_.arms));
    for (int i = 0; i < o_.arms; ++i) names.push_back("arm" + std::to_string(i));
    spec_.action = ActionSpec::Discrete(o_.arms, std::move(names));
    spec_.max_episode_steps = 1;
  }

  const EnvSpec& Spec() const override { return spec_; }

  void Seed(uint64_t seed) override {
    seed_ = seed;
    episode_ = 0;
  }

  TimeStep Reset(const ObsRef& obs) override {
    Rng rng = EpisodeRng(seed_, episode_++);
    // Drawn even without noise so that the stream does not depend on the option.
    flip_ = rng.Bernoulli(o_.noise);
    pulled_ = -1;
    reward_ = 0.0f;
    needs_reset_ = false;
    WriteObs(obs);
    return TimeStep{StepType::kFirst, 0.0f, 1.0f, false};
  }

  TimeStep Step(const Action& action, const ObsRef& obs) override {
    if (needs_reset_) throw std::logic_error("bandit: Step after LAST (or before Reset)");
    if (action.index < 0 || action.index >= o_.arms) {
      throw std::invalid_argument("bandit: action " + std::to_string(action.index) +
                                  " out of range [0, " + std::to_string(o_.arms - 1) + "]");
    }
    pulled_ = action.index;
    const bool good = pulled_ == o_.good_arm;
    reward_ = (good != flip_) ? 1.0f : 0.0f;
    needs_reset_ = true;
    WriteObs(obs);
    return TimeStep{StepType::kLast, reward_, 0.0f, good};
  }

  void Render(Frame* frame) const override {
    // Arms as squares, 16 to a row so that many arms still give a viewable frame; the good arm
    // green, the others red, the pulled one framed in white.
    constexpr int kCell = 24;
    constexpr int kPad = 4;
    const int cols = o_.arms < 16 ? o_.arms : 16;
    const int rows = (o_.arms + cols - 1) / cols;
    frame->Reset(kPad + cols * kCell, kPad + rows * kCell, Rgb{30, 30, 30});
    for (int i = 0; i < o_.arms; ++i) {
      const int x = kPad + (i % cols) * kCell;
      const int y = kPad + (i / cols) * kCell;
      if (i == pulled_)
        frame->FillRect(x - 2, y - 2, x + kCell - kPad + 2, y + kCell - kPad + 2,
                        Rgb{255, 255, 255});
      const Rgb c = i == o_.good_arm ? Rgb{40, 190, 60} : Rgb{190, 50, 40};
      frame->FillRect(x, y, x + kCell - kPad, y + kCell - kPad, c);
    }
  }

  std::string Describe() const override {
    char noise[32];
    std::snprintf(noise, sizeof(noise), "%g", o_.noise);
    std::string s = "bandit: " + std::to_string(o_.arms) + " arms, good arm " +
                    std::to_string(o_.good_arm) + ", noise " + noise + "; ";
    if (pulled_ < 0) return s + "no arm pulled yet";
    return s + "pulled arm " + std::to_string(pulled_) + ", reward " +
           std::to_string(static_cast<int>(reward_));
  }

  std::string SaveState() const override {
    StateWriter w(spec_.name, kVersion);
    // The options travel too, so that a snapshot is refused by an env made differently.
    w.Pod<int32_t>(o_.arms);
    w.Pod<int32_t>(o_.good_arm);
    w.Pod(seed_);
    w.Pod(episode_);
    w.Bool(flip_);
    w.Pod<int32_t>(pulled_);
    w.Bool(needs_reset_);
    return w.Take();
  }

  void LoadState(const std::string& bytes) override {
    StateReader r(bytes, spec_.name, kVersion);
    const auto arms = r.Pod<int32_t>();
    const auto good_arm = r.Pod<int32_t>();
    if (arms != o_.arms || good_arm != o_.good_arm) {
      r.Fail("made with arms " + std::to_string(arms) + ", good_arm " + std::to_string(good_arm) +
             "; this env has " + std::to_string(o_.arms) + ", " + std::to_string(o_.good_arm));
    }
    const auto seed = r.Pod<uint64_t>();
    const auto episode = r.Pod<uint64_t>();
    const bool flip = r.Bool();
    const auto pulled = r.Pod<int32_t>();
    if (pulled < -1 || pulled >= o_.arms) r.Fail("pulled arm " + std::to_string(pulled));
    const bool needs_reset = r.Bool();
    r.Finish();
    // Committed only now, so that bad bytes leave the env as it was.
    seed_ = seed;
    episode_ = episode;
    flip_ = flip;
    pulled_ = pulled;
    needs_reset_ = needs_reset;
    reward_ = pulled_ < 0 ? 0.0f : ((pulled_ == o_.good_arm) != flip_ ? 1.0f : 0.0f);
  }

 private:
  static void WriteObs(const ObsRef& obs) { obs.Field<float>(0)[0] = 1.0f; }

  BanditOptions o_;
  EnvSpec spec_;
  uint64_t seed_ = 0;
  uint64_t episode_ = 0;  ///< episodes started since Seed
  bool flip_ = false;     ///< this episode's reward is flipped (noise)
  int pulled_ = -1;       ///< the arm pulled this episode, -1 before the pull
  float reward_ = 0.0f;
  bool needs_reset_ = true;
};

}  // namespace

BanditOptions BanditOptionsFromParams(const Params& params) {
  ParamReader r(params, "env 'bandit'");
  BanditOptions o;
  o.arms = static_cast<int>(r.Int("arms", o.arms, 2, kMaxArms));
  o.good_arm = static_cast<int>(r.Int("good_arm", o.good_arm, 0, o.arms - 1));
  o.noise = r.Float("noise", o.noise, 0.0, 0.5);
  r.Finish();
  return o;
}

std::unique_ptr<Environment> MakeBandit(const BanditOptions& options) {
  return std::make_unique<Bandit>(options);
}

}  // namespace rimlab::toy
