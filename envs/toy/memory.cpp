// memory: recall a cue across a delay; a feed-forward policy is at chance (1 / num_cues), a
// recurrent one can be perfect, so it tells whether a core carries information through time.
//
// Mission:     answer the query with the cue shown at the first step.
// Actions:     discrete, one per cue ("cue0", "cue1", ...); only the answer to the query counts.
// Observation: obs float32 [num_cues + 1]. First step: one-hot of the cue (drawn uniformly per
//              episode from the seed), query flag 0. Then `delay` steps of all zeros. Then the
//              query: all zeros but the last entry (the flag), 1. After the answer: all zeros.
// Reward:      1 for answering the query with the cue, 0 otherwise and on every other step.
// Termination: the answer ends the episode (discount 0), after delay + 2 actions in all; success
//              = answered right. max_episode_steps = delay + 2, never reached by truncation.
#include <stdexcept>
#include <string>
#include <vector>

#include "common/state_io.h"
#include "envs/toy/toy.h"

namespace rimlab::toy {

namespace {

constexpr uint32_t kVersion = 1;
constexpr int kMaxCues = 256;
constexpr int kMaxDelay = 1000;

void Check(const MemoryOptions& o, const ParamReader& r) {
  if (o.num_cues < 2 || o.num_cues > kMaxCues) {
    r.Fail("num_cues", "expected an integer in [2, " + std::to_string(kMaxCues) + "], got " +
                           std::to_string(o.num_cues));
  }
  if (o.delay < 0 || o.delay > kMaxDelay) {
    r.Fail("delay", "expected an integer in [0, " + std::to_string(kMaxDelay) + "], got " +
                        std::to_string(o.delay));
  }
}

// Distinct hues for the first cues; later cues reuse them, which only the viewer sees.
constexpr Rgb kPalette[] = {{220, 60, 50},  {50, 170, 70},  {60, 100, 220}, {230, 200, 40},
                            {160, 70, 200}, {40, 190, 200}, {240, 130, 40}, {230, 110, 170}};

class Memory : public Environment {
 public:
  explicit Memory(const MemoryOptions& o) : o_(o) {
    ParamReader r(Params{}, "env 'memory'");
    Check(o_, r);
    spec_.name = "memory";
    spec_.observation.fields = {ArraySpec{"obs", {o_.num_cues + 1}, DType::kFloat32, 0.0, 1.0}};
    std::vector<std::string> names;
    names.reserve(static_cast<size_t>(o_.num_cues));
    for (int i = 0; i < o_.num_cues; ++i) names.push_back("cue" + std::to_string(i));
    spec_.action = ActionSpec::Discrete(o_.num_cues, std::move(names));
    spec_.max_episode_steps = o_.delay + 2;
  }

  const EnvSpec& Spec() const override { return spec_; }

  void Seed(uint64_t seed) override {
    seed_ = seed;
    episode_ = 0;
  }

  TimeStep Reset(const ObsRef& obs) override {
    Rng rng = EpisodeRng(seed_, episode_++);
    cue_ = static_cast<int>(rng.Below(static_cast<uint32_t>(o_.num_cues)));
    t_ = 0;
    answer_ = -1;
    needs_reset_ = false;
    WriteObs(obs);
    return TimeStep{StepType::kFirst, 0.0f, 1.0f, false};
  }

  TimeStep Step(const Action& action, const ObsRef& obs) override {
    if (needs_reset_) throw std::logic_error("memory: Step after LAST (or before Reset)");
    if (action.index < 0 || action.index >= o_.num_cues) {
      throw std::invalid_argument("memory: action " + std::to_string(action.index) +
                                  " out of range [0, " + std::to_string(o_.num_cues - 1) + "]");
    }
    ++t_;
    TimeStep ts{StepType::kMid, 0.0f, 1.0f, false};
    if (t_ == o_.delay + 2) {
      answer_ = action.index;
      needs_reset_ = true;
      const bool right = answer_ == cue_;
      ts = TimeStep{StepType::kLast, right ? 1.0f : 0.0f, 0.0f, right};
    }
    WriteObs(obs);
    return ts;
  }

  void Render(Frame* frame) const override {
    // Top row: the cues (the episode's in its colour, the rest dark; the answer framed in white)
    // and the query lamp (yellow while asking, then green or red for the answer). Bottom: the
    // episode's progress, so that the blank delay steps are visible too.
    constexpr int kCell = 24;
    constexpr int kPad = 4;
    constexpr int kBar = 10;
    const int cols = (o_.num_cues < 16 ? o_.num_cues : 16) + 1;
    const int rows = (o_.num_cues + cols - 2) / (cols - 1);
    const int width = kPad + cols * kCell;
    const int height = kPad + rows * kCell + kBar + kPad;
    frame->Reset(width, height, Rgb{30, 30, 30});
    for (int i = 0; i < o_.num_cues; ++i) {
      const int x = kPad + (i % (cols - 1)) * kCell;
      const int y = kPad + (i / (cols - 1)) * kCell;
      if (i == answer_) {
        frame->FillRect(x - 2, y - 2, x + kCell - kPad + 2, y + kCell - kPad + 2,
                        Rgb{255, 255, 255});
      }
      const Rgb c = i == cue_ ? kPalette[i % 8] : Rgb{70, 70, 70};
      frame->FillRect(x, y, x + kCell - kPad, y + kCell - kPad, c);
    }
    Rgb lamp{70, 70, 70};
    if (t_ == o_.delay + 1) lamp = Rgb{240, 220, 60};
    if (answer_ >= 0) lamp = answer_ == cue_ ? Rgb{40, 190, 60} : Rgb{190, 50, 40};
    const int lx = kPad + (cols - 1) * kCell;
    frame->FillRect(lx, kPad, lx + kCell - kPad, kPad + kCell - kPad, lamp);
    const int bar_y = kPad + rows * kCell;
    const int bar_w = width - 2 * kPad;
    frame->FillRect(kPad, bar_y, kPad + bar_w, bar_y + kBar, Rgb{70, 70, 70});
    frame->FillRect(kPad, bar_y, kPad + bar_w * t_ / (o_.delay + 2), bar_y + kBar,
                    Rgb{120, 170, 230});
  }

  std::string Describe() const override {
    std::string s = "memory: cue " + std::to_string(cue_) + " of " + std::to_string(o_.num_cues) +
                    ", step " + std::to_string(t_) + " of " + std::to_string(o_.delay + 2) + "; ";
    if (answer_ >= 0) {
      return s + "answered " + std::to_string(answer_) +
             (answer_ == cue_ ? " (right)" : " (wrong)");
    }
    if (t_ == 0) return s + "showing the cue";
    if (t_ == o_.delay + 1) return s + "asking the query";
    return s + "delay";
  }

  std::string SaveState() const override {
    StateWriter w(spec_.name, kVersion);
    // The options travel too, so that a snapshot is refused by an env made differently.
    w.Pod<int32_t>(o_.num_cues);
    w.Pod<int32_t>(o_.delay);
    w.Pod(seed_);
    w.Pod(episode_);
    w.Pod<int32_t>(cue_);
    w.Pod<int32_t>(t_);
    w.Pod<int32_t>(answer_);
    w.Bool(needs_reset_);
    return w.Take();
  }

  void LoadState(const std::string& bytes) override {
    StateReader r(bytes, spec_.name, kVersion);
    const auto num_cues = r.Pod<int32_t>();
    const auto delay = r.Pod<int32_t>();
    if (num_cues != o_.num_cues || delay != o_.delay) {
      r.Fail("made with num_cues " + std::to_string(num_cues) + ", delay " + std::to_string(delay) +
             "; this env has " + std::to_string(o_.num_cues) + ", " + std::to_string(o_.delay));
    }
    const auto seed = r.Pod<uint64_t>();
    const auto episode = r.Pod<uint64_t>();
    const auto cue = r.Pod<int32_t>();
    const auto t = r.Pod<int32_t>();
    const auto answer = r.Pod<int32_t>();
    const bool needs_reset = r.Bool();
    r.Finish();
    if (cue < 0 || cue >= o_.num_cues) r.Fail("cue " + std::to_string(cue));
    if (t < 0 || t > o_.delay + 2) r.Fail("step " + std::to_string(t));
    if (answer < -1 || answer >= o_.num_cues) r.Fail("answer " + std::to_string(answer));
    // Committed only now, so that bad bytes leave the env as it was.
    seed_ = seed;
    episode_ = episode;
    cue_ = cue;
    t_ = t;
    answer_ = answer;
    needs_reset_ = needs_reset;
  }

 private:
  void WriteObs(const ObsRef& obs) const {
    float* o = obs.Field<float>(0);
    for (int i = 0; i <= o_.num_cues; ++i) o[i] = 0.0f;
    if (t_ == 0) o[cue_] = 1.0f;
    if (t_ == o_.delay + 1) o[o_.num_cues] = 1.0f;
  }

  MemoryOptions o_;
  EnvSpec spec_;
  uint64_t seed_ = 0;
  uint64_t episode_ = 0;  ///< episodes started since Seed
  int cue_ = 0;
  int t_ = 0;        ///< actions taken this episode
  int answer_ = -1;  ///< the action at the query, -1 before it
  bool needs_reset_ = true;
};

}  // namespace

MemoryOptions MemoryOptionsFromParams(const Params& params) {
  ParamReader r(params, "env 'memory'");
  MemoryOptions o;
  o.num_cues = static_cast<int>(r.Int("num_cues", o.num_cues, 2, kMaxCues));
  o.delay = static_cast<int>(r.Int("delay", o.delay, 0, kMaxDelay));
  r.Finish();
  return o;
}

std::unique_ptr<Environment> MakeMemory(const MemoryOptions& options) {
  return std::make_unique<Memory>(options);
}

}  // namespace rimlab::toy
