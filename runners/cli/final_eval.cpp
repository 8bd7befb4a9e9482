#include "runners/cli/final_eval.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "runners/run/run_dir.h"
#include "runners/train/evaluate.h"
#include "runners/train/policy.h"

namespace rimlab {

EvalOptions EvalOptionsFrom(const Config& config) {
  EvalOptions o;
  ParamReader r(config.Section("eval"), "section 'eval'");
  o.episodes = static_cast<int>(r.Int("episodes", o.episodes, 0, 100000000));
  o.splits = r.StringList("splits", {});
  o.greedy = r.Bool("greedy", o.greedy);
  r.Finish();
  return o;
}

void RunFinalEvaluation(agents::ActorCritic model, const EnvConfig& env_config,
                        const PoolOptions& pool_options, const EvalOptions& eval, uint64_t seed,
                        const std::string& checkpoint, const std::string& dir) {
  if (eval.episodes <= 0) return;
  std::vector<std::string> splits = eval.splits;
  if (splits.empty()) splits.push_back("");
  nlohmann::json doc;
  std::printf("%-10s %9s  %-22s %-18s\n", "split", "episodes", "success [95% CI]",
              "return (95% CI)");
  for (const auto& split : splits) {
    const EnvConfig ec = split.empty() ? env_config : env_config.WithSplit(split);
    ActorPool eval_pool([&ec](int) { return ec.Make(); }, pool_options);
    const EpisodeStats st = Evaluate(
        &eval_pool, eval.episodes,
        RecurrentPolicy(model, eval_pool.spec(), eval_pool.num_envs(), eval.greedy, seed + 104729));
    const std::string label = split.empty() ? env_config.name : split;
    std::printf("%-10s %9d  %.3f [%.3f, %.3f]    %.3f +- %.3f\n", label.c_str(), st.episodes,
                st.success_rate, st.success_low, st.success_high, st.return_mean, st.return_ci95);
    doc["splits"][label] = {{"episodes", st.episodes},
                            {"success_rate", st.success_rate},
                            {"success_ci95", {st.success_low, st.success_high}},
                            {"return_mean", st.return_mean},
                            {"return_ci95", st.return_ci95},
                            {"length_mean", st.length_mean}};
  }
  doc["checkpoint"] = checkpoint;
  doc["greedy"] = eval.greedy;
  WriteFileAtomic(dir + "/eval.json", doc.dump(2) + "\n");
}

}  // namespace rimlab
