// The table of suites. Compiled once without LibTorch (rimlab_bench) and once with it (the
// rimlab CLI), so that env and pool figures can be measured in a torch-free build too.
#include "bench/bench.h"

namespace rimlab::bench {

int RunEnvsSuite(const BenchArgs& args);
int RunPoolSuite(const BenchArgs& args);
#ifdef RIMLAB_BENCH_TORCH
int RunCoresSuite(const BenchArgs& args);
int RunCopyingSuite(const BenchArgs& args);
int RunPpoSuite(const BenchArgs& args);
#endif

const std::vector<Suite>& Suites() {
  static const std::vector<Suite> suites = {
      {"envs", "environment steps/s on one thread, random actions, resets included", RunEnvsSuite},
      {"pool", "actor pool steps/s on 64 envs: 1 vs 2 threads, sync vs async, allocs/step",
       RunPoolSuite},
#ifdef RIMLAB_BENCH_TORCH
      {"cores", "recurrent cores: RIM vs LSTM-600/GRU-600, train and inference per step",
       RunCoresSuite},
      {"copying", "the paper's copying task: train, then test on a longer blank span",
       RunCopyingSuite},
      {"ppo", "end-to-end PPO frames/s, LSTM and RIM policies, rl-starter-files settings",
       RunPpoSuite},
#endif
  };
  return suites;
}

}  // namespace rimlab::bench
