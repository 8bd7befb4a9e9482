#include <cstdio>

#include "bench/bench.h"

namespace rimlab::bench {

void Report(const std::string& name, double value, const std::string& unit) {
  std::printf("%-44s %14.4g  %s\n", name.c_str(), value, unit.c_str());
  std::fflush(stdout);
}

}  // namespace rimlab::bench
