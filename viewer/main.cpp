// rimlab_viewer: plays an environment live in an SDL2 window, or replays episode recordings with
// the RIM units each step used.
//
//   rimlab_viewer CONFIG [section.key=value ...] [--policy random|keys] [--fps F] [--seed S]
//                 [--snapshot FILE.ppm --steps N]
//   rimlab_viewer --replay FILE.json|DIR [--fps F] [--snapshot FILE.ppm --steps N]
//
// Live keys: arrows turn and move, p pick up, d drop, t toggle, space pause, r reset, q quit.
// Replay keys: space pause, left/right step while paused, n/p next/previous episode, r restart,
// q quit. --snapshot renders N steps without opening a window and writes the last frame (for
// tests and headless machines); for replays it includes the panel.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "runners/cli/commands.h"
#include "viewer/app.h"

namespace {

void Usage() {
  std::printf(
      "usage: rimlab_viewer CONFIG [section.key=value ...] [--policy random|keys] [--fps F]\n"
      "                     [--seed S] [--snapshot FILE.ppm --steps N]\n"
      "       rimlab_viewer --replay FILE.json|DIR [--fps F] [--snapshot FILE.ppm --steps N]\n"
      "live keys:   arrows turn/move, p pick up, d drop, t toggle, space pause, r reset, q quit\n"
      "replay keys: space pause, left/right step while paused, n/p next/previous episode,\n"
      "             r restart, q quit (a directory plays every *.json in it in name order)\n");
}

}  // namespace

int main(int argc, char** argv) {
  rimlab::viewer::LiveArgs live;
  std::string replay;
  bool live_only = false;  // an option that means nothing to a replay was given
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
      } else if (a == "--replay") {
        replay = value("--replay");
      } else if (a == "--policy") {
        live.policy = value("--policy");
        live_only = true;
        if (live.policy != "random" && live.policy != "keys") {
          std::fprintf(stderr, "rimlab_viewer: error: --policy expects random or keys\n");
          return 2;
        }
      } else if (a == "--fps") {
        live.fps = std::stod(value("--fps"));
      } else if (a == "--seed") {
        live.seed = std::stoll(value("--seed"));
        live_only = true;
      } else if (a == "--snapshot") {
        live.snapshot = value("--snapshot");
      } else if (a == "--steps") {
        live.steps = std::stoi(value("--steps"));
      } else if (a.find('=') != std::string::npos) {
        live.overrides.push_back(a);
        live_only = true;
      } else if (live.config.empty() && a[0] != '-') {
        live.config = a;
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
  if (!(live.fps > 0) || live.steps < 0) {
    Usage();
    return 2;
  }
  if (!replay.empty()) {
    if (!live.config.empty() || live_only) {
      std::fprintf(stderr,
                   "rimlab_viewer: error: --replay takes no config, overrides, --policy or --seed "
                   "(a recording names its env and seed)\n");
      return 2;
    }
    const rimlab::viewer::ReplayArgs args{replay, live.fps, live.snapshot, live.steps};
    return rimlab::RunCommand([&] { return rimlab::viewer::RunReplay(args); });
  }
  if (live.config.empty()) {
    Usage();
    return 2;
  }
  return rimlab::RunCommand([&] { return rimlab::viewer::RunLive(live); });
}
