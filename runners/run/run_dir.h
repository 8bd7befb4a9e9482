#pragma once
/// Run directories (runs/<name>/) and crash-safe file writes. A new run never reuses or
/// overwrites an earlier run's directory.

#include <string>

namespace rimlab {

/// Creates a fresh directory `root/name`, or `root/name-2`, `-3`, ... when taken (mkdir is the
/// test, so two processes never get the same one). Returns its path; throws std::runtime_error.
std::string CreateRunDir(const std::string& root, const std::string& name);

/// Writes `path` through a temporary file in the same directory, flushed and renamed over it, so
/// a crash leaves either the old file or the new one, never half of one.
void WriteFileAtomic(const std::string& path, const std::string& content);

/// "configs/copying_rim.yaml" -> "copying_rim".
std::string StemOf(const std::string& path);

}  // namespace rimlab
