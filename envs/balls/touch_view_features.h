#pragma once
/// Binary features of what a balls_touch agent observes with `features: true`, read from the
/// observation alone (`context` [8] and `objects` [12, 8], envs/balls/touch.h), for the study's
/// analysis of what RIM units respond to, as grid/view_features.h does for the gridworlds.

#include <cstdint>
#include <string>
#include <vector>

namespace rimlab::balls {

/// In order: "target nearest" (the nearest ball wears the target's colour), "target close" (its
/// centre within 0.2 box sides of the agent's: 2 units, 0.7 between the surfaces), "distractor
/// close" (another ball that near), "moving fast" (the agent's speed above 1.5 units/s, half its
/// default cap), "wall close" (the agent's centre within 0.1 box sides of a wall).
const std::vector<std::string>& TouchViewFeatureNames();

/// Writes TouchViewFeatureNames().size() values of 0 or 1 to `out`.
void TouchViewFeatures(const float* context, const float* objects, uint8_t* out);

}  // namespace rimlab::balls
