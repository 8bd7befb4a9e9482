#pragma once
/// Drives a Source: in a window (event-driven: it redraws only when something changed and
/// otherwise sleeps in SDL_WaitEventTimeout), or headless into PNG files and an animated GIF.

#include <string>
#include <vector>

#include "viewer/source.h"

namespace rimlab::viewer {

struct PlayOptions {
  double fps = 4.0;  ///< steps per second when playing
  int width = 1280;  ///< window (or headless frame) size; the layout follows it
  int height = 720;
  std::string record_dir;       ///< window: every episode as PNGs and a GIF here
  std::string shots_dir = ".";  ///< window: where the screenshot key writes
  int frames = 0;               ///< headless: how many frames (moments) to render
  std::string out_dir;          ///< headless: frame-00000.png ... here
  bool gif = false;             ///< headless: also DIR/episode.gif
};

/// The keys the window loop handles itself, for --help and the overlay.
std::vector<std::string> CommonKeys();

/// Plays `source` in a window until q, Esc or closing it. Returns the exit code.
int RunWindow(Source* source, const PlayOptions& options);

/// Renders options.frames moments without a display: the first is the start, each next one a
/// step later (the next episode after an episode's end). Returns the exit code.
int RunHeadless(Source* source, const PlayOptions& options);

}  // namespace rimlab::viewer
