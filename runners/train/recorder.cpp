#include "runners/train/recorder.h"

#include <filesystem>

#include "runners/train/policy_player.h"

namespace rimlab {

EpisodeRecorder::EpisodeRecorder(EnvConfig env_config, uint64_t seed)
    : env_config_(std::move(env_config)), env_yaml_(EnvSectionYaml(env_config_)), seed_(seed) {}

EpisodeRecording EpisodeRecorder::RecordOne(agents::ActorCritic model,
                                            uint64_t episode_seed) const {
  PolicyPlayer player(std::move(model), env_config_.Make(), episode_seed);
  RecordingBuilder builder(env_yaml_, episode_seed, player.num_units());
  player.Reset(episode_seed);
  while (!player.timestep().last()) {
    PolicyDecision d = player.Decide(/*greedy=*/false);
    RecordingBuilder::Extras extras;
    extras.action_probs = std::move(d.action_probs);
    extras.value = d.value;
    extras.unit_mask = std::move(d.unit_mask);
    extras.unit_null_attention = d.NullAttention();
    const TimeStep& ts = player.Apply(d.action);
    // Rewards alone miss many changes (a failed walk earns 0 in any layout); the observation
    // checksum catches a replay that drifts.
    extras.obs_checksum = ObservationChecksum(player.observation());
    builder.Add(d.action, ts.reward, extras);
  }
  return builder.Finish(player.timestep().success);
}

std::vector<std::string> EpisodeRecorder::Record(agents::ActorCritic model, int64_t frames,
                                                 int episodes, const std::string& dir,
                                                 const std::string& policy) const {
  std::filesystem::create_directories(dir);
  std::vector<std::string> paths;
  for (int k = 0; k < episodes; ++k) {
    const uint64_t episode_seed =
        seed_ * 1000003ULL + static_cast<uint64_t>(frames) * 131ULL + static_cast<uint64_t>(k);
    auto r = RecordOne(model, episode_seed);
    r.policy = policy;
    r.frames = frames;
    paths.push_back(dir + "/" + RecordingFileName(frames, k));
    SaveRecording(r, paths.back());
  }
  return paths;
}

}  // namespace rimlab
