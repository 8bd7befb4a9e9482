// The SDL window shared by both modes, and the live mode: an env played under a random policy or
// the keyboard, drawn by the env's own renderer (the same frames recordings and tests use).
#include "viewer/app.h"

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <thread>

#include "common/rng.h"
#include "runners/config/config.h"
#include "runners/config/env_config.h"

namespace rimlab::viewer {

Window::Window(const Frame& first, int scale) : scale_(scale) {
  if (SDL_Init(SDL_INIT_VIDEO) != 0) {
    throw std::runtime_error(std::string("SDL_Init failed: ") + SDL_GetError());
  }
  window_ = SDL_CreateWindow("rimlab", SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED,
                             first.width * scale, first.height * scale, SDL_WINDOW_RESIZABLE);
  if (window_ != nullptr) renderer_ = SDL_CreateRenderer(window_, -1, 0);
  if (renderer_ == nullptr) {
    const std::string error = SDL_GetError();
    if (window_ != nullptr) SDL_DestroyWindow(window_);
    SDL_Quit();
    throw std::runtime_error("cannot open a window: " + error);
  }
}

Window::~Window() {
  if (texture_ != nullptr) SDL_DestroyTexture(texture_);
  SDL_DestroyRenderer(renderer_);
  SDL_DestroyWindow(window_);
  SDL_Quit();
}

void Window::Show(const Frame& frame) {
  if (texture_ == nullptr || tex_w_ != frame.width || tex_h_ != frame.height) {
    // A later frame of another size (the next recording's env) gets a window that fits it.
    if (texture_ != nullptr) {
      SDL_DestroyTexture(texture_);
      SDL_SetWindowSize(window_, frame.width * scale_, frame.height * scale_);
    }
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

namespace {

// Maps a key to a gridworld action id (MiniGrid numbering), or -1.
int KeyAction(SDL_Keycode key) {
  switch (key) {
    case SDLK_LEFT:
      return 0;
    case SDLK_RIGHT:
      return 1;
    case SDLK_UP:
      return 2;
    case SDLK_p:
      return 3;
    case SDLK_d:
      return 4;
    case SDLK_t:
      return 5;
    default:
      return -1;
  }
}

}  // namespace

int RunLive(const LiveArgs& args) {
  Config config = Config::Load(args.config);
  for (const auto& o : args.overrides) config.Override(o);
  const EnvConfig env_config = EnvConfigFrom(config);
  auto env = env_config.Make();
  const ActionSpec& action_spec = env->Spec().action;
  if (!action_spec.discrete()) throw std::invalid_argument("the viewer drives discrete actions");
  const uint64_t seed = args.seed >= 0 ? static_cast<uint64_t>(args.seed) : SeedFrom(config);
  env->Seed(seed);
  Observation obs(env->Spec().observation);
  TimeStep ts = env->Reset(obs.Ref());
  Rng rng(seed + 1);
  Frame frame;
  double episode_return = 0.0;
  int episodes = 0;

  auto step = [&](int32_t a) {
    if (ts.last()) {
      ts = env->Reset(obs.Ref());
      episode_return = 0.0;
      return;
    }
    Action action;
    action.index = a;
    ts = env->Step(action, obs.Ref());
    episode_return += ts.reward;
    if (ts.last()) {
      ++episodes;
      std::printf("episode %d: return %.3f, %s\n", episodes, episode_return,
                  ts.success ? "success" : (ts.truncated() ? "time limit" : "failed"));
    }
  };
  auto random_action = [&]() {
    return static_cast<int32_t>(rng.Below(static_cast<uint32_t>(action_spec.num_actions)));
  };

  if (!args.snapshot.empty()) {
    for (int i = 0; i < args.steps; ++i) step(random_action());
    env->Render(&frame);
    if (!frame.SavePpm(args.snapshot.c_str())) {
      throw std::runtime_error("cannot write " + args.snapshot);
    }
    return 0;
  }

  env->Render(&frame);
  Window window(frame, frame.width < 400 ? 3 : 1);
  bool paused = false;
  bool quit = false;
  const bool keys = args.policy == "keys";
  auto next = std::chrono::steady_clock::now();
  while (!quit) {
    SDL_Event e;
    while (SDL_PollEvent(&e)) {
      if (e.type == SDL_QUIT) quit = true;
      if (e.type != SDL_KEYDOWN) continue;
      const SDL_Keycode k = e.key.keysym.sym;
      if (k == SDLK_q || k == SDLK_ESCAPE) quit = true;
      if (k == SDLK_SPACE) paused = !paused;
      if (k == SDLK_r) {
        ts = env->Reset(obs.Ref());
        episode_return = 0.0;
      }
      if (keys && KeyAction(k) >= 0 && KeyAction(k) < action_spec.num_actions) step(KeyAction(k));
    }
    if (!keys && !paused && std::chrono::steady_clock::now() >= next) {
      step(random_action());
      next += std::chrono::microseconds(static_cast<int64_t>(1e6 / args.fps));
    }
    env->Render(&frame);
    window.Show(frame);
    const std::string description = env->Describe();
    window.SetTitle(description.substr(0, description.find('\n')) + (paused ? "  [paused]" : ""));
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return 0;
}

}  // namespace rimlab::viewer
