// Grid view features (envs/grid/view_features.h) on hand-built views in MiniGrid's encoding.
#include <catch2/catch.hpp>

#include <array>

#include "envs/grid/view_features.h"
#include "envs/grid/world.h"

using namespace rimlab::grid;

namespace {

struct View {
  std::array<uint8_t, 7 * 7 * 3> image{};
  View() {
    for (int i = 0; i < 49; ++i) image[i * 3] = static_cast<uint8_t>(Obj::kEmpty);
  }
  void Set(int row, int col, Obj type, Color colour) {
    image[(row * 7 + col) * 3] = static_cast<uint8_t>(type);
    image[(row * 7 + col) * 3 + 1] = static_cast<uint8_t>(colour);
  }
  std::array<uint8_t, 5> Features(Color colour, Obj type) const {
    const std::array<int32_t, 3> mission = {Vocab::kGet, Vocab::ColorToken(colour),
                                            Vocab::ObjToken(type)};
    std::array<uint8_t, 5> out{};
    ViewFeatures(image.data(), mission.data(), out.data());
    return out;
  }
};

}  // namespace

TEST_CASE("view features name five things in a fixed order") {
  REQUIRE(ViewFeatureNames().size() == 5);
  CHECK(ViewFeatureNames()[0] == "target in view");
  CHECK(ViewFeatureNames()[3] == "wall ahead");
}

TEST_CASE("an empty view has none of the features") {
  const auto f = View().Features(Color::kRed, Obj::kBall);
  CHECK(f == std::array<uint8_t, 5>{0, 0, 0, 0, 0});
}

TEST_CASE("the target and a distractor are told apart by colour and type") {
  View v;
  v.Set(1, 0, Obj::kBall, Color::kRed);   // the target, far left
  v.Set(2, 5, Obj::kBall, Color::kBlue);  // same type, other colour: a distractor
  auto f = v.Features(Color::kRed, Obj::kBall);
  CHECK(f[0] == 1);
  CHECK(f[1] == 1);
  CHECK(f[2] == 0);
  // With a blue-ball mission the roles swap; a red key would be a distractor too.
  f = v.Features(Color::kBlue, Obj::kBall);
  CHECK(f[0] == 1);
  CHECK(f[1] == 1);
  f = v.Features(Color::kGreen, Obj::kKey);
  CHECK(f[0] == 0);
  CHECK(f[1] == 1);
}

TEST_CASE("ahead is row 5, column 3; the agent's own cell is what it carries") {
  View v;
  v.Set(5, 3, Obj::kKey, Color::kGreen);
  auto f = v.Features(Color::kGreen, Obj::kKey);
  CHECK(f[0] == 1);
  CHECK(f[2] == 1);
  CHECK(f[3] == 0);
  View w;
  w.Set(5, 3, Obj::kWall, Color::kGrey);
  w.Set(4, 3, Obj::kKey, Color::kGreen);
  f = w.Features(Color::kGreen, Obj::kKey);
  CHECK(f[2] == 0);
  CHECK(f[3] == 1);
  View c;
  c.Set(6, 3, Obj::kKey, Color::kGreen);  // carried: not "in view"
  f = c.Features(Color::kGreen, Obj::kKey);
  CHECK(f[0] == 0);
  CHECK(f[1] == 0);
  CHECK(f[4] == 1);
}

TEST_CASE("a mission without a colour and type has no target") {
  View v;
  v.Set(5, 3, Obj::kBall, Color::kRed);
  const std::array<int32_t, 3> mission = {Vocab::kPad, Vocab::kPad, Vocab::kPad};
  std::array<uint8_t, 5> out{};
  ViewFeatures(v.image.data(), mission.data(), out.data());
  CHECK(out[0] == 0);
  CHECK(out[2] == 0);
  CHECK(out[1] == 1);
}
