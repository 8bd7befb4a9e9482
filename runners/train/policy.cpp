#include "runners/train/policy.h"

#include <variant>

#include <filesystem>
#include <memory>
#include <stdexcept>

#include "runners/train/checkpoint.h"
#include "runners/train/rl_trainer.h"

namespace rimlab {

namespace fs = std::filesystem;

agents::ActorCritic BuildModel(const Config& config, const EnvSpec& spec) {
  auto options =
      agents::ActorCriticOptionsFromParams(config.Section("model"), config.Section("core"));
  // CRR's critic values every action, and DQN acts on it; their runs' checkpoints hold that head.
  const Param* algo = config.Section("").Find("algo");
  const std::string name = algo != nullptr && std::holds_alternative<std::string>(algo->value)
                               ? std::get<std::string>(algo->value)
                               : "";
  options.q_head = name == "crr" || name == "dqn";
  options.q_policy = name == "dqn";
  return agents::ActorCritic(spec, options);
}

bool IsRunOrCheckpoint(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return true;
  return path.size() > 3 && path.compare(path.size() - 3, 3, ".pt") == 0;
}

TrainedPolicy LoadTrainedPolicy(const std::string& path) {
  TrainedPolicy p;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    p.run_dir = path;
    const auto all = ListCheckpoints(path + "/checkpoints");
    if (all.empty()) {
      throw std::invalid_argument(path + ": no checkpoints in " + path +
                                  "/checkpoints (is it a run directory?)");
    }
    p.checkpoint = all.back();
  } else if (fs::is_regular_file(path, ec)) {
    p.checkpoint = path;
    p.run_dir = fs::path(path).parent_path().parent_path().string();
    if (p.run_dir.empty()) p.run_dir = ".";
  } else {
    throw std::invalid_argument(path + ": no such run directory or checkpoint file");
  }
  const std::string config_path = p.run_dir + "/config.yaml";
  if (!fs::is_regular_file(config_path, ec)) {
    throw std::invalid_argument(p.checkpoint + ": expected the run's config at " + config_path);
  }
  p.config = Config::Load(config_path);
  const EnvConfig env = EnvConfigFrom(p.config);
  p.model = BuildModel(p.config, env.Make()->Spec());
  LoadModelWeights(p.model, p.checkpoint);
  p.model->eval();
  return p;
}

BatchPolicy RecurrentPolicy(agents::ActorCritic model, const EnvSpec& spec, int num_envs,
                            bool greedy, uint64_t seed) {
  struct Shared {
    agents::ActorCritic model{nullptr};
    models::State state;
    torch::Generator gen;
    std::vector<ArraySpec> fields;
  };
  auto s = std::make_shared<Shared>();
  s->model = std::move(model);
  s->state = s->model->InitialState(num_envs);
  s->gen = at::detail::createCPUGenerator(seed);
  s->fields = spec.observation.fields;
  return [s, greedy](const BatchView& batch, Action* actions) {
    torch::NoGradGuard no_grad;
    agents::ObsTensors obs;
    for (size_t f = 0; f < s->fields.size(); ++f) {
      obs.push_back(FieldTensor(batch, s->fields[f], static_cast<int>(f)));
    }
    auto reset = torch::zeros({batch.size});
    float* r = reset.data_ptr<float>();
    for (int i = 0; i < batch.size; ++i) r[i] = batch.step_type[i] == StepType::kFirst ? 1.f : 0.f;
    auto out = s->model->Step(obs, s->state, reset);
    s->state = std::move(out.state);
    auto chosen =
        greedy ? out.logits.argmax(-1)
               : at::multinomial(torch::softmax(out.logits, -1), 1, false, s->gen).squeeze(1);
    const int64_t* a = chosen.data_ptr<int64_t>();
    for (int i = 0; i < batch.size; ++i) actions[i].index = static_cast<int32_t>(a[i]);
  };
}

std::vector<EpisodeStats> EvaluateTrainedPolicy(const TrainedPolicy& policy,
                                                const std::vector<std::string>& splits,
                                                int episodes, bool greedy) {
  constexpr uint64_t kEvalSeedOffset = 1000003;
  const EnvConfig env = EnvConfigFrom(policy.config);
  PoolOptions pool_options = PoolOptionsFrom(policy.config);
  pool_options.seed += kEvalSeedOffset;
  std::vector<EpisodeStats> out;
  for (const auto& split : splits) {
    const EnvConfig ec = split.empty() ? env : env.WithSplit(split);
    ActorPool pool([&ec](int) { return ec.Make(); }, pool_options);
    out.push_back(Evaluate(
        &pool, episodes,
        RecurrentPolicy(policy.model, pool.spec(), pool.num_envs(), greedy, pool_options.seed)));
  }
  return out;
}

}  // namespace rimlab
