#include "viewer/window.h"

#include <stdexcept>

namespace rimlab::viewer {

Window::Window(int width, int height) {
  if (SDL_InitSubSystem(SDL_INIT_VIDEO) != 0) {
    throw std::runtime_error(std::string("no display (") + SDL_GetError() +
                             "); --headless renders without one");
  }
  window_ = SDL_CreateWindow("rimlab", SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, width,
                             height, SDL_WINDOW_RESIZABLE);
  if (window_ != nullptr) renderer_ = SDL_CreateRenderer(window_, -1, 0);
  if (renderer_ == nullptr) {
    const std::string error = SDL_GetError();
    if (window_ != nullptr) SDL_DestroyWindow(window_);
    SDL_QuitSubSystem(SDL_INIT_VIDEO);
    throw std::runtime_error("cannot open a window: " + error);
  }
}

Window::~Window() {
  if (texture_ != nullptr) SDL_DestroyTexture(texture_);
  SDL_DestroyRenderer(renderer_);
  SDL_DestroyWindow(window_);
  SDL_QuitSubSystem(SDL_INIT_VIDEO);
}

void Window::Size(int* width, int* height) const {
  SDL_GetWindowSize(window_, width, height);
}

void Window::Show(const Frame& frame) {
  if (texture_ == nullptr || tex_w_ != frame.width || tex_h_ != frame.height) {
    if (texture_ != nullptr) SDL_DestroyTexture(texture_);
    texture_ = SDL_CreateTexture(renderer_, SDL_PIXELFORMAT_RGB24, SDL_TEXTUREACCESS_STREAMING,
                                 frame.width, frame.height);
    if (texture_ == nullptr) {
      throw std::runtime_error(std::string("cannot create a texture: ") + SDL_GetError());
    }
    tex_w_ = frame.width;
    tex_h_ = frame.height;
  }
  SDL_UpdateTexture(texture_, nullptr, frame.rgb.data(), frame.width * 3);
  SDL_RenderClear(renderer_);
  SDL_RenderCopy(renderer_, texture_, nullptr, nullptr);
  SDL_RenderPresent(renderer_);
}

void Window::SetTitle(const std::string& title) {
  SDL_SetWindowTitle(window_, title.c_str());
}

}  // namespace rimlab::viewer
