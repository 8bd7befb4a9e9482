#pragma once
/// Text for the viewer in a real font (SDL2_ttf with Debian's DejaVu fonts), drawn into Frames so
/// that headless output and the window show the same pixels.

#include <SDL_ttf.h>

#include <string>

#include "envs/core/frame.h"

namespace rimlab::viewer {

/// One TrueType face at one pixel size. Needs no display: SDL_ttf renders into memory.
class Font {
 public:
  /// Opens the face found by FontPath(bold) at `pixel_size`. Throws std::runtime_error naming the
  /// file and the package to install when it cannot.
  Font(int pixel_size, bool bold = false);
  ~Font();
  Font(const Font&) = delete;
  Font& operator=(const Font&) = delete;

  /// Draws UTF-8 `text` with its top-left at (x, y), blended over what is there and clipped to
  /// the frame. Returns the x just after the text.
  int Draw(Frame* frame, int x, int y, const std::string& text, Rgb color) const;
  /// Like Draw, but cuts the text with an ellipsis so that it ends before `max_x`.
  int DrawClipped(Frame* frame, int x, int y, const std::string& text, Rgb color, int max_x) const;
  int Width(const std::string& text) const;
  /// The line height in pixels.
  int height() const { return height_; }

 private:
  TTF_Font* font_ = nullptr;
  int height_ = 0;
};

/// The font file used: $RIMLAB_FONT (or $RIMLAB_FONT_BOLD) when set, else DejaVu Sans from
/// Debian's fonts-dejavu-core. Throws std::runtime_error when neither exists.
std::string FontPath(bool bold);

}  // namespace rimlab::viewer
