#pragma once
/// The colour table of one GIF frame (viewer/image_io.cpp): exact for frames of at most 256
/// colours, else reduced to 256 by median cut, without dithering. Free of giflib.

#include <cstdint>
#include <vector>

#include "envs/core/frame.h"

namespace rimlab::viewer {

struct GifPalette {
  /// RGB, 3 bytes an entry; a power of two of at least 2 entries, as GIF colour tables are.
  std::vector<uint8_t> colours;
  /// One entry index per pixel, row-major.
  std::vector<uint8_t> indices;
};

/// `frame` must be non-empty, with 3 bytes per pixel.
GifPalette BuildGifPalette(const Frame& frame);

}  // namespace rimlab::viewer
