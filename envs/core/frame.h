#pragma once
/// A plain RGB image that environments draw into; the viewer, recordings and tests share it.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace rimlab {

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
};

/// Row-major, 3 bytes per pixel, top row first.
struct Frame {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgb;

  /// Resizes (reusing capacity) and clears to `fill`.
  void Reset(int w, int h, Rgb fill = {});
  uint8_t* Pixel(int x, int y) { return &rgb[(static_cast<size_t>(y) * width + x) * 3]; }
  const uint8_t* Pixel(int x, int y) const {
    return &rgb[(static_cast<size_t>(y) * width + x) * 3];
  }
  void Set(int x, int y, Rgb c);

  // Drawing primitives, clipped to the frame; coordinates in pixels.
  void FillRect(int x0, int y0, int x1, int y1, Rgb c);  ///< [x0, x1) x [y0, y1)
  void FillCircle(float cx, float cy, float radius, Rgb c);
  void FillTriangle(float ax, float ay, float bx, float by, float cx, float cy, Rgb c);

  /// Writes a binary PPM (P6); returns false on I/O failure.
  bool SavePpm(const char* path) const;
};

}  // namespace rimlab
