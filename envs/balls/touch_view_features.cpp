#include "envs/balls/touch_view_features.h"

#include "envs/balls/touch.h"

namespace rimlab::balls {

namespace {

constexpr float kClose = 0.2f;        // box sides between centres
constexpr float kFast = 0.5f;         // in the features' velocity unit, 3 units/s
constexpr float kWall = 0.5f - 0.1f;  // |centred position| beyond this is near a wall

bool IsTarget(const float* context, const float* row) {
  return row[5] == context[4] && row[6] == context[5] && row[7] == context[6];
}

bool Close(const float* row) {
  return row[1] * row[1] + row[2] * row[2] < kClose * kClose;
}

}  // namespace

const std::vector<std::string>& TouchViewFeatureNames() {
  static const std::vector<std::string> names = {"target nearest", "target close",
                                                 "distractor close", "moving fast", "wall close"};
  return names;
}

void TouchViewFeatures(const float* context, const float* objects, uint8_t* out) {
  for (size_t i = 0; i < TouchViewFeatureNames().size(); ++i) out[i] = 0;
  for (int s = 0; s < kTouchObjectSlots; ++s) {
    const float* row = objects + s * kTouchObjectSize;
    if (row[0] != 1.0f) continue;
    const bool target = IsTarget(context, row);
    if (s == 0 && target) out[0] = 1;
    if (Close(row)) (target ? out[1] : out[2]) = 1;
  }
  out[3] = context[2] * context[2] + context[3] * context[3] > kFast * kFast ? 1 : 0;
  out[4] = context[0] > kWall || context[0] < -kWall || context[1] > kWall || context[1] < -kWall
               ? 1
               : 0;
}

}  // namespace rimlab::balls
