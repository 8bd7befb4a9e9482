// The table of suites. Compiled once without LibTorch (rimlab_bench) and once with it (the
// rimlab CLI), so that env and pool figures can be measured in a torch-free build too.
#include "bench/bench.h"

namespace rimlab::bench {

#ifdef RIMLAB_BENCH_TORCH
#endif

const std::vector<Suite>& Suites() {
  static const std::vector<Suite> suites = {
#ifdef RIMLAB_BENCH_TORCH
#endif
  };
  return suites;
}

}  // namespace rimlab::bench
