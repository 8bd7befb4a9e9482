// distractors: the RIM paper's object-picking task with novel distractors. The agent must pick up
// the target named by the mission in a room that also holds K distractors.
//
// Mission:     [get, colour, type] of the target.
// Actions:     MiniGrid's seven; only left, right, forward and pickup matter.
// Observation: image [7,7,3] egocentric view, direction, mission.
// Reward:      1 - 0.9 * steps / max_steps for picking up the target; 0 for a distractor.
// Termination: any pickup ends the episode (discount 0); max_steps (5 * size^2) truncates it.
//
// Targets are always keys and balls in red, green or blue. A distractor is never the target's own
// (colour, type) pair. Splits (each key can still be overridden):
//   train   size 6, 1-3 distractors, drawn from {key, ball} x {red, green, blue}
//   more    as train with 5-8 distractors
//   novel   as train, but distractors are pairs never seen in train: boxes of any colour and keys
//           or balls in purple, yellow or grey
//   bigger  as train in a room of size 10
// With `moving`, distractor balls step to a random free neighbouring cell (3x3 box) before each
// agent action, as in MiniGrid's Dynamic-Obstacles.
#include <array>

#include "envs/grid/tasks/common.h"
#include "envs/grid/tasks/tasks.h"

namespace rimlab::grid {

namespace {

constexpr int kMaxMoving = 64;

const std::vector<std::string> kTrainKinds = {"red key",  "green key",  "blue key",
                                              "red ball", "green ball", "blue ball"};
const std::vector<std::string> kNovelKinds = {
    "* box", "purple key", "yellow key", "grey key", "purple ball", "yellow ball", "grey ball"};

// Checks the options against each other and lists, for every target, the distractor kinds that
// may accompany it. `r` attributes errors to the config keys.
std::vector<std::vector<ObjectKind>> BuildCandidates(const DistractorsOptions& o,
                                                     const ParamReader& r) {
  const int free = (o.size - 2) * (o.size - 2);
  if (o.max_distractors + 2 > free) {
    r.Fail("max_distractors",
           std::to_string(o.max_distractors) + " distractors, the target and the agent need " +
               std::to_string(o.max_distractors + 2) + " free cells, but a room of size " +
               std::to_string(o.size) + " has " + std::to_string(free));
  }
  if (o.min_distractors > o.max_distractors) {
    r.Fail("min_distractors", "min_distractors (" + std::to_string(o.min_distractors) +
                                  ") exceeds max_distractors (" +
                                  std::to_string(o.max_distractors) + ")");
  }
  if (o.targets.empty()) r.Fail("targets", "expected at least one target kind");
  std::vector<std::vector<ObjectKind>> candidates(o.targets.size());
  for (size_t t = 0; t < o.targets.size(); ++t) {
    const ObjectKind& target = o.targets[t];
    for (const auto& d : o.distractors) {
      if (d == target) continue;
      if (!o.allow_same_color && d.color == target.color) continue;
      if (!o.allow_same_type && d.type == target.type) continue;
      candidates[t].push_back(d);
    }
    if (candidates[t].empty() && o.max_distractors > 0) {
      r.Fail("distractors", "no distractor kind is allowed next to the target \"" +
                                KindName(target) +
                                "\" (check allow_same_color and allow_same_type)");
    }
  }
  return candidates;
}

class Distractors : public GridEnv {
 public:
  explicit Distractors(const DistractorsOptions& o)
      : GridEnv("distractors", o.max_steps > 0 ? o.max_steps : 5 * o.size * o.size,
                o.see_through_walls),
        o_(o),
        candidates_(BuildCandidates(o, ParamReader(Params{}, "env 'distractors'"))) {}

 protected:
  void GenGrid() override {
    grid_.Resize(o_.size, o_.size);
    grid_.WallRect(0, 0, o_.size, o_.size);
    const auto t = rng_.Below(static_cast<uint32_t>(o_.targets.size()));
    target_ = o_.targets[t];
    PlaceObj(Cell::Make(target_.type, target_.color));
    const int k = rng_.UniformInt(o_.min_distractors, o_.max_distractors + 1);
    const auto& pool = candidates_[t];
    num_moving_ = 0;
    for (int i = 0; i < k; ++i) {
      const ObjectKind d = pool[rng_.Below(static_cast<uint32_t>(pool.size()))];
      int x = 0;
      int y = 0;
      PlaceObj(Cell::Make(d.type, d.color), &x, &y);
      if (o_.moving && d.type == Obj::kBall && num_moving_ < kMaxMoving) {
        moving_[static_cast<size_t>(num_moving_++)] = {x, y};
      }
    }
    PlaceAgent();
    mission_ = {Vocab::kGet, Vocab::ColorToken(target_.color), Vocab::ObjToken(target_.type)};
  }

  void BeforeStep(int32_t /*action*/) override {
    for (int i = 0; i < num_moving_; ++i) {
      auto& pos = moving_[static_cast<size_t>(i)];
      const Cell ball = grid_.at(pos[0], pos[1]);
      int nx = 0;
      int ny = 0;
      try {
        PlaceObj(
            ball, pos[0] - 1, pos[1] - 1, 3, 3, [](int, int) { return false; }, &nx, &ny, 100);
      } catch (const std::runtime_error&) {
        continue;  // boxed in: stays where it is, as Dynamic-Obstacles does
      }
      grid_.Set(pos[0], pos[1], Cell::Empty());
      pos = {nx, ny};
    }
  }

  void AfterStep(int32_t /*action*/, float* reward, bool* terminated, bool* success) override {
    EndOnPickup(target_.type, target_.color, reward, terminated, success);
  }

  // The target decides rewards, and the moving balls' positions where BeforeStep moves them from.
  void SaveTaskState(StateWriter* w) const override {
    w->Pod(target_);
    w->Pod<int32_t>(num_moving_);
    for (int i = 0; i < num_moving_; ++i) w->Pod(moving_[static_cast<size_t>(i)]);
  }

  void LoadTaskState(StateReader* r) override {
    const auto target = r->Pod<ObjectKind>();
    CheckCell(*r, Cell::Make(target.type, target.color), "the target");
    const auto n = r->Pod<int32_t>();
    if (n < 0 || n > kMaxMoving) r->Fail(std::to_string(n) + " moving distractors");
    std::array<std::array<int, 2>, kMaxMoving> moving{};
    for (int i = 0; i < n; ++i) {
      const auto pos = r->Pod<std::array<int, 2>>();
      if (!grid_.InBounds(pos[0], pos[1])) {
        r->Fail("a moving distractor at (" + std::to_string(pos[0]) + ", " +
                std::to_string(pos[1]) + ") is off the grid");
      }
      moving[static_cast<size_t>(i)] = pos;
    }
    target_ = target;
    moving_ = moving;
    num_moving_ = n;
  }

 private:
  DistractorsOptions o_;
  std::vector<std::vector<ObjectKind>> candidates_;
  ObjectKind target_{};
  std::array<std::array<int, 2>, kMaxMoving> moving_{};
  int num_moving_ = 0;
};

}  // namespace

const std::vector<std::string>& DistractorSplits() {
  static const std::vector<std::string> splits = {"train", "more", "novel", "bigger"};
  return splits;
}

DistractorsOptions DistractorsOptionsFromParams(const Params& params) {
  ParamReader r(params, "env 'distractors'");
  DistractorsOptions o;
  o.split = r.Choice("split", "train", DistractorSplits());
  std::vector<std::string> distractors = kTrainKinds;
  if (o.split == "more") {
    o.min_distractors = 5;
    o.max_distractors = 8;
  } else if (o.split == "novel") {
    distractors = kNovelKinds;
  } else if (o.split == "bigger") {
    o.size = 10;
  }
  o.size = static_cast<int>(r.Int("size", o.size, 4, 64));
  o.min_distractors = static_cast<int>(r.Int("min_distractors", o.min_distractors, 0, 1000));
  o.max_distractors = static_cast<int>(r.Int("max_distractors", o.max_distractors, 0, 1000));
  o.targets = ParseObjectKinds(r, "targets", r.StringList("targets", kTrainKinds));
  o.distractors = ParseObjectKinds(r, "distractors", r.StringList("distractors", distractors));
  o.allow_same_color = r.Bool("allow_same_color", o.allow_same_color);
  o.allow_same_type = r.Bool("allow_same_type", o.allow_same_type);
  o.moving = r.Bool("moving", o.moving);
  o.max_steps = static_cast<int>(r.Int("max_steps", o.max_steps, 0, 1000000));
  o.see_through_walls = r.Bool("see_through_walls", o.see_through_walls);
  BuildCandidates(o, r);
  r.Finish();
  return o;
}

std::unique_ptr<GridEnv> MakeDistractors(const DistractorsOptions& options) {
  if (options.targets.empty() && options.distractors.empty()) {
    // A default-constructed struct means the `train` split.
    DistractorsOptions o = DistractorsOptionsFromParams(Params{});
    o.size = options.size;
    o.min_distractors = options.min_distractors;
    o.max_distractors = options.max_distractors;
    o.allow_same_color = options.allow_same_color;
    o.allow_same_type = options.allow_same_type;
    o.moving = options.moving;
    o.max_steps = options.max_steps;
    o.see_through_walls = options.see_through_walls;
    return std::make_unique<Distractors>(o);
  }
  return std::make_unique<Distractors>(options);
}

}  // namespace rimlab::grid
