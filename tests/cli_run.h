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

// Starts `rimlab ARGS` with its output in `out_path`, waits until the shell test `until` holds
// (at most 120 s), sends Ctrl-C and returns the exit status the run ends with ("130" when it
// stopped on the signal). A background job of a non-interactive shell starts with SIGINT
// ignored until the program installs its handler, so `until` must wait for a sign that it has;
// a watchdog kills a run that has not stopped 5 minutes after the signal.
inline std::string RunInterrupted(const std::string& args, const std::string& out_path,
                                  const std::string& until) {
  const std::string script = std::string(RIMLAB_BINARY) + " " + args + " > " + out_path +
                             " 2>&1 & pid=$!; i=0; while [ $i -lt 2400 ] && kill -0 $pid "
                             "2>/dev/null && ! (" +
                             until +
                             ") >/dev/null 2>&1; do sleep 0.05; i=$((i+1)); done; "
                             "kill -INT $pid; (sleep 300; kill -KILL $pid) >/dev/null 2>&1 & "
                             "dog=$!; wait $pid; status=$?; kill $dog 2>/dev/null; echo $status";
  FILE* p = popen(script.c_str(), "r");
  if (p == nullptr) return "";
  std::array<char, 64> buf{};
  std::string status = fgets(buf.data(), 64, p) != nullptr ? buf.data() : "";
  pclose(p);
  while (!status.empty() && status.back() == '\n') status.pop_back();
  return status;
}

inline int Lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n' ? 1 : 0;
  return n;
}

}  // namespace cli_test
