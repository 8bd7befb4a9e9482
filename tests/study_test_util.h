#pragma once
// What the `rimlab compare` tests share: a fresh scratch directory, and bad study files that must
// each end in one line on stderr naming the file and the key, with exit status 2 and no cell
// started.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/cli_run.h"

namespace study_test {

inline void FreshDir(const std::string& dir) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
}

struct BadStudy {
  const char* what;
  std::string text;    ///< the study file
  std::string expect;  ///< in the error, e.g. ":5: key 'name'"
};

/// Runs `rimlab compare` on each bad study, written to dir/bad.yaml with its output to dir/bad.
inline void CheckBadStudies(const std::string& dir, const std::vector<BadStudy>& cases) {
  for (const auto& c : cases) {
    const std::string path = dir + "/bad.yaml";
    cli_test::WriteFile(path, c.text);
    const cli_test::Result r = cli_test::Run("compare " + path + " --out " + dir + "/bad");
    INFO(c.what << "\n" << r.err);
    CHECK(r.status == 2);
    CHECK(cli_test::Lines(r.err) == 1);
    CHECK(r.err.find(path) != std::string::npos);
    CHECK(r.err.find(c.expect) != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(dir + "/bad/cells"));  // nothing was started
  }
}

}  // namespace study_test
