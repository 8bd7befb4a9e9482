// Top-down rendering of a gridworld in MiniGrid's palette, with the agent's view highlighted.
#include <algorithm>

#include "envs/grid/grid_env.h"

namespace rimlab::grid {

namespace {

constexpr int kTile = 16;  // the top-down frame's tile; the agent's view takes any size

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
void DrawCell(const Cell& c, int x0, int y0, int tile, Frame* f) {
  const Rgb col = Palette(c.color);
  const float t = static_cast<float>(tile);
  const float fx = static_cast<float>(x0);
  const float fy = static_cast<float>(y0);
  switch (c.type) {
    case Obj::kWall:
      f->FillRect(x0, y0, x0 + tile, y0 + tile, col);
      break;
    case Obj::kFloor:
      f->FillRect(x0 + 1, y0 + 1, x0 + tile, y0 + tile, Scale(col, 0.5f));
      break;
    case Obj::kGoal:
      f->FillRect(x0 + 1, y0 + 1, x0 + tile, y0 + tile, Palette(Color::kGreen));
      break;
    case Obj::kLava:
      f->FillRect(x0 + 1, y0 + 1, x0 + tile, y0 + tile, {255, 128, 0});
      break;
    case Obj::kBall:
      f->FillCircle(fx + t * 0.5f, fy + t * 0.5f, t * 0.31f, col);
      break;
    case Obj::kKey:
      f->FillCircle(fx + t * 0.56f, fy + t * 0.28f, t * 0.19f, col);
      f->FillCircle(fx + t * 0.56f, fy + t * 0.28f, t * 0.064f, {0, 0, 0});
      f->FillRect(x0 + tile / 2, y0 + tile * 3 / 8, x0 + tile * 5 / 8, y0 + tile * 7 / 8, col);
      f->FillRect(x0 + tile * 3 / 8, y0 + tile * 5 / 8, x0 + tile / 2, y0 + tile * 11 / 16, col);
      f->FillRect(x0 + tile * 3 / 8, y0 + tile * 3 / 4, x0 + tile / 2, y0 + tile * 13 / 16, col);
      break;
    case Obj::kBox:
      f->FillRect(x0 + 2, y0 + 2, x0 + tile - 2, y0 + tile - 2, col);
      f->FillRect(x0 + 3, y0 + 3, x0 + tile - 3, y0 + tile - 3, {0, 0, 0});
      f->FillRect(x0 + 3, y0 + tile / 2 - 1, x0 + tile - 3, y0 + tile / 2 + 1, col);
      break;
    case Obj::kDoor:
      if (c.state == kDoorOpen) {
        f->FillRect(x0 + tile - 2, y0, x0 + tile, y0 + tile, col);
      } else {
        f->FillRect(x0, y0, x0 + tile, y0 + tile, col);
        f->FillRect(x0 + 1, y0 + 1, x0 + tile - 1, y0 + tile - 1,
                    c.state == kDoorLocked ? Scale(col, 0.45f) : Rgb{0, 0, 0});
        f->FillRect(x0 + tile * 3 / 4, y0 + tile / 2 - 1, x0 + tile * 7 / 8, y0 + tile / 2 + 1,
                    col);
      }
      break;
    default:
      break;
  }
}

// The agent: a red triangle in cell (x, y) pointing along direction `dir` (0 = +x, MiniGrid's).
void DrawAgent(int x, int y, int dir, int tile, Frame* frame) {
  const float cx = (static_cast<float>(x) + 0.5f) * static_cast<float>(tile);
  const float cy = (static_cast<float>(y) + 0.5f) * static_cast<float>(tile);
  const float fx = static_cast<float>(kDirX[static_cast<size_t>(dir)]);
  const float fy = static_cast<float>(kDirY[static_cast<size_t>(dir)]);
  const float r = static_cast<float>(tile) * 0.4f;
  frame->FillTriangle(cx + fx * r, cy + fy * r, cx - fx * r - fy * r * 0.8f,
                      cy - fy * r + fx * r * 0.8f, cx - fx * r + fy * r * 0.8f,
                      cy - fy * r - fx * r * 0.8f, {255, 0, 0});
}

void GridLines(int x0, int y0, int tile, Frame* frame) {
  frame->FillRect(x0, y0, x0 + tile, y0 + 1, {100, 100, 100});
  frame->FillRect(x0, y0, x0 + 1, y0 + tile, {100, 100, 100});
}

}  // namespace

bool GridEnv::RenderView(const Observation& obs, int tile, Frame* frame, int* rows,
                         int* cols) const {
  // The image field is image[r][c] = (object, colour, state), the agent at the bottom row's
  // centre facing up; unseen cells (object 0) stay dark, as MiniGrid draws them.
  tile = std::max(tile, 4);
  frame->Reset(kViewSize * tile, kViewSize * tile, {0, 0, 0});
  const uint8_t* image = obs.Field<uint8_t>(kImageField);
  for (int r = 0; r < kViewSize; ++r) {
    for (int c = 0; c < kViewSize; ++c) {
      const uint8_t* code = image + (r * kViewSize + c) * 3;
      const int x0 = c * tile;
      const int y0 = r * tile;
      GridLines(x0, y0, tile, frame);
      if (code[0] == static_cast<uint8_t>(Obj::kUnseen) || code[0] >= kNumObj ||
          code[1] >= kNumColors) {
        frame->FillRect(x0 + 1, y0 + 1, x0 + tile, y0 + tile, {20, 20, 24});
        continue;
      }
      DrawCell(Cell::Make(static_cast<Obj>(code[0]), static_cast<Color>(code[1]), code[2]), x0, y0,
               tile, frame);
    }
  }
  DrawAgent(kViewSize / 2, kViewSize - 1, 3, tile, frame);  // direction 3: up
  *rows = kViewSize;
  *cols = kViewSize;
  return true;
}

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
      GridLines(x0, y0, kTile, frame);
      DrawCell(grid_.at(x, y), x0, y0, kTile, frame);
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
  DrawAgent(agent_x_, agent_y_, agent_dir_, kTile, frame);
}

}  // namespace rimlab::grid
