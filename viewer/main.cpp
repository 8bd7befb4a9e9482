// rimlab_viewer: plays an environment live in an SDL2 window, under a random policy or the
// keyboard, drawn by the env's own renderer (the same frames recordings and tests use).
//
//   rimlab_viewer CONFIG [section.key=value ...] [--policy random|keys] [--fps F] [--seed S]
//                 [--snapshot FILE.ppm --steps N]
//
// Keys: arrows turn and move, p pick up, d drop, t toggle, space pause, r reset, q or Esc quit.
// --snapshot renders N steps without opening a window and writes the last frame (for tests and
// headless machines).
#include <SDL.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "envs/core/rng.h"
#include "runners/commands.h"
#include "runners/env_config.h"

namespace {

struct Args {
  std::string config;
  std::vector<std::string> overrides;
  std::string policy = "random";
  double fps = 8.0;
  int64_t seed = -1;
  std::string snapshot;
  int steps = 0;
};

void Usage() {
  std::printf(
      "usage: rimlab_viewer CONFIG [section.key=value ...] [--policy random|keys] [--fps F]\n"
      "                     [--seed S] [--snapshot FILE.ppm --steps N]\n"
      "keys: arrows turn/move, p pick up, d drop, t toggle, space pause, r reset, q quit\n");
}

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

int Run(const Args& args) {
  rimlab::Config config = rimlab::Config::Load(args.config);
  for (const auto& o : args.overrides) config.Override(o);
  const rimlab::EnvConfig env_config = rimlab::EnvConfigFrom(config);
  auto env = env_config.Make();
  const rimlab::ActionSpec& action_spec = env->Spec().action;
  if (!action_spec.discrete()) throw std::invalid_argument("the viewer drives discrete actions");
  const uint64_t seed =
      args.seed >= 0 ? static_cast<uint64_t>(args.seed) : rimlab::SeedFrom(config);
  env->Seed(seed);
  rimlab::Observation obs(env->Spec().observation);
  rimlab::TimeStep ts = env->Reset(obs.Ref());
  rimlab::Rng rng(seed + 1);
  rimlab::Frame frame;
  double episode_return = 0.0;
  int episodes = 0;

  auto step = [&](int32_t a) {
    if (ts.last()) {
      ts = env->Reset(obs.Ref());
      episode_return = 0.0;
      return;
    }
    rimlab::Action action;
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

  if (SDL_Init(SDL_INIT_VIDEO) != 0) {
    throw std::runtime_error(std::string("SDL_Init failed: ") + SDL_GetError());
  }
  env->Render(&frame);
  const int scale = frame.width < 400 ? 3 : 1;
  SDL_Window* window =
      SDL_CreateWindow("rimlab", SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED,
                       frame.width * scale, frame.height * scale, SDL_WINDOW_RESIZABLE);
  if (window == nullptr) {
    SDL_Quit();
    throw std::runtime_error(std::string("cannot open a window: ") + SDL_GetError());
  }
  SDL_Renderer* renderer = SDL_CreateRenderer(window, -1, 0);
  SDL_Texture* texture = nullptr;
  int tex_w = 0;
  int tex_h = 0;
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
    if (texture == nullptr || tex_w != frame.width || tex_h != frame.height) {
      if (texture != nullptr) SDL_DestroyTexture(texture);
      texture = SDL_CreateTexture(renderer, SDL_PIXELFORMAT_RGB24, SDL_TEXTUREACCESS_STREAMING,
                                  frame.width, frame.height);
      tex_w = frame.width;
      tex_h = frame.height;
    }
    SDL_UpdateTexture(texture, nullptr, frame.rgb.data(), frame.width * 3);
    SDL_RenderClear(renderer);
    SDL_RenderCopy(renderer, texture, nullptr, nullptr);
    SDL_RenderPresent(renderer);
    const std::string first_line = env->Describe().substr(0, env->Describe().find('\n'));
    SDL_SetWindowTitle(window, (first_line + (paused ? "  [paused]" : "")).c_str());
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (texture != nullptr) SDL_DestroyTexture(texture);
  SDL_DestroyRenderer(renderer);
  SDL_DestroyWindow(window);
  SDL_Quit();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char* name) -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "rimlab_viewer: error: %s needs a value\n", name);
        std::exit(2);
      }
      return argv[++i];
    };
    try {
      if (a == "-h" || a == "--help") {
        Usage();
        return 0;
      } else if (a == "--policy") {
        args.policy = value("--policy");
        if (args.policy != "random" && args.policy != "keys") {
          std::fprintf(stderr, "rimlab_viewer: error: --policy expects random or keys\n");
          return 2;
        }
      } else if (a == "--fps") {
        args.fps = std::stod(value("--fps"));
      } else if (a == "--seed") {
        args.seed = std::stoll(value("--seed"));
      } else if (a == "--snapshot") {
        args.snapshot = value("--snapshot");
      } else if (a == "--steps") {
        args.steps = std::stoi(value("--steps"));
      } else if (a.find('=') != std::string::npos) {
        args.overrides.push_back(a);
      } else if (args.config.empty() && a[0] != '-') {
        args.config = a;
      } else {
        std::fprintf(stderr, "rimlab_viewer: error: unexpected argument '%s' (see --help)\n",
                     a.c_str());
        return 2;
      }
    } catch (const std::exception&) {
      std::fprintf(stderr, "rimlab_viewer: error: %s expects a number\n", a.c_str());
      return 2;
    }
  }
  if (args.config.empty() || !(args.fps > 0) || args.steps < 0) {
    Usage();
    return 2;
  }
  return rimlab::RunCommand([&] { return Run(args); });
}
