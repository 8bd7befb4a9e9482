#pragma once
/// Episode recordings of a trained policy, for runs/NAME/episodes/: the trainer records a few
/// episodes at each checkpoint on envs of its own (never the training pool's), with its own
/// generator (never torch's global one), and with a replica of the model that shares its weights
/// and nothing else, so recording changes nothing about the run. The model itself carries state
/// besides its weights: the mission encoder caches each mission's encoding until the next update,
/// and rows that recording had encoded one at a time rounded differently from the batched rows a
/// resumed run computes (its metrics parted from the uninterrupted run's after a checkpoint).

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "agents/actor_critic.h"
#include "runners/config/env_config.h"
#include "runners/run/recording.h"

namespace rimlab {

class EpisodeRecorder {
 public:
  EpisodeRecorder(EnvConfig env_config, uint64_t seed);

  /// Plays `episodes` episodes with `model` (sampling its actions) and writes each to
  /// `dir`/RecordingFileName(frames, k). Episode k of a call is seeded from (seed, frames, k),
  /// so the same checkpoint always records the same episodes. Returns the paths written.
  std::vector<std::string> Record(agents::ActorCritic model, int64_t frames, int episodes,
                                  const std::string& dir, const std::string& policy) const;

 private:
  /// One episode, not written anywhere, played by a replica of `model` whose actions are
  /// sampled from a generator seeded with `episode_seed`.
  EpisodeRecording RecordOne(agents::ActorCritic model, uint64_t episode_seed) const;

  EnvConfig env_config_;
  std::string env_yaml_;
  uint64_t seed_;
};

}  // namespace rimlab
