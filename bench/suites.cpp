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
int RunBallsSuite(const BenchArgs& args);
#endif

const std::vector<Suite>& Suites() {
  static const std::vector<Suite> suites = {
      {"envs", "environment steps/s on one thread, random actions, resets included", RunEnvsSuite,
       "no keys; --seconds S per env"},
      {"pool",
       "actor pool steps/s on 64 envs: 1 vs 2 threads, sync vs async vs a bare barrier, "
       "allocs/step",
       RunPoolSuite,
       "env=pickup|balls_touch|counter  envs=64  batch=N (async batch)  spin=MICROSECONDS; "
       "--seconds S per "
       "configuration, in interleaved 10 ms slices"},
#ifdef RIMLAB_BENCH_TORCH
      {"cores", "recurrent cores: RIM vs LSTM-600/GRU-600, train and inference per step",
       RunCoresSuite,
       "threads=2 (torch intra-op)  input=64  T=32  batch=64  rounds=5  only=lstm|gru|rim\n"
       "  rim_ops=1 (also the RIM cell operator by operator, unfused)\n"
       "  gemm=direct (or a list of direct, packed, blas: the per-step weight products read in\n"
       "  place or packed, packed or sgemm, all sgemm; each measured in the same rounds)\n"
       "  blas=1 (the same as gemm=direct,blas)  profile=PREFIX (autograd traces)"},
      {"copying", "the paper's copying task: train, then test on a longer blank span",
       RunCopyingSuite,
       "config=configs/copying_rim.yaml, then any key=value of that config (core.top_k=2, ...)"},
      {"balls",
       "bouncing balls: Box2D's step vs our world vs the env, balls-data sequences/s, "
       "prediction training sequences/s (RIM vs LSTM)",
       RunBallsSuite,
       "threads=1 (torch threads for training)  updates=3  rounds=2; --seconds S for the "
       "physics, in interleaved 10 ms slices"},
      {"ppo", "end-to-end PPO frames/s, LSTM and RIM policies, rl-starter-files settings",
       RunPpoSuite,
       "threads=1 (torch intra-op)  pool_threads=2  rounds=3  iterations=3\n"
       "  learner_threads=2 (or a list, 1,2: each measured in the same rounds)\n"
       "  fused=1 (or 1,0: also torch's operators in place of the fused conv, cells and loss)\n"
       "  gemm=direct (or a list of direct, packed, blas: the cells' weight products, as cores)\n"
       "  update_threads=N (torch threads for the update only)  cores=lstm,rim\n"
       "  rim_units=6  rim_top_k=4  rim_dropout=0.1 (the configs')\n"
       "  breakdown=1 (per-minibatch timings)  ops=N (top operators by self time and input\n"
       "  shapes)  profile=PREFIX (autograd traces)  mkldnn=0"},
#endif
  };
  return suites;
}

}  // namespace rimlab::bench
