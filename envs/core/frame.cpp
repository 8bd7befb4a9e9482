#include "envs/core/frame.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace rimlab {

void Frame::Reset(int w, int h, Rgb fill) {
  width = w;
  height = h;
  rgb.resize(static_cast<size_t>(w) * h * 3);
  for (size_t i = 0; i < rgb.size(); i += 3) {
    rgb[i] = fill.r;
    rgb[i + 1] = fill.g;
    rgb[i + 2] = fill.b;
  }
}

void Frame::Set(int x, int y, Rgb c) {
  if (x < 0 || y < 0 || x >= width || y >= height) return;
  uint8_t* p = Pixel(x, y);
  p[0] = c.r;
  p[1] = c.g;
  p[2] = c.b;
}

void Frame::FillRect(int x0, int y0, int x1, int y1, Rgb c) {
  x0 = std::max(x0, 0);
  y0 = std::max(y0, 0);
  x1 = std::min(x1, width);
  y1 = std::min(y1, height);
  for (int y = y0; y < y1; ++y) {
    for (int x = x0; x < x1; ++x) Set(x, y, c);
  }
}

void Frame::FillCircle(float cx, float cy, float radius, Rgb c) {
  const int x0 = static_cast<int>(std::floor(cx - radius));
  const int x1 = static_cast<int>(std::ceil(cx + radius));
  const int y0 = static_cast<int>(std::floor(cy - radius));
  const int y1 = static_cast<int>(std::ceil(cy + radius));
  const float r2 = radius * radius;
  for (int y = std::max(y0, 0); y <= std::min(y1, height - 1); ++y) {
    for (int x = std::max(x0, 0); x <= std::min(x1, width - 1); ++x) {
      // Sample at the pixel centre.
      const float dx = static_cast<float>(x) + 0.5f - cx;
      const float dy = static_cast<float>(y) + 0.5f - cy;
      if (dx * dx + dy * dy <= r2) Set(x, y, c);
    }
  }
}

void Frame::FillTriangle(float ax, float ay, float bx, float by, float cx, float cy, Rgb c) {
  const int x0 = static_cast<int>(std::floor(std::min({ax, bx, cx})));
  const int x1 = static_cast<int>(std::ceil(std::max({ax, bx, cx})));
  const int y0 = static_cast<int>(std::floor(std::min({ay, by, cy})));
  const int y1 = static_cast<int>(std::ceil(std::max({ay, by, cy})));
  auto edge = [](float px, float py, float qx, float qy, float x, float y) {
    return (qx - px) * (y - py) - (qy - py) * (x - px);
  };
  for (int y = std::max(y0, 0); y <= std::min(y1, height - 1); ++y) {
    for (int x = std::max(x0, 0); x <= std::min(x1, width - 1); ++x) {
      const float px = static_cast<float>(x) + 0.5f;
      const float py = static_cast<float>(y) + 0.5f;
      const float e0 = edge(ax, ay, bx, by, px, py);
      const float e1 = edge(bx, by, cx, cy, px, py);
      const float e2 = edge(cx, cy, ax, ay, px, py);
      const bool all_pos = e0 >= 0 && e1 >= 0 && e2 >= 0;
      const bool all_neg = e0 <= 0 && e1 <= 0 && e2 <= 0;
      if (all_pos || all_neg) Set(x, y, c);
    }
  }
}

bool Frame::SavePpm(const char* path) const {
  std::FILE* f = std::fopen(path, "wb");
  if (f == nullptr) return false;
  std::fprintf(f, "P6\n%d %d\n255\n", width, height);
  const size_t n = std::fwrite(rgb.data(), 1, rgb.size(), f);
  const bool ok = std::fclose(f) == 0 && n == rgb.size();
  return ok;
}

}  // namespace rimlab
