#pragma once
/// Recorded episodes in memory, for the offline learners (behaviour cloning), and their
/// minibatches as whole episodes side by side.
///
/// A recurrent policy's state at a step depends on everything before it in the episode, so a
/// minibatch holds whole episodes unrolled from the initial state: B episodes padded to the
/// longest, T = its decisions. Observation row t (t < T) is the one the action at row t was
/// chosen on; row T is each episode's final observation (padding repeats it), for learners that
/// bootstrap from it. `mask` marks the real decisions, so padding never enters a loss.

#include <torch/torch.h>

#include <cstdint>
#include <random>
#include <vector>

#include "agents/actor_critic.h"
#include "envs/core/spec.h"

namespace rimlab::agents {

/// One episode as recorded: per observation field, (steps + 1) rows of the field's bytes in the
/// spec's layout (the reset observation first).
struct StoredEpisode {
  std::vector<std::vector<uint8_t>> observations;
  std::vector<int64_t> actions;
  std::vector<float> rewards;
  std::vector<uint8_t> terminations;  ///< 0 or 1 per step
  int64_t steps() const { return static_cast<int64_t>(actions.size()); }
};

class EpisodeStore {
 public:
  explicit EpisodeStore(ObservationSpec spec, int num_actions);

  /// Throws std::invalid_argument naming the episode and what does not fit the spec.
  void Add(StoredEpisode episode);
  int64_t num_episodes() const { return static_cast<int64_t>(episodes_.size()); }
  int64_t total_steps() const { return total_steps_; }
  const StoredEpisode& episode(int64_t i) const { return episodes_[static_cast<size_t>(i)]; }
  const ObservationSpec& spec() const { return spec_; }
  int num_actions() const { return num_actions_; }

 private:
  ObservationSpec spec_;
  int num_actions_ = 0;
  std::vector<StoredEpisode> episodes_;
  int64_t total_steps_ = 0;
};

struct EpisodeBatch {
  ObsTensors obs;         ///< per field [T + 1, B, ...field shape], the field's dtype
  torch::Tensor actions;  ///< [T, B] int64 (0 on padding)
  torch::Tensor rewards;  ///< [T, B]
  torch::Tensor done;     ///< [T, B]: 1 where the episode terminated after this decision
  torch::Tensor mask;     ///< [T, B]: 1 on real decisions
  int64_t steps = 0;      ///< decisions in the batch: mask's sum
};

/// The episodes `ids` of `store` side by side.
EpisodeBatch MakeEpisodeBatch(const EpisodeStore& store, const std::vector<int64_t>& ids);

/// Draws minibatches of episode ids: each pass over the store in a fresh random order, so every
/// episode is used once per epoch; its state (the generator and the position) is what a
/// checkpoint needs to continue the same sequence.
class EpisodeSampler {
 public:
  EpisodeSampler(int64_t episodes, int64_t batch, uint64_t seed);
  std::vector<int64_t> Next();
  /// The generator and position as text, and back.
  std::string Save() const;
  void Load(const std::string& state);

 private:
  void Shuffle();
  int64_t episodes_, batch_;
  std::mt19937_64 rng_;
  std::vector<int64_t> order_;
  size_t position_ = 0;
};

}  // namespace rimlab::agents
