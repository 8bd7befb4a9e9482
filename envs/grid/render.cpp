// Top-down rendering of a gridworld in MiniGrid's palette, with the agent's view highlighted.
#include <algorithm>

#include "envs/grid/grid_env.h"

namespace rimlab::grid {

namespace {

constexpr int kTile = 16;

Rgb Palette(Color c) {
  switch (c) {
    case Color::kRed:
      return {255, 0, 0};
    case Color::kGreen:
      return {0, 255, 0};
    case Color::kBlue:
      return {0, 0, 255};
    case Color::kPurple:
      return {112, 39, 195};
    case Color::kYellow:
      return {255, 255, 0};
    case Color::kGrey:
      return {100, 100, 100};
  }
  return {};
}

Rgb Scale(Rgb c, float s) {
  auto f = [s](uint8_t v) { return static_cast<uint8_t>(std::min(255.0f, v * s)); };
  return {f(c.r), f(c.g), f(c.b)};
}

// Draws one object into the tile whose top-left pixel is (x0, y0).
void DrawCell(const Cell& c, int x0, int y0, Frame* f) {
  const Rgb col = Palette(c.color);
  const float t = static_cast<float>(kTile);
  const float fx = static_cast<float>(x0);
  const float fy = static_cast<float>(y0);
  switch (c.type) {
    case Obj::kWall:
      f->FillRect(x0, y0, x0 + kTile, y0 + kTile, col);
      break;
    case Obj::kFloor:
      f->FillRect(x0 + 1, y0 + 1, x0 + kTile, y0 + kTile, Scale(col, 0.5f));
      break;
    case Obj::kGoal:
      f->FillRect(x0 + 1, y0 + 1, x0 + kTile, y0 + kTile, Palette(Color::kGreen));
      break;
    case Obj::kLava:
      f->FillRect(x0 + 1, y0 + 1, x0 + kTile, y0 + kTile, {255, 128, 0});
      break;
    case Obj::kBall:
      f->FillCircle(fx + t * 0.5f, fy + t * 0.5f, t * 0.31f, col);
      break;
    case Obj::kKey:
      f->FillCircle(fx + t * 0.56f, fy + t * 0.28f, t * 0.19f, col);
      f->FillCircle(fx + t * 0.56f, fy + t * 0.28f, t * 0.064f, {0, 0, 0});
      f->FillRect(x0 + kTile / 2, y0 + kTile * 3 / 8, x0 + kTile * 5 / 8, y0 + kTile * 7 / 8, col);
      f->FillRect(x0 + kTile * 3 / 8, y0 + kTile * 5 / 8, x0 + kTile / 2, y0 + kTile * 11 / 16,
                  col);
      f->FillRect(x0 + kTile * 3 / 8, y0 + kTile * 3 / 4, x0 + kTile / 2, y0 + kTile * 13 / 16,
                  col);
      break;
    case Obj::kBox:
      f->FillRect(x0 + 2, y0 + 2, x0 + kTile - 2, y0 + kTile - 2, col);
      f->FillRect(x0 + 3, y0 + 3, x0 + kTile - 3, y0 + kTile - 3, {0, 0, 0});
      f->FillRect(x0 + 3, y0 + kTile / 2 - 1, x0 + kTile - 3, y0 + kTile / 2 + 1, col);
      break;
    case Obj::kDoor:
      if (c.state == kDoorOpen) {
        f->FillRect(x0 + kTile - 2, y0, x0 + kTile, y0 + kTile, col);
      } else {
        f->FillRect(x0, y0, x0 + kTile, y0 + kTile, col);
        f->FillRect(x0 + 1, y0 + 1, x0 + kTile - 1, y0 + kTile - 1,
                    c.state == kDoorLocked ? Scale(col, 0.45f) : Rgb{0, 0, 0});
        f->FillRect(x0 + kTile * 3 / 4, y0 + kTile / 2 - 1, x0 + kTile * 7 / 8, y0 + kTile / 2 + 1,
                    col);
      }
      break;
    default:
      break;
  }
}

}  // namespace

void GridEnv::Render(Frame* frame) const {
  const int w = grid_.width();
  const int h = grid_.height();
  frame->Reset(w * kTile, h * kTile, {0, 0, 0});
  const std::vector<bool> visible = VisibleCells();
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const int x0 = x * kTile;
      const int y0 = y * kTile;
      // Grid lines, then the cell, then the view highlight MiniGrid draws.
      frame->FillRect(x0, y0, x0 + kTile, y0 + 1, {100, 100, 100});
      frame->FillRect(x0, y0, x0 + 1, y0 + kTile, {100, 100, 100});
      DrawCell(grid_.at(x, y), x0, y0, frame);
      if (visible[static_cast<size_t>(y * w + x)]) {
        for (int py = y0; py < y0 + kTile; ++py) {
          for (int px = x0; px < x0 + kTile; ++px) {
            uint8_t* p = frame->Pixel(px, py);
            for (int k = 0; k < 3; ++k) p[k] = static_cast<uint8_t>(p[k] + (255 - p[k]) * 3 / 10);
          }
        }
      }
    }
  }
  // The agent: a red triangle pointing where it faces.
  const float cx = (static_cast<float>(agent_x_) + 0.5f) * kTile;
  const float cy = (static_cast<float>(agent_y_) + 0.5f) * kTile;
  const float fx = static_cast<float>(kDirX[static_cast<size_t>(agent_dir_)]);
  const float fy = static_cast<float>(kDirY[static_cast<size_t>(agent_dir_)]);
  const float r = kTile * 0.4f;
  frame->FillTriangle(cx + fx * r, cy + fy * r, cx - fx * r - fy * r * 0.8f,
                      cy - fy * r + fx * r * 0.8f, cx - fx * r + fy * r * 0.8f,
                      cy - fy * r - fx * r * 0.8f, {255, 0, 0});
}

}  // namespace rimlab::grid
