#pragma once
/// What the viewer draws besides the env: text in a tiny bitmap font and the replay panel (step,
/// action, reward, and for RIM policies the active units now and over the whole episode). All of
/// it draws into a Frame, so that headless snapshots show exactly what the window shows.

#include <string>
#include <vector>

#include "envs/core/frame.h"
#include "runners/run/recording.h"

namespace rimlab::viewer {

/// Draws `text` in 3x5 pixel glyphs scaled by `scale`, top-left at (x, y); letters are shown in
/// upper case and characters without a glyph as '?'. Returns the x just after the text.
int DrawText(Frame* frame, int x, int y, const std::string& text, int scale, Rgb color);
/// The width DrawText would use.
int TextWidth(const std::string& text, int scale);

/// One moment of a replay, as the panel shows it.
struct ReplayView {
  const EpisodeRecording* recording = nullptr;
  std::vector<std::string> action_names;  ///< the env's, for the action taken
  std::string name;                       ///< the file, shown small
  int episode = 0;                        ///< 0-based, of num_episodes
  int num_episodes = 1;
  int step = 0;  ///< actions applied so far, 0 .. length
  double return_so_far = 0.0;
  bool paused = false;
};

/// Composes the env's frame (scaled up to a readable size) above the replay panel into `out`.
/// The layout depends only on the recording, so the size stays fixed through an episode.
void ComposeReplay(const Frame& env_frame, const ReplayView& view, Frame* out);

}  // namespace rimlab::viewer
