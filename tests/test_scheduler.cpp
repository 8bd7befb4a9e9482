// The study scheduler (runners/study/scheduler.h) running real child processes: a job's
// `program` is what runs (argv[0] only names it), "/proc/self/exe" runs the scheduler's own
// executable, a cell that cannot start or fails is reported with its status, and each log gets
// its cell's output.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

#include "runners/study/scheduler.h"

namespace fs = std::filesystem;
using rimlab::study::CellJob;
using rimlab::study::RunCells;

namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Scratch() {
  const auto dir =
      fs::temp_directory_path() / ("rimlab_test_scheduler_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

CellJob Job(const std::string& id, const std::string& dir, std::vector<std::string> argv,
            std::string program = "") {
  CellJob j;
  j.id = id;
  j.argv = std::move(argv);
  j.program = std::move(program);
  j.log_path = dir + "/" + id + ".log";
  j.progress = [] { return 0.0; };
  return j;
}

}  // namespace

TEST_CASE("RunCells runs each job's program with its argv and reports failures", "[study]") {
  const std::string dir = Scratch();
  // argv[0] is no file: the job runs only if `program` is what is executed.
  auto named =
      Job("named", dir, {"not-a-program", "-c", "echo ran as $0 with $1", "sh0", "x"}, "/bin/sh");
  auto self = Job("self", dir, {"rimlab-cell", "[.child]"}, "/proc/self/exe");
  auto missing = Job("missing", dir, {dir + "/no-such-program"});
  auto failing = Job("failing", dir, {"/bin/sh", "-c", "exit 3"});
  const auto r = RunCells({named, self, missing, failing}, 2, 0, false);
  CHECK_FALSE(r.interrupted);
  auto finished = r.finished;
  std::sort(finished.begin(), finished.end());
  CHECK(finished == std::vector<std::string>{"named", "self"});
  auto failed = r.failed;
  std::sort(failed.begin(), failed.end());
  REQUIRE(failed.size() == 2);
  CHECK(failed[0] == std::make_pair(std::string("failing"), 3));
  CHECK(failed[1] == std::make_pair(std::string("missing"), 127));
  CHECK(Slurp(dir + "/named.log") == "ran as sh0 with x\n");
  // This test executable, run again by /proc/self/exe, ran its hidden child case.
  CHECK(Slurp(dir + "/self.log").find("child of the scheduler test") != std::string::npos);
  CHECK(Slurp(dir + "/missing.log").find("cannot execute " + dir + "/no-such-program") !=
        std::string::npos);
  fs::remove_all(dir);
}

// Run only as the child above (hidden: "[.child]").
TEST_CASE("the scheduler test's child", "[.child]") {
  std::printf("child of the scheduler test\n");
  std::fflush(stdout);
}
