#pragma once
// What the tests of on-disk formats share: a temporary directory removed at the end, and Debian's
// python3 (with python3-h5py) to read our files the way users' tools do.

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace file_test {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "rimlab_test_XXXXXX").string();
    path = mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

/// Runs `script` with /usr/bin/python3: the `python3` first on PATH may be another one, without
/// h5py. The script must not contain single quotes.
inline int RunPython(const std::string& script) {
  const std::string cmd = "/usr/bin/python3 -c '" + script + "'";
  return std::system(cmd.c_str());
}

}  // namespace file_test
