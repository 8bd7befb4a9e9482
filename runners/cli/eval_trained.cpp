// `rimlab eval RUN [RUN ...]`: trained policies on any of their env's splits, side by side. The
// evaluation envs are seeded apart from the training envs (seed + 1000003 + i), so the episodes
// are held out even on the training split (EvaluateTrainedPolicy).
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "runners/cli/commands.h"
#include "runners/config/env_config.h"
#include "runners/train/evaluate.h"
#include "runners/train/policy.h"

namespace rimlab {

namespace {

std::string Label(const TrainedPolicy& p) {
  std::string name = p.run_dir;
  while (!name.empty() && name.back() == '/') name.pop_back();
  const auto slash = name.find_last_of('/');
  return slash == std::string::npos ? name : name.substr(slash + 1);
}
}  // namespace

int CmdEvalTrained(const EvalArgs& args) {
  std::vector<std::string> paths = {args.config};
  for (const auto& o : args.overrides) {
    if (o.find('=') != std::string::npos) {
      throw std::invalid_argument("eval: overrides ('" + o +
                                  "') do not apply to trained runs; their config is fixed");
    }
    paths.push_back(o);
  }
  std::vector<TrainedPolicy> policies;
  for (const auto& p : paths) policies.push_back(LoadTrainedPolicy(p));

  // Splits and episode counts: the command line, else the first run's eval section, else all.
  const EnvConfig first_env = EnvConfigFrom(policies[0].config);
  std::vector<std::string> splits = args.splits;
  int episodes = args.episodes;
  {
    ParamReader r(policies[0].config.Section("eval"), "section 'eval'");
    const auto configured = r.StringList("splits", {});
    const int configured_episodes = static_cast<int>(r.Int("episodes", 200, 0, 100000000));
    if (splits.empty()) splits = configured;
    if (episodes <= 0) episodes = configured_episodes > 0 ? configured_episodes : 200;
  }
  if ((splits.size() == 1 && splits[0] == "all") || splits.empty()) splits = first_env.Splits();
  if (splits.empty()) splits.push_back("");

  // results[run][split]
  std::vector<std::vector<EpisodeStats>> results(policies.size());
  for (size_t k = 0; k < policies.size(); ++k) {
    results[k] = EvaluateTrainedPolicy(policies[k], splits, episodes, args.greedy);
  }

  if (args.format == "json") {
    nlohmann::json doc;
    for (size_t k = 0; k < policies.size(); ++k) {
      nlohmann::json run;
      run["checkpoint"] = policies[k].checkpoint;
      for (size_t s = 0; s < splits.size(); ++s) {
        const auto& st = results[k][s];
        run["splits"][splits[s].empty() ? first_env.name : splits[s]] = {
            {"episodes", st.episodes},
            {"success_rate", st.success_rate},
            {"success_ci95", {st.success_low, st.success_high}},
            {"return_mean", st.return_mean},
            {"return_ci95", st.return_ci95},
            {"length_mean", st.length_mean}};
      }
      doc["runs"][policies[k].run_dir] = run;
    }
    doc["greedy"] = args.greedy;
    std::cout << doc.dump(2) << "\n";
    return 0;
  }
  std::printf("success rate [95%% CI] over %d episodes per split (%s actions)\n", episodes,
              args.greedy ? "greedy" : "sampled");
  std::printf("%-10s", "split");
  for (const auto& p : policies) std::printf("  %-24s", Label(p).c_str());
  std::printf("\n");
  for (size_t s = 0; s < splits.size(); ++s) {
    std::printf("%-10s", splits[s].empty() ? first_env.name.c_str() : splits[s].c_str());
    for (size_t k = 0; k < policies.size(); ++k) {
      const auto& st = results[k][s];
      char cell[64];
      std::snprintf(cell, sizeof(cell), "%.3f [%.3f, %.3f]", st.success_rate, st.success_low,
                    st.success_high);
      std::printf("  %-24s", cell);
    }
    std::printf("\n");
  }
  for (const auto& p : policies) {
    std::printf("%s: %s\n", Label(p).c_str(), p.checkpoint.c_str());
  }
  return 0;
}

}  // namespace rimlab
