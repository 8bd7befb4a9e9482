#pragma once
/// The viewer's SDL window: shows composed Frames pixel for pixel and reports its size, so the
/// layout follows the window when it is resized.

#include <SDL.h>

#include <string>

#include "envs/core/frame.h"

namespace rimlab::viewer {

class Window {
 public:
  /// Opens a resizable window of width x height. Owns SDL's video subsystem for its life.
  /// Throws std::runtime_error when there is no display.
  Window(int width, int height);
  ~Window();
  Window(const Window&) = delete;
  Window& operator=(const Window&) = delete;

  void Show(const Frame& frame);
  void SetTitle(const std::string& title);
  /// The drawable size now.
  void Size(int* width, int* height) const;

 private:
  SDL_Window* window_ = nullptr;
  SDL_Renderer* renderer_ = nullptr;
  SDL_Texture* texture_ = nullptr;
  int tex_w_ = 0;
  int tex_h_ = 0;
};

}  // namespace rimlab::viewer
