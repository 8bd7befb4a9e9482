#include "envs/balls/render.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "common/rng.h"

namespace rimlab::balls {

namespace {

/// Calls on(px, py) for each pixel whose centre lies inside ball b, only over its bounding box.
template <typename On>
void ForEachPixelIn(const Ball& b, int size, float box_size, On on) {
  const float scale = static_cast<float>(size) / box_size;  // pixels per world unit
  const float cx = b.x * scale, cy = (box_size - b.y) * scale, r = b.radius * scale;
  const int x0 = std::max(0, static_cast<int>(std::floor(cx - r)));
  const int x1 = std::min(size - 1, static_cast<int>(std::ceil(cx + r)));
  const int y0 = std::max(0, static_cast<int>(std::floor(cy - r)));
  const int y1 = std::min(size - 1, static_cast<int>(std::ceil(cy + r)));
  for (int py = y0; py <= y1; ++py) {
    for (int px = x0; px <= x1; ++px) {
      const float dx = static_cast<float>(px) + 0.5f - cx, dy = static_cast<float>(py) + 0.5f - cy;
      if (dx * dx + dy * dy <= r * r) on(px, py);
    }
  }
}

/// Whether pixel column px lies behind the curtain (its centre inside [x0, x1)).
bool BehindCurtain(const Curtain& c, int px, int size, float box_size) {
  if (!c.enabled()) return false;
  const float x = (static_cast<float>(px) + 0.5f) * box_size / static_cast<float>(size);
  return x >= c.x0 && x < c.x1;
}

void CheckSize(int size) {
  if (size < 1) throw std::invalid_argument("balls: the frame size must be at least 1 pixel");
}

}  // namespace

Curtain RandomCurtain(uint64_t seed, float box_size, float width) {
  if (!(width > 0.0f && width < box_size)) {
    throw std::invalid_argument("balls: the curtain's width must be in (0, box_size)");
  }
  Rng rng(seed);
  const auto x0 = static_cast<float>(rng.Uniform(0.0, static_cast<double>(box_size - width)));
  return {x0, x0 + width};
}

void RenderBinary(const BallWorld& world, int size, const Curtain& curtain,
                  std::vector<uint8_t>* pixels) {
  CheckSize(size);
  const float s = world.options().box_size;
  pixels->assign(static_cast<size_t>(size) * static_cast<size_t>(size), 0);
  for (const Ball& b : world.Balls()) {
    ForEachPixelIn(b, size, s, [&](int px, int py) {
      (*pixels)[static_cast<size_t>(py) * static_cast<size_t>(size) + static_cast<size_t>(px)] = 1;
    });
  }
  if (curtain.enabled()) {
    for (int px = 0; px < size; ++px) {
      if (!BehindCurtain(curtain, px, size, s)) continue;
      for (int py = 0; py < size; ++py) {
        (*pixels)[static_cast<size_t>(py) * static_cast<size_t>(size) + static_cast<size_t>(px)] =
            1;
      }
    }
  }
}

void RenderGroups(const BallWorld& world, int size, const Curtain& curtain,
                  std::vector<uint8_t>* labels) {
  CheckSize(size);
  if (world.num_balls() > 254) throw std::invalid_argument("balls: at most 254 balls have labels");
  const float s = world.options().box_size;
  labels->assign(static_cast<size_t>(size) * static_cast<size_t>(size), 0);
  const auto balls = world.Balls();
  for (size_t i = 0; i < balls.size(); ++i) {
    const auto label = static_cast<uint8_t>(i + 1);
    ForEachPixelIn(balls[i], size, s, [&](int px, int py) {
      (*labels)[static_cast<size_t>(py) * static_cast<size_t>(size) + static_cast<size_t>(px)] =
          label;
    });
  }
  if (curtain.enabled()) {
    const auto label = static_cast<uint8_t>(balls.size() + 1);
    for (int px = 0; px < size; ++px) {
      if (!BehindCurtain(curtain, px, size, s)) continue;
      for (int py = 0; py < size; ++py) {
        (*labels)[static_cast<size_t>(py) * static_cast<size_t>(size) + static_cast<size_t>(px)] =
            label;
      }
    }
  }
}

void RenderColour(const BallWorld& world, int size, const std::vector<Rgb>& colours, Rgb background,
                  const Curtain& curtain, Rgb curtain_colour, Frame* frame) {
  CheckSize(size);
  if (colours.empty()) throw std::invalid_argument("balls: RenderColour needs a colour");
  const float s = world.options().box_size;
  frame->Reset(size, size, background);
  const auto balls = world.Balls();
  for (size_t i = 0; i < balls.size(); ++i) {
    const Rgb c = colours[i % colours.size()];
    ForEachPixelIn(balls[i], size, s, [&](int px, int py) { frame->Set(px, py, c); });
  }
  if (curtain.enabled()) {
    for (int px = 0; px < size; ++px) {
      if (!BehindCurtain(curtain, px, size, s)) continue;
      for (int py = 0; py < size; ++py) frame->Set(px, py, curtain_colour);
    }
  }
}

}  // namespace rimlab::balls
