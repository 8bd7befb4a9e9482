#pragma once
// Pictures of a BallWorld: the paper's binary frames (a pixel is on when its centre lies inside
// a ball) and colour frames for the RL tasks, with an optional curtain.

#include <cstdint>
#include <vector>

#include "envs/balls/ball_world.h"
#include "envs/core/frame.h"

namespace rimlab::balls {

/// An opaque vertical band [x0, x1) in world units (balls behind it are hidden; it is drawn on,
/// like a ball). Disabled when x1 <= x0.
struct Curtain {
  float x0 = 0, x1 = 0;
  bool enabled() const { return x1 > x0; }
};

/// A curtain of `width` world units at a position drawn from `seed`, inside the box.
Curtain RandomCurtain(uint64_t seed, float box_size, float width);

/// size x size pixels, row-major, top row first: 1 inside a ball or the curtain, else 0.
void RenderBinary(const BallWorld& world, int size, const Curtain& curtain,
                  std::vector<uint8_t>* pixels);

/// size x size labels, like RenderBinary but saying what covers each pixel: 0 for the
/// background, i + 1 for ball i (later balls over earlier ones), and num_balls + 1 for the curtain,
/// which covers everything behind it. RenderBinary is exactly `label > 0`.
void RenderGroups(const BallWorld& world, int size, const Curtain& curtain,
                  std::vector<uint8_t>* labels);

/// size x size RGB: ball i in colours[i % colours.size()] over `background`, the curtain in
/// `curtain_colour`; later balls are drawn over earlier ones.
void RenderColour(const BallWorld& world, int size, const std::vector<Rgb>& colours, Rgb background,
                  const Curtain& curtain, Rgb curtain_colour, Frame* frame);

}  // namespace rimlab::balls
