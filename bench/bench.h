#pragma once
/// Benchmark suites for `rimlab bench SUITE` and the torch-free `rimlab_bench`. Each suite prints
/// one line per figure, `name  value  unit`, and a ratio wherever a baseline runs in-process.

#include <string>
#include <vector>

namespace rimlab::bench {

struct BenchArgs {
  double seconds = 2.0;            ///< wall time to spend on each measurement
  bool quick = false;              ///< smoke-test sizes, for tests of the benches themselves
  std::vector<std::string> extra;  ///< suite-specific key=value arguments
};

/// Prints `name  value  unit` with aligned columns and flushes.
void Report(const std::string& name, double value, const std::string& unit);

using SuiteFn = int (*)(const BenchArgs& args);

struct Suite {
  const char* name;
  const char* summary;
  SuiteFn run;
  const char* keys = "";  ///< its key=value arguments, for `rimlab bench SUITE --help`
};

/// The suites compiled into this binary (torch suites only when built with LibTorch).
const std::vector<Suite>& Suites();

/// Parses the common flags (--seconds S, --quick, key=value) and runs the named suite; returns the
/// process exit code. Shared by `rimlab bench` and `rimlab_bench`.
int BenchMain(int argc, char** argv);

}  // namespace rimlab::bench
