#pragma once
/// Binary features of what a gridworld agent sees, read from its observation alone (the 7x7
/// MiniGrid view and the [get, colour, type] mission), for the study's analysis of what RIM units
/// respond to. The agent sits at row 6, column 3 facing up, so the cell ahead is row 5, column 3,
/// and its own cell shows what it carries (empty when nothing), as in MiniGrid.

#include <cstdint>
#include <string>
#include <vector>

namespace rimlab::grid {

/// In order: "target in view" (the mission's colour and type anywhere in view), "distractor in
/// view" (any other key, ball or box), "target ahead", "wall ahead", "carrying".
const std::vector<std::string>& ViewFeatureNames();

/// `image` is [7][7][3] (row, column, channel), `mission` is 3 tokens. Writes
/// ViewFeatureNames().size() values of 0 or 1 to `out`. A mission that names no colour and type
/// (not a pick-up mission) leaves the target features 0.
void ViewFeatures(const uint8_t* image, const int32_t* mission, uint8_t* out);

}  // namespace rimlab::grid
