#pragma once
/// Episode recordings: what a trainer saves under runs/NAME/episodes/ and the viewer replays.
///
/// A recording stores no observations or frames. It stores how to remake the env (its `env`
/// config section and a seed) and the actions taken, and replay re-simulates: envs are
/// deterministic, so make, Seed(seed), Reset() once, then the recorded actions give the same
/// episode. The recorded rewards are checked on the way, so a recording made by an older build
/// whose env has since changed fails loudly instead of showing a different episode. Alongside the
/// actions go what the policy did at each step: for RIM cores the active units (and optionally
/// the attention on the null input), and optionally the action probabilities and values.
///
/// Step t (0-based) of the per-step arrays is the decision taken on the observation after t
/// actions: `actions[t]` was chosen with `unit_mask[t]` active, and `rewards[t]` followed it.
///
/// Files are JSON: {"format": "rimlab-episode", "version": 1, ...} with one key per field below.

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "envs/core/env.h"
#include "common/params.h"
#include "runners/config/env_config.h"

namespace rimlab {

struct EpisodeRecording {
  /// The run's `env` config section as YAML (see EnvSectionYaml): enough to remake the env.
  std::string env_yaml;
  /// The env is made, Seed(seed), Reset() once; the episode is the first after that reset.
  uint64_t seed = 0;
  std::vector<int32_t> actions;  ///< one per step
  std::vector<float> rewards;    ///< one per step: the reward that followed actions[t]
  bool success = false;
  float episode_return = 0.0f;  ///< sum of rewards
  int32_t length = 0;           ///< number of steps
  int64_t frames = 0;           ///< training frames done when it was recorded
  std::string policy;           ///< free text, e.g. "ppo rim(6 units, top 4) checkpoint 123"
  int num_units = 0;            ///< RIM units; 0 for LSTM, GRU and random policies
  /// [steps][num_units], 1 for the units active at that step; empty when num_units is 0.
  std::vector<std::vector<float>> unit_mask;
  /// Optional [steps][num_units]: each unit's attention on the null input (high = ignoring it).
  std::vector<std::vector<float>> unit_null_attention;
  /// Optional [steps][num_actions]: the policy's distribution when it chose actions[t].
  std::vector<std::vector<float>> action_probs;
  std::vector<float> values;  ///< optional, one per step: the critic's estimate
  /// Optional, one per step: ObservationChecksum of the observation that followed actions[t].
  /// Rewards alone miss many changes (a random walk earns 0 in any layout); these catch them.
  std::vector<uint32_t> obs_checksums;

  bool operator==(const EpisodeRecording& other) const;
  bool operator!=(const EpisodeRecording& other) const { return !(*this == other); }
};

/// FNV-1a over every field's bytes: cheap, and stable across builds for the same observation.
uint32_t ObservationChecksum(const Observation& obs);

/// The `env` section of a config as YAML for EpisodeRecording::env_yaml ("env:\n  name: ...").
std::string EnvSectionYaml(const Params& env_section);
std::string EnvSectionYaml(const EnvConfig& env_config);
/// Reads env_yaml back (with or without the top-level `env:` key) and checks that the env can be
/// made. `origin` names the recording in messages. Throws std::invalid_argument.
EnvConfig EnvConfigFromYaml(const std::string& env_yaml, const std::string& origin);

/// Throws std::invalid_argument, starting with `origin`, when the fields disagree: per-step arrays
/// whose length is not `length`, mask rows that are not num_units long, a return that is not the
/// sum of the rewards, ...
void ValidateRecording(const EpisodeRecording& recording, const std::string& origin);

/// Validates, then writes `path` through a temporary file renamed over it, so a reader never sees
/// half a recording. Throws std::invalid_argument (bad recording) or std::runtime_error (I/O).
void SaveRecording(const EpisodeRecording& recording, const std::string& path);
/// Throws std::invalid_argument naming `path` and the offending key on a missing file, malformed
/// JSON, another format or a newer version, a missing or mistyped key, or inconsistent lengths.
EpisodeRecording LoadRecording(const std::string& path);
/// The same from JSON text; `origin` names it in messages.
EpisodeRecording ParseRecording(const std::string& json_text, const std::string& origin);
std::string RecordingToJson(const EpisodeRecording& recording);

/// A file name that sorts by training progress: "frames-000001234567-ep02.json".
std::string RecordingFileName(int64_t frames, int episode);
/// `path` itself when it is a file, or every *.json directly inside it in name order. Throws
/// std::invalid_argument when it does not exist or the directory holds no recordings.
std::vector<std::string> ListRecordings(const std::string& path);

/// Builds a recording one step at a time, for trainers and tests:
///   RecordingBuilder b(EnvSectionYaml(env_section), seed, num_units);
///   b.Add(action, reward, extras) ... ; EpisodeRecording r = b.Finish(ts.success);
class RecordingBuilder {
 public:
  /// What the policy did at one step besides acting; leave a field empty when not recorded, the
  /// same way at every step.
  struct Extras {
    std::vector<float> unit_mask;            ///< num_units values, 1 = active
    std::vector<float> unit_null_attention;  ///< num_units values
    std::vector<float> action_probs;         ///< num_actions values
    std::optional<float> value;
    std::optional<uint32_t> obs_checksum;  ///< of the observation the step returned
  };

  RecordingBuilder(std::string env_yaml, uint64_t seed, int num_units = 0);
  void SetPolicy(std::string policy, int64_t frames);
  void Add(int32_t action, float reward, const Extras& extras = {});
  int32_t length() const { return static_cast<int32_t>(r_.actions.size()); }
  /// Fills length and return, validates (std::invalid_argument) and hands the recording over.
  EpisodeRecording Finish(bool success);

 private:
  EpisodeRecording r_;
};

/// Re-simulates a recording one step at a time, checking each reward (and observation checksum,
/// when recorded) against the recorded one. Mismatches throw std::invalid_argument: "ORIGIN:
/// recording does not replay: reward mismatch at step k (...) — env changed?", with k counted from
/// 1 like the viewer's step counter.
class Replayer {
 public:
  /// Validates, remakes the env from env_yaml, seeds and resets it.
  explicit Replayer(EpisodeRecording recording, std::string origin = "recording");

  const EpisodeRecording& recording() const { return r_; }
  const std::string& origin() const { return origin_; }
  const Environment& env() const { return *env_; }
  /// Actions applied so far, 0 .. length.
  int step() const { return step_; }
  bool done() const { return step_ == r_.length; }
  /// The latest TimeStep: FIRST after the reset, LAST after the final action.
  const TimeStep& timestep() const { return ts_; }
  /// The sum of the rewards so far.
  double return_so_far() const { return return_; }

  /// Applies the next recorded action; at the end, also checks that the episode ended with the
  /// recorded success. Throws std::logic_error when done().
  const TimeStep& Next();
  /// Goes to `step` (0 .. length) by re-simulating from the reset when it lies behind.
  void Seek(int step);
  void Render(Frame* frame) const { env_->Render(frame); }
  /// The observation after step() actions.
  const Observation& observation() const { return obs_; }

 private:
  [[noreturn]] void Mismatch(const std::string& what) const;
  void Restart();

  EpisodeRecording r_;
  std::string origin_;
  std::unique_ptr<Environment> env_;
  Observation obs_;
  TimeStep ts_;
  int step_ = 0;
  double return_ = 0.0;
};

/// Every frame of a replay: length + 1 frames, the first after the reset. Throws like Replayer.
std::vector<Frame> ReplayFrames(const EpisodeRecording& recording,
                                const std::string& origin = "recording");

}  // namespace rimlab
