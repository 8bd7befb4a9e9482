#include "envs/grid/view_features.h"

#include "envs/grid/grid_env.h"
#include "envs/grid/world.h"

namespace rimlab::grid {

namespace {

constexpr int kAgentRow = kViewSize - 1;
constexpr int kAgentCol = kViewSize / 2;

const uint8_t* CellAt(const uint8_t* image, int row, int col) {
  return image + (row * kViewSize + col) * 3;
}

bool IsObject(uint8_t type) {
  return type == static_cast<uint8_t>(Obj::kKey) || type == static_cast<uint8_t>(Obj::kBall) ||
         type == static_cast<uint8_t>(Obj::kBox);
}

}  // namespace

const std::vector<std::string>& ViewFeatureNames() {
  static const std::vector<std::string> names = {"target in view", "distractor in view",
                                                 "target ahead", "wall ahead", "carrying"};
  return names;
}

void ViewFeatures(const uint8_t* image, const int32_t* mission, uint8_t* out) {
  const int colour = mission[1] - Vocab::kColor0;
  const int type = mission[2] - Vocab::kObj0;
  const bool has_target = colour >= 0 && colour < kNumColors && type >= 0 && type < kNumObj;
  auto is_target = [&](const uint8_t* c) { return has_target && c[0] == type && c[1] == colour; };
  bool target = false;
  bool distractor = false;
  for (int r = 0; r < kViewSize; ++r) {
    for (int c = 0; c < kViewSize; ++c) {
      if (r == kAgentRow && c == kAgentCol) continue;  // what it carries, not what it sees
      const uint8_t* cell = CellAt(image, r, c);
      if (is_target(cell)) {
        target = true;
      } else if (IsObject(cell[0])) {
        distractor = true;
      }
    }
  }
  const uint8_t* ahead = CellAt(image, kAgentRow - 1, kAgentCol);
  const uint8_t carried = CellAt(image, kAgentRow, kAgentCol)[0];
  out[0] = target;
  out[1] = distractor;
  out[2] = is_target(ahead);
  out[3] = ahead[0] == static_cast<uint8_t>(Obj::kWall);
  out[4] = carried != static_cast<uint8_t>(Obj::kEmpty) &&
           carried != static_cast<uint8_t>(Obj::kUnseen) &&
           carried != static_cast<uint8_t>(Obj::kAgent);
}

}  // namespace rimlab::grid
