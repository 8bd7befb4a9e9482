#include "runners/train/unit_activity.h"

#include <stdexcept>

#include "envs/balls/touch_view_features.h"
#include "envs/grid/view_features.h"
#include "runners/train/rl_trainer.h"

namespace rimlab {

namespace {

int FieldIndex(const EnvSpec& spec, const std::string& name) {
  for (size_t f = 0; f < spec.observation.fields.size(); ++f) {
    if (spec.observation.fields[f].name == name) return static_cast<int>(f);
  }
  return -1;
}

}  // namespace

bool CanAnalyseUnits(const TrainedPolicy& policy, const EnvConfig& env) {
  return policy.model->options().core.type == "rim" && (HasGridView(env) || HasBallsView(env));
}

bool HasBallsView(const EnvConfig& env) {
  const auto probe = env.Make();
  const int context = FieldIndex(probe->Spec(), "context");
  const int objects = FieldIndex(probe->Spec(), "objects");
  return probe->Spec().name == "balls_touch" && context >= 0 && objects >= 0;
}

bool HasGridView(const EnvConfig& env) {
  const auto probe = env.Make();
  const int image = FieldIndex(probe->Spec(), "image");
  const int mission = FieldIndex(probe->Spec(), "mission");
  return image >= 0 && mission >= 0 &&
         probe->Spec().observation.fields[static_cast<size_t>(image)].dtype == DType::kUInt8 &&
         probe->Spec().observation.fields[static_cast<size_t>(mission)].dtype == DType::kInt32;
}

study::UnitSteps CollectUnitSteps(const TrainedPolicy& policy, const EnvConfig& env_config,
                                  int episodes, bool greedy, uint64_t seed) {
  if (!CanAnalyseUnits(policy, env_config)) {
    throw std::invalid_argument(policy.run_dir +
                                ": the unit analysis needs a RIM policy on a gridworld (image and "
                                "mission observations) or on balls_touch with features: true");
  }
  torch::NoGradGuard no_grad;
  agents::ActorCritic model(policy.model->Replica());
  model->eval();
  auto env = env_config.Make();
  const EnvSpec& spec = env->Spec();
  const bool grid_view = HasGridView(env_config);
  const int image = FieldIndex(spec, grid_view ? "image" : "context");
  const int mission = FieldIndex(spec, grid_view ? "mission" : "objects");
  study::UnitSteps out;
  out.num_units = static_cast<int>(model->options().core.rim.num_units());
  out.features = grid_view ? grid::ViewFeatureNames() : balls::TouchViewFeatureNames();
  std::vector<uint8_t> features(out.features.size());
  auto generator = at::detail::createCPUGenerator(seed);
  env->Seed(seed);
  Observation obs(spec.observation);
  for (int e = 0; e < episodes; ++e) {
    TimeStep ts = env->Reset(obs.Ref());
    auto state = model->InitialState(1);
    int length = 0;
    while (!ts.last()) {
      auto step = model->Step(SingleObservation(obs, spec.observation), state, {});
      state = step.state;
      const auto mask = step.info.mask[0].contiguous().to(torch::kFloat32);
      for (int u = 0; u < out.num_units; ++u) {
        out.active.push_back(mask.data_ptr<float>()[u] > 0.5f ? 1 : 0);
      }
      if (grid_view) {
        grid::ViewFeatures(static_cast<const uint8_t*>(obs.data(image)),
                           static_cast<const int32_t*>(obs.data(mission)), features.data());
      } else {
        balls::TouchViewFeatures(static_cast<const float*>(obs.data(image)),
                                 static_cast<const float*>(obs.data(mission)), features.data());
      }
      out.feature.insert(out.feature.end(), features.begin(), features.end());
      const auto chosen =
          greedy ? step.logits.argmax(-1).item<int64_t>()
                 : at::multinomial(torch::softmax(step.logits, -1), 1, false, generator)
                       .item<int64_t>();
      Action a;
      a.index = static_cast<int32_t>(chosen);
      ts = env->Step(a, obs.Ref());
      ++length;
    }
    out.episode_lengths.push_back(length);
  }
  return out;
}

}  // namespace rimlab
