#pragma once
// Running the rimlab binary (RIMLAB_BINARY, set by CMake) as a user runs it, for the command-line
// tests: status, stdout and stderr apart.

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

namespace cli_test {

struct Result {
  int status = -1;
  std::string out;
  std::string err;
};

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

// Runs `rimlab ARGS`; stderr goes through a file named after this process, so that tests run
// side by side by ctest do not read each other's.
inline Result Run(const std::string& args) {
  const std::string err_path = "build-test-" + std::to_string(getpid()) + ".stderr";
  const std::string cmd = std::string(RIMLAB_BINARY) + " " + args + " 2>" + err_path;
  Result r;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return r;
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.out.append(buf.data(), n);
  const int raw = pclose(pipe);
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  r.err = ReadFile(err_path);
  std::remove(err_path.c_str());
  return r;
}

inline int Lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n' ? 1 : 0;
  return n;
}

}  // namespace cli_test
