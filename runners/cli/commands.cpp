#include "runners/cli/commands.h"

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "runners/cli/rollout.h"
#include "runners/config/config.h"
#include "runners/config/env_config.h"
#include "runners/train/evaluate.h"

namespace rimlab {

namespace {

// Every section any command understands; a config written for training can be evaluated too.
const std::vector<std::string> kKnownSections = {"env",  "pool", "eval", "model",
                                                 "core", "ppo",  "a2c",  "log"};

Config LoadConfig(const std::string& path, const std::vector<std::string>& overrides) {
  Config c = Config::Load(path);
  for (const auto& o : overrides) c.Override(o);
  c.CheckSections(kKnownSections);
  return c;
}

}  // namespace

int RunCommand(const std::function<int()>& body) {
  try {
    return body();
  } catch (const OptionError& e) {
    std::fprintf(stderr, "rimlab: error: %s\n", e.what());
    return 2;
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "rimlab: error: %s\n", e.what());
    return 2;
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "rimlab: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rimlab: failed: %s\n", e.what());
    return 1;
  }
}

int CmdRollout(const RolloutArgs& args) {
  const Config config = LoadConfig(args.config, args.overrides);
  const EnvConfig env_config = EnvConfigFrom(config);
  auto env = env_config.Make();
  const uint64_t seed = args.seed >= 0 ? static_cast<uint64_t>(args.seed) : SeedFrom(config);
  const auto actions = ParseActionList(args.actions, env->Spec().action);
  const RolloutResult r = Rollout(env.get(), seed, actions);
  std::fputs(args.format == "json" ? r.json.c_str() : r.text.c_str(), stdout);
  if (r.unused_actions > 0) {
    std::fprintf(stderr, "rimlab: note: the episode ended with %d action(s) unused\n",
                 r.unused_actions);
  }
  return 0;
}

int CmdEval(const EvalArgs& args) {
  const Config config = LoadConfig(args.config, args.overrides);
  const EnvConfig env_config = EnvConfigFrom(config);
  ParamReader r(config.Section("eval"), "section 'eval'");
  int episodes = static_cast<int>(r.Int("episodes", 1000, 1, 100000000));
  std::vector<std::string> splits = r.StringList("splits", {});
  r.Finish();
  if (args.episodes > 0) episodes = args.episodes;
  if (!args.splits.empty()) splits = args.splits;
  if (splits.size() == 1 && splits[0] == "all") splits = env_config.Splits();
  if (splits.empty()) splits = env_config.Splits();
  const PoolOptions pool_options = PoolOptionsFrom(config);

  std::vector<std::pair<std::string, EpisodeStats>> results;
  const std::vector<std::string> names = splits.empty() ? std::vector<std::string>{""} : splits;
  for (const auto& split : names) {
    const EnvConfig ec = split.empty() ? env_config : env_config.WithSplit(split);
    ec.Make();  // reject a bad split before starting threads
    ActorPool pool([&ec](int) { return ec.Make(); }, pool_options);
    const EpisodeStats s =
        Evaluate(&pool, episodes, RandomPolicy(pool.spec().action, pool_options.seed + 7919));
    results.emplace_back(split.empty() ? env_config.name : split, s);
  }

  if (args.format == "json") {
    nlohmann::json doc;
    doc["env"] = env_config.name;
    doc["policy"] = args.policy;
    for (const auto& kv : results) {
      const EpisodeStats& s = kv.second;
      doc["splits"][kv.first] = {{"episodes", s.episodes},
                                 {"success_rate", s.success_rate},
                                 {"success_ci95", {s.success_low, s.success_high}},
                                 {"return_mean", s.return_mean},
                                 {"return_ci95", s.return_ci95},
                                 {"length_mean", s.length_mean},
                                 {"frames", s.frames},
                                 {"seconds", s.seconds}};
    }
    std::cout << doc.dump(2) << "\n";
    return 0;
  }
  std::printf("%s, %s policy, %d episodes per split, %d envs on %d threads\n",
              env_config.name.c_str(), args.policy.c_str(), episodes, pool_options.num_envs,
              pool_options.num_threads);
  std::printf("%-10s %9s  %-22s %-18s %9s %12s\n", "split", "episodes", "success [95% CI]",
              "return (95% CI)", "length", "frames/s");
  for (const auto& kv : results) {
    const EpisodeStats& s = kv.second;
    char success[64];
    char ret[64];
    std::snprintf(success, sizeof(success), "%.3f [%.3f, %.3f]", s.success_rate, s.success_low,
                  s.success_high);
    std::snprintf(ret, sizeof(ret), "%.3f +- %.3f", s.return_mean, s.return_ci95);
    std::printf("%-10s %9d  %-22s %-18s %9.1f %12.0f\n", kv.first.c_str(), s.episodes, success, ret,
                s.length_mean, static_cast<double>(s.frames) / s.seconds);
  }
  return 0;
}

int CmdEnvs() {
  for (const auto& e : Registry::Global().entries()) {
    std::printf("%-12s %s\n", e.name.c_str(), e.summary.c_str());
    if (!e.splits.empty()) {
      std::string list;
      for (const auto& s : e.splits) list += (list.empty() ? "" : ", ") + s;
      std::printf("%-12s splits: %s\n", "", list.c_str());
    }
  }
  return 0;
}

}  // namespace rimlab
