#include "runners/train/recorder.h"

#include <filesystem>

#include "runners/train/rl_trainer.h"

namespace rimlab {

EpisodeRecorder::EpisodeRecorder(EnvConfig env_config, uint64_t seed)
    : env_config_(std::move(env_config)), env_yaml_(EnvSectionYaml(env_config_)), seed_(seed) {}

EpisodeRecording EpisodeRecorder::RecordOne(agents::ActorCritic model, uint64_t episode_seed,
                                            torch::Generator* generator) const {
  torch::NoGradGuard no_grad;
  auto env = env_config_.Make();
  const auto& spec = env->Spec();
  const bool rim = model->options().core.type == "rim";
  RecordingBuilder builder(env_yaml_, episode_seed,
                           rim ? static_cast<int>(model->options().core.rim.num_units()) : 0);
  env->Seed(episode_seed);
  Observation obs(spec.observation);
  TimeStep ts = env->Reset(obs.Ref());
  auto state = model->InitialState(1);
  while (!ts.last()) {
    agents::ObsTensors x;
    for (int f = 0; f < obs.num_fields(); ++f) {
      const auto& field = spec.observation.fields[static_cast<size_t>(f)];
      BatchView one;
      const void* ptr = obs.data(f);
      one.size = 1;
      one.obs = &ptr;
      x.push_back(FieldTensor(one, field, 0).clone());
    }
    auto out = model->Step(x, state, {});
    state = out.state;
    auto probs = torch::softmax(out.logits, -1);
    const auto action = at::multinomial(probs, 1, false, *generator).item<int64_t>();
    RecordingBuilder::Extras extras;
    auto p = probs[0].contiguous();
    extras.action_probs.assign(p.data_ptr<float>(), p.data_ptr<float>() + p.numel());
    extras.value = out.value[0].item<float>();
    if (rim && out.info.mask.defined()) {
      auto m = out.info.mask[0].contiguous().to(torch::kFloat32);
      extras.unit_mask.assign(m.data_ptr<float>(), m.data_ptr<float>() + m.numel());
      if (out.info.input_attention.defined()) {
        auto null = out.info.input_attention[0].select(-1, 0).contiguous().to(torch::kFloat32);
        extras.unit_null_attention.assign(null.data_ptr<float>(),
                                          null.data_ptr<float>() + null.numel());
      }
    }
    Action a;
    a.index = static_cast<int32_t>(action);
    ts = env->Step(a, obs.Ref());
    // Rewards alone miss many changes (a failed walk earns 0 in any layout); the observation
    // checksum catches a replay that drifts.
    extras.obs_checksum = ObservationChecksum(obs);
    builder.Add(a.index, ts.reward, extras);
  }
  return builder.Finish(ts.success);
}

std::vector<std::string> EpisodeRecorder::Record(agents::ActorCritic model, int64_t frames,
                                                 int episodes, const std::string& dir,
                                                 const std::string& policy) const {
  std::filesystem::create_directories(dir);
  agents::ActorCritic player(model->Replica());
  player->eval();
  std::vector<std::string> paths;
  for (int k = 0; k < episodes; ++k) {
    const uint64_t episode_seed =
        seed_ * 1000003ULL + static_cast<uint64_t>(frames) * 131ULL + static_cast<uint64_t>(k);
    auto generator = at::detail::createCPUGenerator(episode_seed);
    auto r = RecordOne(player, episode_seed, &generator);
    r.policy = policy;
    r.frames = frames;
    paths.push_back(dir + "/" + RecordingFileName(frames, k));
    SaveRecording(r, paths.back());
  }
  return paths;
}

}  // namespace rimlab
