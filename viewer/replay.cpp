// Replay mode: plays episode recordings (runs/NAME/episodes/*.json) by re-simulating them, with
// the panel showing the step, the action, the reward and which RIM units are active.
//
// Keys: space pause, left/right step back and forth while paused, n / p next / previous episode,
// r restart the episode, q or Esc quit. An episode that has played to its end waits a moment,
// then the next one starts; after the last one the viewer pauses.
#include <chrono>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <thread>

#include "runners/run/recording.h"
#include "viewer/app.h"
#include "viewer/panels.h"

namespace rimlab::viewer {

namespace {

// Every recording opened is replayed once to its end first, so that a recording the current env
// no longer reproduces fails here, with its message, and never halfway through playing.
std::unique_ptr<Replayer> Open(const std::string& path) {
  auto replay = std::make_unique<Replayer>(LoadRecording(path), path);
  replay->Seek(replay->recording().length);
  replay->Seek(0);
  return replay;
}

ReplayView ViewOf(const Replayer& replay, int episode, int num_episodes, bool paused) {
  ReplayView v;
  v.recording = &replay.recording();
  v.action_names = replay.env().Spec().action.names;
  v.name = replay.origin();
  v.episode = episode;
  v.num_episodes = num_episodes;
  v.step = replay.step();
  v.return_so_far = replay.return_so_far();
  v.paused = paused;
  return v;
}

}  // namespace

int RunReplay(const ReplayArgs& args) {
  const std::vector<std::string> files = ListRecordings(args.path);
  const int num_files = static_cast<int>(files.size());
  Frame env_frame;
  Frame frame;

  if (!args.snapshot.empty()) {
    auto replay = Open(files[0]);
    const int length = replay->recording().length;
    if (args.steps > length) {
      std::fprintf(stderr, "rimlab_viewer: note: %s has %d steps; showing the last\n",
                   files[0].c_str(), length);
    }
    replay->Seek(std::min(args.steps, length));
    replay->Render(&env_frame);
    ComposeReplay(env_frame, ViewOf(*replay, 0, num_files, false), &frame);
    if (!frame.SavePpm(args.snapshot.c_str())) {
      throw std::runtime_error("cannot write " + args.snapshot);
    }
    return 0;
  }

  // In a directory, a recording that does not load or replay is reported and skipped, so one
  // stale file does not hide the others.
  int episode = 0;
  std::unique_ptr<Replayer> replay;
  const auto open_from = [&](int first, int direction) {
    for (int tries = 0; tries < num_files; ++tries) {
      const int i = ((first + direction * tries) % num_files + num_files) % num_files;
      try {
        replay = Open(files[static_cast<size_t>(i)]);
        episode = i;
        return;
      } catch (const std::invalid_argument& e) {
        if (num_files == 1) throw;
        std::fprintf(stderr, "rimlab_viewer: skipping: %s\n", e.what());
      }
    }
    throw std::invalid_argument(args.path + ": none of the recordings replays");
  };
  open_from(0, 1);

  using Clock = std::chrono::steady_clock;
  const auto period = std::chrono::microseconds(static_cast<int64_t>(1e6 / args.fps));
  const auto end_hold = std::chrono::milliseconds(1200);  // time to read the final frame
  bool paused = false;
  bool quit = false;
  auto next = Clock::now() + period;
  replay->Render(&env_frame);
  ComposeReplay(env_frame, ViewOf(*replay, episode, num_files, paused), &frame);
  Window window(frame, frame.width < 500 ? 2 : 1);
  while (!quit) {
    SDL_Event e;
    while (SDL_PollEvent(&e)) {
      if (e.type == SDL_QUIT) quit = true;
      if (e.type != SDL_KEYDOWN) continue;
      const SDL_Keycode k = e.key.keysym.sym;
      if (k == SDLK_q || k == SDLK_ESCAPE) quit = true;
      if (k == SDLK_SPACE) {
        paused = !paused;
        next = Clock::now() + period;
      }
      if (k == SDLK_RIGHT && paused && !replay->done()) replay->Next();
      if (k == SDLK_LEFT && paused && replay->step() > 0) replay->Seek(replay->step() - 1);
      if (k == SDLK_r) replay->Seek(0);
      if (k == SDLK_n || k == SDLK_p) {
        open_from(episode + (k == SDLK_n ? 1 : -1), k == SDLK_n ? 1 : -1);
        next = Clock::now() + period;
      }
    }
    if (!paused && Clock::now() >= next) {
      if (!replay->done()) {
        replay->Next();
        next += period;
        if (replay->done()) next = Clock::now() + end_hold;
      } else if (episode + 1 < num_files) {
        open_from(episode + 1, 1);
        next = Clock::now() + period;
      } else {
        paused = true;
      }
    }
    replay->Render(&env_frame);
    ComposeReplay(env_frame, ViewOf(*replay, episode, num_files, paused), &frame);
    window.Show(frame);
    window.SetTitle("rimlab replay: " + replay->origin() + (paused ? "  [paused]" : ""));
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return 0;
}

}  // namespace rimlab::viewer
