// balls_touch: steer the white ball into the ball of the target colour among balls that bounce
// around a closed box (BallWorld: no gravity, no friction, elastic).
//
// Mission:     touch the ball whose colour the frame's border shows; touching any other ball
//              fails. Every ball has a colour; distractors may share colours with each other but
//              never the target's.
// Actions:     discrete, 5: none, up, down, left, right. A push adds `push` box units per second
//              to the agent's velocity in that direction; the agent's motor loses `drag` of its
//              velocity each step and its speed is capped at max_agent_speed. Collisions move it
//              like any ball.
// Observation: frame uint8 [size, size, 3]: the box in black inside a `border`-pixel border in the
//              target's colour, the balls in their colours, the agent in white (drawn last).
//              With `features`, what the frame shows as numbers instead: context float [8], the
//              agent's position (box-centred) and velocity, the target's colour and the elapsed
//              fraction of max_steps; objects float [12, 8], one row per ball, nearest to the
//              agent first (present 1, offset from the agent, velocity, colour), absent rows 0.
//              Positions are in box sides, velocities in units of 3 box sides / s, colours in
//              [0, 1]; y points up. The colours are given, not whether they match: the policy
//              must compare them, so `novel` still tests unseen colours.
// Reward:      1 - 0.9 * steps / max_steps for touching the target (MiniGrid's), else 0; with
//              `shaping` s > 0, plus s times the step's approach to the target (centre distance
//              before minus after, in box sides): a potential-based term, so the best policies
//              stay the best, which gives a learning signal at every step.
// Termination: the first step in which the agent touches a ball ends the episode (discount 0);
//              success = the target, and only the target, was touched. max_steps truncates.
// Splits:      train: 3 balls, speeds 0.5-1.5, colours red, green, blue, yellow.
//              more: 6 balls. faster: speeds 1.5-3. novel: purple, orange, cyan, pink.
#include "envs/balls/touch.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "common/rng.h"
#include "common/state_io.h"
#include "envs/balls/ball_world.h"
#include "envs/balls/render.h"

namespace rimlab::balls {

namespace {

constexpr uint32_t kVersion = 1;
constexpr float kBox = 10.0f;
constexpr float kAgentRadius = 0.6f, kBallRadius = 0.7f;
// Velocities in features are divided by this: the agent's default top speed. Speeds stay under
// 12 (10 set by max_speed, a little more for a light agent struck by a heavy ball), so within 4.
constexpr float kSpeedScale = 3.0f;
constexpr Rgb kAgent{255, 255, 255}, kBackground{0, 0, 0};
const std::vector<Rgb> kTrainPalette = {
    {220, 40, 40}, {40, 200, 60}, {50, 90, 230}, {230, 210, 40}};
const std::vector<Rgb> kNovelPalette = {
    {160, 60, 210}, {240, 130, 30}, {40, 200, 210}, {240, 120, 180}};
const char* const kActionNames[] = {"none", "up", "down", "left", "right"};

/// Box2D's cap on one sub-step's translation must not bind (BallWorld checks the balls' speeds;
/// the agent's comes from here).
BallWorldOptions WorldOptions(const TouchOptions& o) {
  BallWorldOptions w;
  w.min_balls = w.max_balls = 1;  // placement is ours (ResetWith)
  w.box_size = kBox;
  w.min_radius = kAgentRadius;
  w.max_radius = kBallRadius;
  w.min_speed = 0.0f;
  w.max_speed = std::max(o.max_speed, o.max_agent_speed);
  w.frame_time = 0.1f;
  w.substeps = 8;
  return w;
}

class Touch : public Environment {
 public:
  explicit Touch(const TouchOptions& o) : o_(o), world_(WorldOptions(o)) {
    spec_.name = "balls_touch";
    if (o_.features) {
      spec_.observation.fields = {
          ArraySpec{"context", {kTouchContextSize}, DType::kFloat32, -8.0, 8.0},
          ArraySpec{"objects", {kTouchObjectSlots, kTouchObjectSize}, DType::kFloat32, -8.0, 8.0}};
    } else {
      spec_.observation.fields = {
          ArraySpec{"frame", {o_.size, o_.size, 3}, DType::kUInt8, 0.0, 255.0}};
    }
    spec_.action = ActionSpec::Discrete(
        5, std::vector<std::string>(std::begin(kActionNames), std::end(kActionNames)));
    spec_.max_episode_steps = o_.max_steps;
    palette_ = o_.palette == "novel" ? kNovelPalette : kTrainPalette;
    actions_.reserve(static_cast<size_t>(o_.max_steps));
  }

  const EnvSpec& Spec() const override { return spec_; }

  void Seed(uint64_t seed) override {
    seed_ = seed;
    episode_ = 0;
    needs_reset_ = true;
  }

  TimeStep Reset(const ObsRef& obs) override {
    Start(episode_++);
    WriteObs(obs);
    return TimeStep{StepType::kFirst, 0.0f, 1.0f, false};
  }

  TimeStep Step(const Action& action, const ObsRef& obs) override {
    if (needs_reset_) throw std::logic_error("balls_touch: Step after LAST (or before Reset)");
    if (action.index < 0 || action.index >= 5) {
      throw std::invalid_argument("balls_touch: action " + std::to_string(action.index) +
                                  " out of range [0, 4]");
    }
    actions_.push_back(static_cast<uint8_t>(action.index));
    const TimeStep ts = Advance(action.index);
    WriteObs(obs);
    return ts;
  }

  void Render(Frame* frame) const override {
    // The observation at four times the size, so that the viewer shows what the agent sees.
    Draw(o_.size * 4, o_.border * 4, frame);
  }

  std::string Describe() const override {
    if (!started_) return "balls_touch: before the first episode";
    std::string s = "balls_touch: touch the " + ColourName(target_colour_) + " ball among " +
                    std::to_string(world_.num_balls() - 1) + " balls; step " + std::to_string(t_) +
                    " of " + std::to_string(o_.max_steps);
    if (touched_ > 0) s += touched_ == 1 ? "; touched the target" : "; touched another ball";
    return s;
  }

  std::string SaveState() const override {
    // Box2D's solver keeps contact state that positions and velocities do not capture, so a
    // snapshot is the episode's seed and its actions, replayed on load: exact by determinism.
    StateWriter w(spec_.name, kVersion);
    w.Pod<int32_t>(o_.size);
    w.Pod<int32_t>(o_.max_steps);
    w.Pod<uint64_t>(seed_);
    w.Pod<uint64_t>(episode_);
    w.Bool(needs_reset_);
    w.Bool(started_);
    w.Vector(actions_);
    return w.Take();
  }

  void LoadState(const std::string& bytes) override {
    StateReader r(bytes, spec_.name, kVersion);
    const auto size = r.Pod<int32_t>();
    const auto max_steps = r.Pod<int32_t>();
    if (size != o_.size || max_steps != o_.max_steps) {
      r.Fail("an env made with other options");
    }
    const auto seed = r.Pod<uint64_t>();
    const auto episode = r.Pod<uint64_t>();
    const bool needs_reset = r.Bool();
    const bool started = r.Bool();
    const auto actions = r.Vector<uint8_t>();
    r.Finish();
    if (actions.size() > static_cast<size_t>(o_.max_steps)) r.Fail("more actions than max_steps");
    for (uint8_t a : actions) {
      if (a > 4) r.Fail("an action out of range");
    }
    if (started && episode == 0) r.Fail("started before the first episode");
    seed_ = seed;
    episode_ = episode;
    if (started) {
      Start(episode_ - 1);
      for (uint8_t a : actions) {
        actions_.push_back(a);
        Advance(a);
      }
    } else {
      world_.ResetWith({});
      colours_.clear();
      actions_.clear();
      t_ = touched_ = 0;
    }
    started_ = started;
    needs_reset_ = needs_reset;
  }

 private:
  static std::string ColourName(Rgb c) {
    static const char* const kNames[] = {"red",    "green",  "blue", "yellow",
                                         "purple", "orange", "cyan", "pink"};
    for (size_t i = 0; i < 4; ++i) {
      const Rgb a = kTrainPalette[i], b = kNovelPalette[i];
      if (a.r == c.r && a.g == c.g && a.b == c.b) return kNames[i];
      if (b.r == c.r && b.g == c.g && b.b == c.b) return kNames[i + 4];
    }
    return "?";
  }

  void Start(uint64_t episode) {
    uint64_t s = seed_;
    uint64_t e = SplitMix64(&s) + episode;
    Rng rng(SplitMix64(&e));
    const int n = static_cast<int>(rng.UniformInt(o_.min_balls, o_.max_balls + 1));
    std::vector<BallSpec> specs;
    specs.reserve(static_cast<size_t>(n) + 1);
    // Rejection sampling as BallWorld::Reset does; the agent first, at rest.
    for (int i = 0; i <= n; ++i) {
      BallSpec b;
      b.radius = i == 0 ? kAgentRadius : kBallRadius;
      bool placed = false;
      for (int attempt = 0; attempt < 10000 && !placed; ++attempt) {
        b.x = static_cast<float>(rng.Uniform(b.radius, kBox - b.radius));
        b.y = static_cast<float>(rng.Uniform(b.radius, kBox - b.radius));
        placed = true;
        for (const auto& other : specs) {
          // Balls start clear of the agent by two radii, so no episode is won before acting.
          const float gap =
              b.radius + other.radius + (i == 0 || &other == &specs[0] ? 1.4f : 0.05f);
          const float dx = b.x - other.x, dy = b.y - other.y;
          placed = placed && dx * dx + dy * dy > gap * gap;
        }
      }
      if (!placed) throw std::invalid_argument("balls_touch: the balls do not fit in the box");
      if (i > 0) {
        const float speed = static_cast<float>(rng.Uniform(o_.min_speed, o_.max_speed));
        const float heading = static_cast<float>(rng.Uniform(0.0, 6.283185307179586));
        b.vx = speed * std::cos(heading);
        b.vy = speed * std::sin(heading);
      }
      specs.push_back(b);
    }
    world_.ResetWith(specs);
    // Ball 1 is the target; distractors draw from the other colours.
    const auto p = static_cast<uint32_t>(palette_.size());
    const uint32_t target = rng.Below(p);
    target_colour_ = palette_[target];
    colours_.assign(1, kAgent);
    colours_.push_back(target_colour_);
    for (int i = 1; i < n; ++i) {
      const uint32_t k = (target + 1 + rng.Below(p - 1)) % p;
      colours_.push_back(palette_[k]);
    }
    t_ = 0;
    touched_ = 0;
    actions_.clear();
    needs_reset_ = false;
    started_ = true;
  }

  TimeStep Advance(int action) {
    Ball agent = world_.GetBall(0);
    float vx = agent.vx * (1.0f - o_.drag), vy = agent.vy * (1.0f - o_.drag);
    // y points up in the world and down in the frame: "up" is +y.
    if (action == 1) vy += o_.push;
    if (action == 2) vy -= o_.push;
    if (action == 3) vx -= o_.push;
    if (action == 4) vx += o_.push;
    const float speed = std::sqrt(vx * vx + vy * vy);
    if (speed > o_.max_agent_speed) {
      vx *= o_.max_agent_speed / speed;
      vy *= o_.max_agent_speed / speed;
    }
    const float before = TargetDistance();
    world_.SetVelocity(0, vx, vy);
    world_.Step();
    ++t_;
    // Potential-based (Ng et al. 1999, with the potential minus the distance in box sides):
    // rewards approach without changing which policies are best, and success is unchanged.
    const float shaped = o_.shaping * (before - TargetDistance()) / kBox;
    bool target = false, other = false;
    for (const auto& [a, b] : world_.TouchedDuringStep()) {
      if (a != 0) continue;  // only the agent's touches count
      (b == 1 ? target : other) = true;
    }
    if (target || other) {
      needs_reset_ = true;
      const bool success = target && !other;
      touched_ = success ? 1 : 2;
      const float reward =
          success ? 1.0f - 0.9f * static_cast<float>(t_) / static_cast<float>(o_.max_steps) : 0.0f;
      return TimeStep{StepType::kLast, reward + shaped, 0.0f, success};
    }
    if (t_ >= o_.max_steps) {
      needs_reset_ = true;
      return TimeStep{StepType::kLast, shaped, 1.0f, false};
    }
    return TimeStep{StepType::kMid, shaped, 1.0f, false};
  }

  float TargetDistance() const {
    if (o_.shaping == 0.0f) return 0.0f;
    const Ball a = world_.GetBall(0), b = world_.GetBall(1);
    return std::sqrt((a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y));
  }

  void Draw(int size, int border, Frame* out) const {
    if (!started_) {  // before the first episode: an empty box in a grey border
      out->Reset(size, size, Rgb{90, 90, 90});
      out->FillRect(border, border, size - border, size - border, kBackground);
      return;
    }
    RenderColour(world_, size - 2 * border, colours_, kBackground, Curtain{}, kBackground, &inner_);
    out->Reset(size, size, target_colour_);
    for (int y = 0; y < inner_.height; ++y) {
      std::copy(inner_.Pixel(0, y), inner_.Pixel(0, y) + 3 * inner_.width,
                out->Pixel(border, y + border));
    }
  }

  void WriteObs(const ObsRef& obs) {
    if (o_.features) {
      WriteFeatures(obs.Field<float>(0), obs.Field<float>(1));
      return;
    }
    Draw(o_.size, o_.border, &frame_);
    std::copy(frame_.rgb.begin(), frame_.rgb.end(), obs.Field<uint8_t>(0));
  }

  void WriteFeatures(float* out, float* objects) {
    std::fill(out, out + kTouchContextSize, 0.0f);
    std::fill(objects, objects + kTouchObjectSlots * kTouchObjectSize, 0.0f);
    if (!started_) return;
    const float v = kSpeedScale;
    const Ball agent = world_.GetBall(0);
    out[0] = agent.x / kBox - 0.5f;
    out[1] = agent.y / kBox - 0.5f;
    out[2] = agent.vx / v;
    out[3] = agent.vy / v;
    out[4] = static_cast<float>(target_colour_.r) / 255.0f;
    out[5] = static_cast<float>(target_colour_.g) / 255.0f;
    out[6] = static_cast<float>(target_colour_.b) / 255.0f;
    out[7] = static_cast<float>(t_) / static_cast<float>(o_.max_steps);
    // Nearest first, ties by index: the order is a function of the state alone.
    std::vector<std::pair<float, int>>& order = order_;  // a member: no allocation per step
    order.clear();
    for (int i = 1; i < world_.num_balls(); ++i) {
      const Ball b = world_.GetBall(i);
      order.push_back({(b.x - agent.x) * (b.x - agent.x) + (b.y - agent.y) * (b.y - agent.y), i});
    }
    std::sort(order.begin(), order.end());
    for (size_t s = 0; s < order.size() && s < static_cast<size_t>(kTouchObjectSlots); ++s) {
      const int i = order[s].second;
      const Ball b = world_.GetBall(i);
      const Rgb c = colours_[static_cast<size_t>(i)];
      float* slot = objects + s * kTouchObjectSize;
      slot[0] = 1.0f;
      slot[1] = (b.x - agent.x) / kBox;
      slot[2] = (b.y - agent.y) / kBox;
      slot[3] = b.vx / v;
      slot[4] = b.vy / v;
      slot[5] = static_cast<float>(c.r) / 255.0f;
      slot[6] = static_cast<float>(c.g) / 255.0f;
      slot[7] = static_cast<float>(c.b) / 255.0f;
    }
  }

  TouchOptions o_;
  EnvSpec spec_;
  BallWorld world_;
  std::vector<Rgb> palette_, colours_;
  std::vector<std::pair<float, int>> order_;  ///< WriteFeatures' (distance, ball) scratch
  Rgb target_colour_;
  std::vector<uint8_t> actions_;
  uint64_t seed_ = 0, episode_ = 0;
  int t_ = 0;
  int touched_ = 0;  // 0 none, 1 the target, 2 another ball
  bool needs_reset_ = true, started_ = false;
  Frame frame_;
  mutable Frame inner_;
};

}  // namespace

const std::vector<std::string>& TouchSplits() {
  static const std::vector<std::string> splits = {"train", "more", "faster", "novel"};
  return splits;
}

TouchOptions TouchOptionsFromParams(const Params& params) {
  ParamReader r(params, "env 'balls_touch'");
  TouchOptions o;
  o.split = r.Choice("split", "train", TouchSplits());
  if (o.split == "more") o.min_balls = o.max_balls = 6;
  if (o.split == "faster") {
    o.min_speed = 1.5f;
    o.max_speed = 3.0f;
  }
  if (o.split == "novel") o.palette = "novel";
  o.min_balls = static_cast<int>(r.Int("min_balls", o.min_balls, 1, 12));
  o.max_balls = static_cast<int>(r.Int("max_balls", o.max_balls, 1, 12));
  if (o.max_balls < o.min_balls) r.Fail("max_balls", "must be at least min_balls");
  o.min_speed = static_cast<float>(r.Float("min_speed", o.min_speed, 0.0, 10.0));
  o.max_speed = static_cast<float>(r.Float("max_speed", o.max_speed, 0.0, 10.0));
  if (o.max_speed < o.min_speed) r.Fail("max_speed", "must be at least min_speed");
  o.palette = r.Choice("palette", o.palette, {"train", "novel"});
  o.size = static_cast<int>(r.Int("size", o.size, 16, 256));
  if (o.size % 16 != 0) r.Fail("size", "must be a multiple of 16 (the frame encoder's strides)");
  o.border = static_cast<int>(r.Int("border", o.border, 1, o.size / 4));
  o.max_steps = static_cast<int>(r.Int("max_steps", o.max_steps, 1, 100000));
  o.push = static_cast<float>(r.Float("push", o.push, 0.01, 10.0));
  o.drag = static_cast<float>(r.Float("drag", o.drag, 0.0, 1.0));
  o.max_agent_speed = static_cast<float>(r.Float("max_agent_speed", o.max_agent_speed, 0.1, 10.0));
  o.features = r.Bool("features", o.features);
  o.shaping = static_cast<float>(r.Float("shaping", o.shaping, 0.0, 100.0));
  static_assert(kTouchObjectSlots == 12, "max_balls' cap above must equal the object rows");
  r.Finish();
  return o;
}

std::unique_ptr<Environment> MakeTouch(const TouchOptions& options) {
  return std::make_unique<Touch>(options);
}

}  // namespace rimlab::balls
