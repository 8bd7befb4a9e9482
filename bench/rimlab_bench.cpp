#include "bench/bench.h"

int main(int argc, char** argv) {
  return rimlab::bench::BenchMain(argc, argv);
}
