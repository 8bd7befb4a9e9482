#pragma once
/// The viewer's two modes, each a loop over SDL events: playing an env live (random policy or
/// keyboard) and replaying episode recordings. Both can instead render headless to a PPM.

#include <SDL.h>

#include <cstdint>
#include <string>
#include <vector>

#include "envs/core/frame.h"

namespace rimlab::viewer {

struct LiveArgs {
  std::string config;
  std::vector<std::string> overrides;
  std::string policy = "random";  ///< random | keys
  double fps = 8.0;
  int64_t seed = -1;  ///< -1: the config's seed
  std::string snapshot;
  int steps = 0;
};
int RunLive(const LiveArgs& args);

struct ReplayArgs {
  std::string path;  ///< a recording, or a directory of them played in name order
  double fps = 8.0;
  std::string snapshot;  ///< headless: the first recording after `steps` steps, panel included
  int steps = 0;
};
int RunReplay(const ReplayArgs& args);

/// An SDL window showing Frames, scaled to the window. Owns SDL's video subsystem for its life.
class Window {
 public:
  /// Opens a window of the frame's size times `scale`. Throws std::runtime_error.
  Window(const Frame& first, int scale);
  ~Window();
  Window(const Window&) = delete;
  Window& operator=(const Window&) = delete;

  /// Shows `frame`, resizing the window when the frame's size changed.
  void Show(const Frame& frame);
  void SetTitle(const std::string& title);

 private:
  SDL_Window* window_ = nullptr;
  SDL_Renderer* renderer_ = nullptr;
  SDL_Texture* texture_ = nullptr;
  int scale_ = 1;
  int tex_w_ = 0;
  int tex_h_ = 0;
};

}  // namespace rimlab::viewer
