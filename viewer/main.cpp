// rimlab_viewer: watch a trained policy play live, replay recorded episodes, or play an env by
// hand; with a panel showing what the policy does (its next action and distribution, value, the
// RIM units active and their attention, or an LSTM's hidden state), in a window or headless.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "runners/cli/commands.h"
#include "viewer/play.h"
#include "viewer/source.h"

namespace {

void Usage() {
  std::printf(
      "rimlab_viewer: watch a policy play, replay recorded episodes, or play an env by hand.\n"
      "\n"
      "usage: rimlab_viewer RUN_DIR|CHECKPOINT.pt [--split S] [--seed N] [--greedy] [OPTIONS]\n"
      "         a trained policy plays live in its env (sampling; --greedy: the likeliest action)\n"
      "       rimlab_viewer CONFIG.yaml [section.key=value ...] [--policy random|keys]\n"
      "                     [--split S] [--seed N] [OPTIONS]\n"
      "         the config's env under a random policy or the keyboard\n"
      "       rimlab_viewer --replay FILE.json|DIR [OPTIONS]\n"
      "         episodes a trainer recorded (runs/NAME/episodes/), re-simulated\n"
      "\n"
      "options:\n"
      "  --fps F            steps per second (default 4)\n"
      "  --size WxH         window or image size (default 1280x720; the layout follows it)\n"
      "  --record DIR       also save every episode shown as DIR/episode-N.gif and its PNGs\n"
      "  --shots DIR        where the screenshot key writes PNGs (default .)\n"
      "  --headless         no window: render --frames N moments as PNGs into --out DIR\n"
      "  --frames N         (headless) how many: the start, then one per step\n"
      "  --out DIR          (headless) where frame-00000.png ... go\n"
      "  --gif              (headless) also DIR/episode.gif\n"
      "  -h, --help         this text\n"
      "\n"
      "keys: space pause/play, -> one step (paused), <- one step back (replays), + / - speed,\n"
      "      r restart the episode, n next seed (live) or recording (replay), p previous\n"
      "      recording, s next split, g sampling/greedy, c screenshot, h or ? the key overlay,\n"
      "      q or Esc quit. Keyboard play: arrows turn and move, p pick up, d drop, t toggle.\n"
      "\n"
      "Exit status 2 on bad input (a missing, corrupt or mismatched checkpoint or recording).\n");
}

[[noreturn]] void Fail(const std::string& message) {
  std::fprintf(stderr, "rimlab_viewer: error: %s (see --help)\n", message.c_str());
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  rimlab::viewer::LiveOptions live;
  rimlab::viewer::PlayOptions play;
  std::string replay;
  std::string target;
  bool headless = false;
  bool live_only = false;  // an option that means nothing to a replay
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Fail(a + " needs a value");
      return argv[++i];
    };
    auto number = [&](const std::string& v) {
      char* end = nullptr;
      const double x = std::strtod(v.c_str(), &end);
      if (v.empty() || *end != '\0') Fail(a + " expects a number, got '" + v + "'");
      return x;
    };
    if (a == "-h" || a == "--help") {
      Usage();
      return 0;
    } else if (a == "--replay") {
      replay = value();
    } else if (a == "--policy") {
      live.policy = value();
      live_only = true;
      if (live.policy != "random" && live.policy != "keys") Fail("--policy expects random or keys");
    } else if (a == "--split") {
      live.split = value();
      live_only = true;
    } else if (a == "--seed") {
      const double s = number(value());
      if (s < 0 || s != static_cast<double>(static_cast<int64_t>(s))) {
        Fail("--seed expects a whole number >= 0");
      }
      live.seed = static_cast<int64_t>(s);
      live_only = true;
    } else if (a == "--greedy") {
      live.greedy = true;
      live_only = true;
    } else if (a == "--fps") {
      play.fps = number(value());
      if (!(play.fps >= 0.25 && play.fps <= 60)) Fail("--fps expects a number in [0.25, 60]");
    } else if (a == "--size") {
      const std::string v = value();
      int w = 0;
      int h = 0;
      char tail = 0;
      if (std::sscanf(v.c_str(), "%dx%d%c", &w, &h, &tail) != 2 || w < 200 || h < 200 || w > 8192 ||
          h > 8192) {
        Fail("--size expects WIDTHxHEIGHT, each 200..8192, got '" + v + "'");
      }
      play.width = w;
      play.height = h;
    } else if (a == "--record") {
      play.record_dir = value();
    } else if (a == "--shots") {
      play.shots_dir = value();
    } else if (a == "--headless") {
      headless = true;
    } else if (a == "--frames") {
      const double n = number(value());
      if (n < 1 || n > 1e6) Fail("--frames expects a number in [1, 1000000]");
      play.frames = static_cast<int>(n);
    } else if (a == "--out") {
      play.out_dir = value();
    } else if (a == "--gif") {
      play.gif = true;
    } else if (a.find('=') != std::string::npos && a[0] != '-') {
      live.overrides.push_back(a);
      live_only = true;
    } else if (target.empty() && a[0] != '-') {
      target = a;
    } else {
      Fail("unexpected argument '" + a + "'");
    }
  }
  if (headless && (play.frames <= 0 || play.out_dir.empty())) {
    Fail("--headless needs --frames N and --out DIR");
  }
  if (!headless && (play.frames > 0 || !play.out_dir.empty() || play.gif)) {
    Fail("--frames, --out and --gif go with --headless");
  }
  if (headless && !play.record_dir.empty()) Fail("--record is for the window; headless uses --out");
  if (!replay.empty() && (!target.empty() || live_only)) {
    Fail(
        "--replay takes no config, run, overrides, --policy, --split, --seed or --greedy "
        "(a recording names its env and seed)");
  }
  if (replay.empty() && target.empty()) {
    Usage();
    return 2;
  }
  return rimlab::RunCommand([&] {
    std::unique_ptr<rimlab::viewer::Source> source;
    if (!replay.empty()) {
      source = rimlab::viewer::MakeReplaySource(replay);
    } else {
      live.target = target;
      source = rimlab::viewer::MakeLiveSource(live);
    }
    return headless ? rimlab::viewer::RunHeadless(source.get(), play)
                    : rimlab::viewer::RunWindow(source.get(), play);
  });
}
