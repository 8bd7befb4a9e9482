// `rimlab collect SOURCE --episodes N --out DIR`: one env, episodes played one after another with
// the policy's recurrent state carried within an episode and reset between them, each episode
// seeded on its own (seed + i) so that any episode can be replayed from its seed alone.
#include "runners/cli/collect.h"

#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>

#include "data/minari_dataset.h"
#include "runners/config/config.h"
#include "runners/config/env_config.h"
#include "runners/train/policy.h"
#include "runners/train/rl_trainer.h"

namespace rimlab {

namespace {

nlohmann::json ParamsJson(const Params& params) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [key, param] : params.values()) {
    std::visit([&, k = key](const auto& v) { j[k] = v; }, param.value);
  }
  return j;
}

/// Plays one episode; `act` gives the behaviour probabilities for the current observation and
/// returns the chosen action.
template <typename Act>
minari::Episode PlayEpisode(Environment* env, int64_t seed, Observation* obs, bool* success,
                            const Act& act) {
  const EnvSpec& spec = env->Spec();
  minari::Episode ep;
  ep.seed = seed;
  ep.observations.resize(spec.observation.fields.size());
  const auto record = [&] {
    for (int f = 0; f < obs->num_fields(); ++f) {
      const auto* p = static_cast<const uint8_t*>(obs->data(f));
      ep.observations[static_cast<size_t>(f)].insert(ep.observations[static_cast<size_t>(f)].end(),
                                                     p, p + obs->num_bytes(f));
    }
  };
  env->Seed(static_cast<uint64_t>(seed));
  TimeStep ts = env->Reset(obs->Ref());
  record();
  bool first = true;
  while (!ts.last()) {
    std::vector<float> probs(static_cast<size_t>(spec.action.num_actions));
    const int a = act(*obs, first, probs.data());
    first = false;
    ts = env->Step(Action{a, nullptr}, obs->Ref());
    record();
    ep.actions.push_back(a);
    ep.rewards.push_back(ts.reward);
    ep.terminations.push_back(ts.terminated() ? 1 : 0);
    ep.truncations.push_back(ts.truncated() ? 1 : 0);
    ep.action_probs.insert(ep.action_probs.end(), probs.begin(), probs.end());
  }
  *success = ts.success;
  return ep;
}

}  // namespace

int CmdCollect(const CollectArgs& args) {
  if (args.episodes <= 0) throw std::invalid_argument("collect: --episodes must be at least 1");
  if (args.out.empty()) throw std::invalid_argument("collect: --out DIR is required");
  if (args.epsilon < 0.0 || args.epsilon > 1.0) {
    throw std::invalid_argument("collect: --epsilon must lie in [0, 1]");
  }
  const bool random = args.source == "random";
  TrainedPolicy policy;
  Config config;
  if (random) {
    if (args.config.empty()) {
      throw std::invalid_argument("collect: a random policy needs --config CONFIG (its env)");
    }
    config = Config::Load(args.config);
    for (const auto& o : args.overrides) config.Override(o);
  } else {
    if (!IsRunOrCheckpoint(args.source)) {
      throw std::invalid_argument("collect: '" + args.source +
                                  "' is neither 'random' nor a run directory or checkpoint");
    }
    if (!args.config.empty() || !args.overrides.empty()) {
      throw std::invalid_argument(
          "collect: a trained run brings its own config; drop --config "
          "and overrides, choose the env's distribution with --split");
    }
    policy = LoadTrainedPolicy(args.source);
    config = policy.config;
  }
  EnvConfig env_config = EnvConfigFrom(config);
  if (!args.split.empty()) env_config = env_config.WithSplit(args.split);
  auto env = env_config.Make();
  const EnvSpec& spec = env->Spec();
  if (!spec.action.discrete()) {
    throw std::invalid_argument("collect: " + spec.name +
                                " has continuous actions; datasets "
                                "record discrete ones");
  }
  const int num_actions = spec.action.num_actions;
  const uint64_t seed = args.seed >= 0 ? static_cast<uint64_t>(args.seed) : SeedFrom(config);

  minari::Provenance p;
  p.env_name = env_config.name;
  p.env_options = ParamsJson(env_config.params);
  p.split = args.split;
  p.algorithm_name = "random";
  if (!random) {
    const Param* algo = config.Section("").Find("algo");
    p.algorithm_name = algo && std::holds_alternative<std::string>(algo->value)
                           ? std::get<std::string>(algo->value)
                           : "ppo";
  }
  p.policy = random ? "" : policy.checkpoint;
  p.epsilon = args.epsilon;
  p.seed = seed;
  auto writer = args.append ? minari::Writer::Append(args.out, spec, p)
                            : minari::Writer::Create(args.out, spec, p);

  std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ull);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  const auto sample = [&](const float* probs) {
    double u = uniform(rng), acc = 0.0;
    for (int k = 0; k < num_actions; ++k) {
      acc += probs[k];
      if (u < acc) return k;
    }
    return num_actions - 1;
  };

  torch::NoGradGuard no_grad;
  agents::ActorCritic model{nullptr};
  models::State state;
  if (!random) {
    model = agents::ActorCritic(policy.model->Replica());
    model->eval();
  }
  const auto act = [&](const Observation& obs, bool first, float* probs) -> int {
    const float mix = static_cast<float>(args.epsilon) / static_cast<float>(num_actions);
    if (random) {
      for (int k = 0; k < num_actions; ++k) probs[k] = 1.0f / static_cast<float>(num_actions);
      return sample(probs);
    }
    if (first) state = model->InitialState(1);
    auto step = model->Step(SingleObservation(obs, spec.observation), state, {});
    state = step.state;
    const auto pi = torch::softmax(step.logits, -1).contiguous();
    const float* q = pi.data_ptr<float>();
    const int best = static_cast<int>(step.logits.argmax(-1).item<int64_t>());
    for (int k = 0; k < num_actions; ++k) {
      const float own = args.greedy ? (k == best ? 1.0f : 0.0f) : q[k];
      probs[k] = (1.0f - static_cast<float>(args.epsilon)) * own + mix;
    }
    return sample(probs);
  };

  const auto start = std::chrono::steady_clock::now();
  auto last_print = start;
  int64_t successes = 0;
  double return_sum = 0.0;
  Observation obs(spec.observation);
  for (int64_t i = 0; i < args.episodes; ++i) {
    bool success = false;
    const auto ep = PlayEpisode(env.get(), static_cast<int64_t>(seed) + i, &obs, &success, act);
    writer.Add(ep);
    successes += success ? 1 : 0;
    for (double r : ep.rewards) return_sum += r;
    const auto now = std::chrono::steady_clock::now();
    if (!args.quiet && (now - last_print > std::chrono::seconds(2) || i + 1 == args.episodes)) {
      last_print = now;
      std::fprintf(stderr, "\rcollect: %lld/%lld episodes, success %.3f",
                   static_cast<long long>(i + 1), static_cast<long long>(args.episodes),
                   static_cast<double>(successes) / static_cast<double>(i + 1));
    }
  }
  if (!args.quiet) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::error_code ec;
    const auto bytes = std::filesystem::file_size(writer.file(), ec);
    std::fprintf(stderr, "\n");
    std::printf(
        "collected %lld episodes (%s on %s%s), success %.3f, mean return %.3f, in %.1f s\n"
        "dataset %s: %lld episodes, %lld steps, %.1f bytes per step on disk (%zu of raw "
        "observation)\n",
        static_cast<long long>(args.episodes), p.algorithm_name.c_str(), p.env_name.c_str(),
        args.split.empty() ? "" : (", split " + args.split).c_str(),
        static_cast<double>(successes) / static_cast<double>(args.episodes),
        return_sum / static_cast<double>(args.episodes), seconds, writer.file().c_str(),
        static_cast<long long>(writer.total_episodes()),
        static_cast<long long>(writer.total_steps()),
        ec ? 0.0 : static_cast<double>(bytes) / static_cast<double>(writer.total_steps()),
        spec.observation.NumBytes());
  }
  return 0;
}

}  // namespace rimlab
