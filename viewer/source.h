#pragma once
/// What the viewer plays: a source of Scenes that steps forward (and, for replays, back). The
/// window loop and the headless renderer drive any source the same way, so they show the same
/// frames.

#include <SDL.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "viewer/scene.h"

namespace rimlab::viewer {

class Source {
 public:
  virtual ~Source() = default;
  /// Writes the current moment into `scene` (everything but how it plays: paused, fps, help).
  virtual void Fill(Scene* scene) const = 0;
  /// One step forward; at the end of an episode, the next episode. Returns false when there is
  /// nothing after (the last recording's end).
  virtual bool Advance() = 0;
  /// True when the current episode is over (the viewer holds its last frame a moment).
  virtual bool AtEpisodeEnd() const = 0;
  /// A key the source handles itself (next seed, split, sampling, playing by keyboard, stepping
  /// back); returns true when it changed what is shown. `message` may receive a line to show.
  virtual bool Key(SDL_Keycode key, std::string* message) = 0;
  /// "key: what it does" for the source's own keys, for --help and the overlay.
  virtual std::vector<std::string> Keys() const = 0;
  /// Whether the viewer steps on its clock (false: only keys move it, as keyboard play).
  virtual bool Autoplay() const { return true; }
  /// Episodes started so far, counting from 1 (names recorded GIFs).
  virtual int episode() const = 0;
};

struct LiveOptions {
  /// A YAML config (random or keyboard play) or a run directory / checkpoint (its policy plays).
  std::string target;
  std::vector<std::string> overrides;  ///< config overrides (configs only)
  std::string policy;  ///< configs: "random" (default) or "keys"; runs: must stay empty
  std::string split;   ///< "" = the config's
  int64_t seed = -1;   ///< -1: the config's seed
  bool greedy = false;
};
/// Throws std::invalid_argument (exit 2) on a missing, corrupt or mismatched checkpoint or config.
std::unique_ptr<Source> MakeLiveSource(const LiveOptions& options);

/// A recording, or a directory of them played in name order. Throws std::invalid_argument.
std::unique_ptr<Source> MakeReplaySource(const std::string& path);

/// The mission in an env's Describe() ("... mission: pick up the red ball ..."), or "".
std::string MissionOf(const std::string& description);

}  // namespace rimlab::viewer
