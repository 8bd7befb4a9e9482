// pickup: MiniGrid's Fetch. A room of side `size` holds `num_objects` keys and balls of random
// colours; the mission names one of them.
//
// Mission:     [get, colour, type] of the target, e.g. "get red key".
// Actions:     MiniGrid's seven; only left, right, forward and pickup matter.
// Observation: image [7,7,3] egocentric view, direction, mission. Fetch sees through walls.
// Reward:      1 - 0.9 * steps / max_steps for picking up the target; 0 for anything else.
// Termination: any pickup ends the episode (discount 0); max_steps (5 * size^2) truncates it.
// With `map`, the layout is fixed and `target` (or a random object of the map) is the mission.
#include "envs/grid/tasks/common.h"
#include "envs/grid/tasks/tasks.h"

namespace rimlab::grid {

namespace {

void CheckRoom(const PickupOptions& o, const ParamReader& r) {
  const int free = (o.size - 2) * (o.size - 2);
  if (o.map.empty() && o.num_objects + 1 > free) {
    r.Fail("num_objects", std::to_string(o.num_objects) + " objects and the agent need " +
                              std::to_string(o.num_objects + 1) + " free cells, but a room of " +
                              "size " + std::to_string(o.size) + " has " + std::to_string(free));
  }
}

class Pickup : public GridEnv {
 public:
  explicit Pickup(const PickupOptions& o)
      : GridEnv("pickup", o.max_steps > 0 ? o.max_steps : 5 * o.size * o.size, o.see_through_walls),
        o_(o) {
    ParamReader r(Params{}, "env 'pickup'");
    if (o_.kinds.empty()) {
      for (Obj t : {Obj::kKey, Obj::kBall}) {
        for (int c = 0; c < kNumColors; ++c)
          o_.kinds.push_back(ObjectKind{static_cast<Color>(c), t});
      }
    }
    if (!o.map.empty()) {
      level_ = ReadMapOption(r, "map", o.map);
      for (int y = 0; y < level_.grid.height(); ++y) {
        for (int x = 0; x < level_.grid.width(); ++x) {
          const Cell& c = level_.grid.at(x, y);
          if (c.CanPickup()) map_objects_.push_back(ObjectKind{c.color, c.type});
        }
      }
      if (map_objects_.empty()) r.Fail("map", "a pickup map needs at least one key, ball or box");
      if (!o.target.empty()) {
        const auto kinds = ParseObjectKinds(r, "target", {o.target});
        bool present = false;
        for (const auto& k : map_objects_) present = present || k == kinds[0];
        if (kinds.size() != 1 || !present) {
          r.Fail("target", "\"" + o.target + "\" is not an object of the map");
        }
        fixed_target_ = kinds[0];
        has_fixed_target_ = true;
      }
    } else {
      CheckRoom(o, r);
    }
    objects_.reserve(static_cast<size_t>(o.num_objects));
  }

 protected:
  void GenGrid() override {
    ObjectKind target{};
    if (!o_.map.empty()) {
      grid_ = level_.grid;
      agent_x_ = level_.agent_x;
      agent_y_ = level_.agent_y;
      agent_dir_ = level_.agent_dir;
      target = has_fixed_target_
                   ? fixed_target_
                   : map_objects_[rng_.Below(static_cast<uint32_t>(map_objects_.size()))];
    } else {
      grid_.Resize(o_.size, o_.size);
      grid_.WallRect(0, 0, o_.size, o_.size);
      objects_.clear();
      for (int i = 0; i < o_.num_objects; ++i) {
        const ObjectKind k = o_.kinds[rng_.Below(static_cast<uint32_t>(o_.kinds.size()))];
        PlaceObj(Cell::Make(k.type, k.color));
        objects_.push_back(k);
      }
      PlaceAgent();
      target = objects_[rng_.Below(static_cast<uint32_t>(objects_.size()))];
    }
    target_ = target;
    mission_ = {Vocab::kGet, Vocab::ColorToken(target.color), Vocab::ObjToken(target.type)};
  }

  void AfterStep(int32_t /*action*/, float* reward, bool* terminated, bool* success) override {
    EndOnPickup(target_.type, target_.color, reward, terminated, success);
  }

  // Only the target outlives GenGrid: objects_ is rebuilt from scratch on every reset.
  void SaveTaskState(StateWriter* w) const override { w->Pod(target_); }

  void LoadTaskState(StateReader* r) override {
    const auto target = r->Pod<ObjectKind>();
    CheckCell(*r, Cell::Make(target.type, target.color), "the target");
    target_ = target;
  }

 private:
  PickupOptions o_;
  AsciiLevel level_;
  std::vector<ObjectKind> map_objects_;
  ObjectKind fixed_target_{};
  bool has_fixed_target_ = false;
  std::vector<ObjectKind> objects_;
  ObjectKind target_{};
};

}  // namespace

PickupOptions PickupOptionsFromParams(const Params& params) {
  ParamReader r(params, "env 'pickup'");
  PickupOptions o;
  o.size = static_cast<int>(r.Int("size", o.size, 4, 64));
  o.num_objects = static_cast<int>(r.Int("num_objects", o.num_objects, 1, 1000));
  o.max_steps = static_cast<int>(r.Int("max_steps", o.max_steps, 0, 1000000));
  o.see_through_walls = r.Bool("see_through_walls", o.see_through_walls);
  o.map = r.StringList("map", {});
  o.target = r.String("target", "");
  o.kinds = ParseObjectKinds(r, "objects", r.StringList("objects", {"* key", "* ball"}));
  if (!o.target.empty() && o.map.empty()) r.Fail("target", "`target` needs a `map`");
  CheckRoom(o, r);
  if (!o.map.empty()) {
    // Parse now so that map and target errors carry the config's file and line.
    const AsciiLevel level = ReadMapOption(r, "map", o.map);
    bool any = false;
    bool present = o.target.empty();
    const auto target =
        o.target.empty() ? std::vector<ObjectKind>{} : ParseObjectKinds(r, "target", {o.target});
    for (int y = 0; y < level.grid.height(); ++y) {
      for (int x = 0; x < level.grid.width(); ++x) {
        const Cell& c = level.grid.at(x, y);
        any = any || c.CanPickup();
        if (!target.empty() && c.CanPickup())
          present = present || ObjectKind{c.color, c.type} == target[0];
      }
    }
    if (!any) r.Fail("map", "a pickup map needs at least one key, ball or box");
    if (!present || target.size() > 1)
      r.Fail("target", "\"" + o.target + "\" is not an object of the map");
  }
  r.Finish();
  return o;
}

std::unique_ptr<GridEnv> MakePickup(const PickupOptions& options) {
  return std::make_unique<Pickup>(options);
}

}  // namespace rimlab::grid
