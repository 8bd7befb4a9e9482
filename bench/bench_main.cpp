#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "bench/bench.h"

namespace rimlab::bench {

namespace {
void Usage(const char* prog) {
  std::printf("usage: %s SUITE [--seconds S] [--quick] [key=value ...]\n\nsuites:\n", prog);
  for (const auto& s : Suites()) std::printf("  %-10s %s\n", s.name, s.summary);
}
}  // namespace

int BenchMain(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    Usage(argv[0]);
    return argc < 2 ? 2 : 0;
  }
  const std::string name = argv[1];
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") != 0 && std::strcmp(argv[i], "-h") != 0) continue;
    for (const auto& s : Suites()) {
      if (name != s.name) continue;
      std::printf("%s %s [--seconds S] [--quick] [key=value ...]\n%s\n\nkeys:\n  %s\n", argv[0],
                  s.name, s.summary, s.keys);
      return 0;
    }
  }
  BenchArgs args;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--quick") {
      args.quick = true;
    } else if (a == "--seconds" && i + 1 < argc) {
      char* end = nullptr;
      args.seconds = std::strtod(argv[++i], &end);
      if (end == nullptr || *end != '\0' || !(args.seconds > 0)) {
        std::fprintf(stderr, "error: --seconds expects a positive number, got '%s'\n", argv[i]);
        return 2;
      }
    } else if (a.find('=') != std::string::npos) {
      args.extra.push_back(a);
    } else {
      std::fprintf(stderr, "error: unknown bench argument '%s' (see --help)\n", a.c_str());
      return 2;
    }
  }
  for (const auto& s : Suites()) {
    if (name == s.name) return s.run(args);
  }
  std::fprintf(stderr, "error: unknown bench suite '%s'; known:", name.c_str());
  for (const auto& s : Suites()) std::fprintf(stderr, " %s", s.name);
  std::fprintf(stderr, "\n");
  return 2;
}

}  // namespace rimlab::bench
