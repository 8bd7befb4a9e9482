// The distractors task: what each split puts in the room, and the rules that make train and test
// distributions differ.
#include <catch2/catch.hpp>

#include <set>

#include "envs/grid/tasks/tasks.h"

using namespace rimlab;
using namespace rimlab::grid;

namespace {

struct Census {
  std::set<std::pair<int, int>> targets;      // (colour, type)
  std::set<std::pair<int, int>> distractors;  // (colour, type)
  int min_count = 1 << 30;
  int max_count = 0;
  int size = 0;
};

// Resets `episodes` times and records every object kind seen, target apart from distractors.
Census Survey(const std::string& split, int episodes, Params p = {}) {
  p.Set("split", split);
  auto env = MakeDistractors(DistractorsOptionsFromParams(p));
  Observation obs(env->Spec().observation);
  Census c;
  for (int e = 0; e < episodes; ++e) {
    env->Seed(static_cast<uint64_t>(e));
    env->Reset(obs.Ref());
    const auto& m = env->mission();
    const Grid& g = env->grid();
    c.size = g.width();
    int count = 0;
    bool target_seen = false;
    for (int y = 0; y < g.height(); ++y) {
      for (int x = 0; x < g.width(); ++x) {
        const Cell& cell = g.at(x, y);
        if (!cell.CanPickup()) continue;
        const bool is_target =
            Vocab::ColorToken(cell.color) == m[1] && Vocab::ObjToken(cell.type) == m[2];
        const auto kind = std::make_pair(static_cast<int>(cell.color), static_cast<int>(cell.type));
        if (is_target) {
          REQUIRE_FALSE(target_seen);  // the target is unique in the room
          target_seen = true;
          c.targets.insert(kind);
        } else {
          c.distractors.insert(kind);
          ++count;
        }
      }
    }
    REQUIRE(target_seen);
    c.min_count = std::min(c.min_count, count);
    c.max_count = std::max(c.max_count, count);
  }
  return c;
}

}  // namespace

TEST_CASE("A novel distractor never appears in train", "[distractors]") {
  const Census train = Survey("train", 3000);
  const Census novel = Survey("novel", 3000);
  for (const auto& k : novel.distractors) {
    INFO(ColorName(static_cast<Color>(k.first)) << " " << ObjName(static_cast<Obj>(k.second)));
    CHECK(train.distractors.count(k) == 0);
    CHECK(train.targets.count(k) == 0);
  }
  // Novel covers new types and new colours; train sticks to keys and balls in red, green, blue.
  CHECK(novel.distractors.size() == 6 + 2 * 3);
  CHECK(train.distractors.size() == 6);
  for (const auto& k : train.distractors) {
    CHECK(k.first <= static_cast<int>(Color::kBlue));
    CHECK(k.second != static_cast<int>(Obj::kBox));
  }
  // Targets come from the same distribution in every split.
  CHECK(train.targets == novel.targets);
}

TEST_CASE("Splits vary the distractor count and the room size", "[distractors]") {
  const Census train = Survey("train", 500);
  CHECK(train.size == 6);
  CHECK(train.min_count == 1);
  CHECK(train.max_count == 3);
  const Census more = Survey("more", 500);
  CHECK(more.size == 6);
  CHECK(more.min_count == 5);
  CHECK(more.max_count == 8);
  const Census bigger = Survey("bigger", 500);
  CHECK(bigger.size == 10);
  CHECK(bigger.max_count == 3);
  // Explicit keys override a split's presets.
  Params p;
  p.Set("size", int64_t{7});
  CHECK(Survey("bigger", 5, p).size == 7);
}

TEST_CASE("allow_same_color and allow_same_type constrain distractors", "[distractors]") {
  Params p;
  p.Set("allow_same_color", false);
  p.Set("allow_same_type", false);
  p.Set("split", std::string("train"));
  auto env = MakeDistractors(DistractorsOptionsFromParams(p));
  Observation obs(env->Spec().observation);
  for (uint64_t s = 0; s < 300; ++s) {
    env->Seed(s);
    env->Reset(obs.Ref());
    const auto& m = env->mission();
    const Grid& g = env->grid();
    for (int y = 0; y < g.height(); ++y) {
      for (int x = 0; x < g.width(); ++x) {
        const Cell& c = g.at(x, y);
        if (!c.CanPickup()) continue;
        const bool same_color = Vocab::ColorToken(c.color) == m[1];
        const bool same_type = Vocab::ObjToken(c.type) == m[2];
        if (same_color && same_type) continue;  // the target itself
        REQUIRE_FALSE(same_color);
        REQUIRE_FALSE(same_type);
      }
    }
  }
}

TEST_CASE("Moving distractor balls step to neighbouring cells", "[distractors]") {
  Params p;
  p.Set("moving", true);
  p.Set("distractors", std::vector<std::string>{"* ball"});
  p.Set("min_distractors", int64_t{3});
  p.Set("max_distractors", int64_t{3});
  auto env = MakeDistractors(DistractorsOptionsFromParams(p));
  Observation obs(env->Spec().observation);
  env->Seed(3);
  env->Reset(obs.Ref());
  int moved = 0;
  for (int t = 0; t < 20; ++t) {
    const Grid before = env->grid();
    Action a;
    a.index = kLeft;  // turning never picks anything up
    const TimeStep ts = env->Step(a, obs.Ref());
    REQUIRE(ts.mid());
    const Grid& after = env->grid();
    int objects_before = 0;
    int objects_after = 0;
    for (int y = 0; y < after.height(); ++y) {
      for (int x = 0; x < after.width(); ++x) {
        objects_before += before.at(x, y).CanPickup() ? 1 : 0;
        objects_after += after.at(x, y).CanPickup() ? 1 : 0;
      }
    }
    REQUIRE(objects_before == objects_after);  // nothing appears or vanishes
    moved += before == after ? 0 : 1;
  }
  CHECK(moved >= 15);
}

TEST_CASE("Bad distractor options fail with the key and the expectation", "[distractors]") {
  Params p;
  p.Set("max_distractors", int64_t{20}, "cfg.yaml:4");
  CHECK_THROWS_WITH(DistractorsOptionsFromParams(p), Catch::Contains("cfg.yaml:4") &&
                                                         Catch::Contains("max_distractors") &&
                                                         Catch::Contains("free cells"));
  Params q;
  q.Set("split", std::string("weird"), "cfg.yaml:2");
  CHECK_THROWS_WITH(DistractorsOptionsFromParams(q),
                    Catch::Contains("one of train, more, novel, bigger"));
  Params r;
  r.Set("distractors", std::vector<std::string>{"red dragon"}, "cfg.yaml:5");
  CHECK_THROWS_WITH(DistractorsOptionsFromParams(r), Catch::Contains("unknown object \"dragon\""));
  Params s;
  s.Set("distractors", std::vector<std::string>{"red key"});
  s.Set("targets", std::vector<std::string>{"red key"});
  CHECK_THROWS_WITH(DistractorsOptionsFromParams(s), Catch::Contains("no distractor kind"));
  Params t;
  t.Set("min_distractors", int64_t{3});
  t.Set("max_distractors", int64_t{2});
  CHECK_THROWS_WITH(DistractorsOptionsFromParams(t), Catch::Contains("exceeds"));
}
