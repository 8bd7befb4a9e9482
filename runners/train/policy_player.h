#pragma once
/// One env played by one recurrent policy, a decision at a time: what the episode recorder and
/// the viewer's live mode share. Each decision reports what the policy did besides acting (its
/// distribution, value, the RIM units it used and their attention, its hidden state), so a
/// recording and a live panel show the same things computed the same way.

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "agents/actor_critic.h"
#include "envs/core/env.h"

namespace rimlab {

/// What the policy did on one observation.
struct PolicyDecision {
  int32_t action = 0;
  std::vector<float> action_probs;  ///< num_actions
  float value = 0.0f;
  /// RIM cores: num_units values, 1 = updated at this step; empty otherwise.
  std::vector<float> unit_mask;
  /// RIM cores: [num_units][set_size + 1] input attention (column 0 the null element), row-major;
  /// set_size is 1 unless the encoder hands the core a set of cells.
  std::vector<float> input_attention;
  int set_size = 0;
  /// Each unit's attention on the null element (column 0 of its input_attention row); empty
  /// for other cores.
  std::vector<float> NullAttention() const;
  /// The core's output state h (LSTM, GRU) or the units' h side by side (RIM).
  std::vector<float> hidden;
};

class PolicyPlayer {
 public:
  /// Plays `env` with `model` (a replica is made: the player shares weights and nothing else).
  /// `seed` seeds the action sampling, independent of torch's global generator.
  PolicyPlayer(agents::ActorCritic model, std::unique_ptr<Environment> env, uint64_t seed);

  /// Seeds and resets the env and the core state; the next Decide() acts on the first
  /// observation of the episode.
  void Reset(uint64_t env_seed);
  /// Starts the next episode without reseeding (the env's generator carries on).
  void NextEpisode();
  /// The policy's decision on the current observation; sampled, or the most likely action when
  /// `greedy`. Advances the core state; call Apply() before the next Decide().
  PolicyDecision Decide(bool greedy);
  /// Applies `action` to the env.
  const TimeStep& Apply(int32_t action);

  const Environment& env() const { return *env_; }
  Environment* mutable_env() { return env_.get(); }
  const Observation& observation() const { return obs_; }
  const TimeStep& timestep() const { return ts_; }
  bool is_rim() const { return rim_; }
  int num_units() const { return num_units_; }

 private:
  agents::ActorCritic model_{nullptr};
  std::unique_ptr<Environment> env_;
  torch::Generator generator_;
  Observation obs_;
  TimeStep ts_;
  models::State state_;
  bool rim_ = false;
  int num_units_ = 0;
};

}  // namespace rimlab
