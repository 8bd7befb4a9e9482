#pragma once
/// The viewer's image output: PNG stills (libpng) and animated GIFs (giflib). Files appear under
/// their final name only once complete: each is written beside it as `path + ".partial"` and
/// renamed over `path`, so a reader never sees half an image and a failed write leaves an older
/// file in place.

#include <memory>
#include <string>
#include <vector>

#include "envs/core/frame.h"

namespace rimlab::viewer {

/// Writes `frame` as an 8-bit RGB PNG through a temporary file renamed over `path`.
/// Throws std::runtime_error naming the path on failure (missing directory, unwritable, ...),
/// std::invalid_argument if the frame is empty or its buffer does not match its size.
void WritePng(const Frame& frame, const std::string& path);

/// Reads an 8-bit RGB or RGBA PNG (alpha dropped, not composited). Other PNG types (grey,
/// palette, 16-bit) are converted to 8-bit RGB by libpng. Throws std::runtime_error naming the
/// path (missing, not a PNG, truncated).
Frame ReadPng(const std::string& path);

/// An animated GIF written frame by frame; it loops forever. Frames with at most 256 colours are
/// stored exactly (each frame has its own palette), others are reduced to 256 colours by median
/// cut, without dithering.
class GifWriter {
 public:
  /// `delay_ms` per frame; GIF stores centiseconds, so it is rounded, to at least 2 cs (browsers
  /// play shorter delays at 10 cs). Throws std::invalid_argument for a size outside 1..65535 or
  /// a negative delay, std::runtime_error naming the path if the file cannot be created.
  GifWriter(const std::string& path, int width, int height, int delay_ms);
  /// Without Finish, closes and removes the partial file, leaving `path` as it was; never throws.
  ~GifWriter();
  GifWriter(GifWriter&&) noexcept;
  GifWriter& operator=(GifWriter&&) noexcept;
  GifWriter(const GifWriter&) = delete;
  GifWriter& operator=(const GifWriter&) = delete;

  /// Throws std::invalid_argument when the frame's size differs from the writer's, and
  /// std::runtime_error on a write failure (the partial file is then removed; the writer is
  /// closed) or after Finish.
  void Add(const Frame& frame);
  /// Closes the file (written as path + ".partial", renamed to path here). Returns frames
  /// written. Throws std::runtime_error on failure or if the writer is already closed.
  int Finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// Reads every frame of a GIF back as RGB Frames of the screen's size, each frame drawn over
/// the previous as a viewer shows it (for tests and checks). Throws std::runtime_error naming
/// the path.
std::vector<Frame> ReadGif(const std::string& path);

}  // namespace rimlab::viewer
