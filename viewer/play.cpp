#include "viewer/play.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>

#include "viewer/image_io.h"
#include "viewer/panel.h"
#include "viewer/window.h"

namespace rimlab::viewer {

namespace fs = std::filesystem;

namespace {

std::string Numbered(const std::string& dir, const std::string& stem, int n, const char* ext) {
  char name[64];
  std::snprintf(name, sizeof(name), "%s-%05d%s", stem.c_str(), n, ext);
  return (fs::path(dir) / name).string();
}

// Screenshots never overwrite: the first free number.
std::string FreeShotPath(const std::string& dir) {
  for (int n = 1;; ++n) {
    const std::string p = Numbered(dir, "rimlab-shot", n, ".png");
    if (!fs::exists(p)) return p;
  }
}

void MakeDir(const std::string& dir, const char* option) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir)) {
    throw std::invalid_argument(std::string(option) + " " + dir + ": cannot create the directory");
  }
}

// --record: the frames of each episode as PNGs in DIR/episode-NNNNN/ and one GIF beside them,
// composed at the size the viewer started with, whatever the window becomes.
class EpisodeRecorder {
 public:
  EpisodeRecorder(std::string dir, const PlayOptions& o)
      : dir_(std::move(dir)),
        width_(o.width),
        height_(o.height),
        delay_ms_(static_cast<int>(1000.0 / o.fps)) {
    MakeDir(dir_, "--record");
  }
  ~EpisodeRecorder() { Close(); }

  void Add(const Composer& composer, const Scene& scene, int episode) {
    if (episode != episode_) {
      Close();
      episode_ = episode;
      frame_ = 0;
      const std::string stem = Numbered(dir_, "episode", episode, "");
      MakeDir(stem, "--record");
      gif_ = std::make_unique<GifWriter>(stem + ".gif", width_, height_, delay_ms_);
    }
    composer.Compose(scene, width_, height_, &image_);
    WritePng(image_, Numbered(Numbered(dir_, "episode", episode_, ""), "frame", frame_++, ".png"));
    gif_->Add(image_);
  }

 private:
  void Close() {
    if (gif_) {
      const int n = gif_->Finish();
      std::printf("recorded episode %d: %d frames in %s\n", episode_, n,
                  Numbered(dir_, "episode", episode_, ".gif").c_str());
      gif_.reset();
    }
  }

  std::string dir_;
  int width_, height_, delay_ms_;
  int episode_ = 0;
  int frame_ = 0;
  std::unique_ptr<GifWriter> gif_;
  Frame image_;
};

}  // namespace

std::vector<std::string> CommonKeys() {
  return {"space: pause / play",    "→ (paused): one step forward",
          "+ / -: faster / slower", "c: screenshot (PNG)",
          "h or ?: this help",      "q or Esc: quit"};
}

int RunWindow(Source* source, const PlayOptions& o) {
  const Composer composer;
  Scene scene;
  scene.fps = o.fps;
  scene.keys = source->Keys();
  for (const auto& k : CommonKeys()) scene.keys.push_back(k);
  std::unique_ptr<EpisodeRecorder> recorder;
  if (!o.record_dir.empty()) recorder = std::make_unique<EpisodeRecorder>(o.record_dir, o);

  Window window(o.width, o.height);
  using Clock = std::chrono::steady_clock;
  auto period = [&] { return std::chrono::microseconds(static_cast<int64_t>(1e6 / scene.fps)); };
  const auto end_hold = std::chrono::milliseconds(1200);  // time to read an episode's last frame
  auto next = Clock::now() + period();
  bool dirty = true;  // something the window shows changed
  bool moved = true;  // the episode moved: a recording gets a frame
  bool quit = false;
  Frame image;
  auto message_until = Clock::time_point{};
  while (!quit) {
    if (dirty) {
      source->Fill(&scene);
      if (recorder && moved) recorder->Add(composer, scene, source->episode());
      int w = 0;
      int h = 0;
      window.Size(&w, &h);
      composer.Compose(scene, w, h, &image);
      window.Show(image);
      window.SetTitle("rimlab · " + scene.title + (scene.paused ? " · paused" : ""));
      dirty = moved = false;
    }
    // Sleep until the next step, an event, or the message's end: nothing is drawn meanwhile.
    const bool playing = !scene.paused && source->Autoplay();
    auto wake = playing ? next : Clock::now() + std::chrono::hours(1);
    if (!scene.message.empty()) wake = std::min(wake, message_until);
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(wake - Clock::now());
    SDL_Event e;
    int got =
        SDL_WaitEventTimeout(&e, static_cast<int>(std::clamp<int64_t>(wait.count(), 0, 1000)));
    while (got != 0) {
      if (e.type == SDL_QUIT) quit = true;
      if (e.type == SDL_WINDOWEVENT && (e.window.event == SDL_WINDOWEVENT_SIZE_CHANGED ||
                                        e.window.event == SDL_WINDOWEVENT_EXPOSED)) {
        dirty = true;
      }
      if (e.type == SDL_KEYDOWN) {
        const SDL_Keycode k = e.key.keysym.sym;
        std::string message;
        bool handled = true;
        if (k == SDLK_q || k == SDLK_ESCAPE) {
          quit = true;
        } else if (k == SDLK_h || k == SDLK_QUESTION || k == SDLK_SLASH) {
          scene.help = !scene.help;
        } else if (k == SDLK_SPACE) {
          scene.paused = !scene.paused;
          next = Clock::now() + period();
        } else if (k == SDLK_PLUS || k == SDLK_EQUALS || k == SDLK_KP_PLUS) {
          scene.fps = std::min(60.0, scene.fps * 2);
        } else if (k == SDLK_MINUS || k == SDLK_KP_MINUS) {
          scene.fps = std::max(0.25, scene.fps / 2);
        } else if (k == SDLK_c) {
          fs::create_directories(o.shots_dir);
          const std::string path = FreeShotPath(o.shots_dir);
          WritePng(image, path);
          message = "saved " + path;
          std::printf("%s\n", message.c_str());
          std::fflush(stdout);
        } else if (source->Key(k, &message)) {
          moved = true;
        } else if (k == SDLK_RIGHT && scene.paused) {
          moved = source->Advance();
        } else {
          handled = false;
        }
        if (handled) dirty = true;
        if (!message.empty()) {
          scene.message = message;
          message_until = Clock::now() + std::chrono::seconds(3);
        }
      }
      got = SDL_PollEvent(&e);
    }
    const auto now = Clock::now();
    if (!scene.message.empty() && now >= message_until) {
      scene.message.clear();
      dirty = true;
    }
    if (playing && !scene.paused && now >= next) {
      if (source->Advance()) {
        moved = dirty = true;
        next = now + (source->AtEpisodeEnd() ? end_hold : period());
      } else {
        scene.paused = true;  // the last recording has ended
        dirty = true;
      }
    }
  }
  return 0;
}

int RunHeadless(Source* source, const PlayOptions& o) {
  if (o.frames <= 0) throw std::invalid_argument("--headless needs --frames N (N >= 1)");
  if (o.out_dir.empty()) throw std::invalid_argument("--headless needs --out DIR");
  MakeDir(o.out_dir, "--out");
  const Composer composer;
  Scene scene;
  scene.fps = o.fps;
  Frame image;
  std::unique_ptr<GifWriter> gif;
  if (o.gif) {
    gif = std::make_unique<GifWriter>((fs::path(o.out_dir) / "episode.gif").string(),
                                      std::max(o.width, kMinWidth), std::max(o.height, kMinHeight),
                                      static_cast<int>(1000.0 / o.fps));
  }
  int written = 0;
  for (; written < o.frames; ++written) {
    if (written > 0 && !source->Advance()) break;
    source->Fill(&scene);
    composer.Compose(scene, o.width, o.height, &image);
    WritePng(image, Numbered(o.out_dir, "frame", written, ".png"));
    if (gif) gif->Add(image);
  }
  if (gif) gif->Finish();
  std::printf("wrote %d frame(s) to %s%s\n", written, o.out_dir.c_str(),
              gif ? " and episode.gif" : "");
  return 0;
}

}  // namespace rimlab::viewer
