#pragma once
/// Ctrl-C and SIGTERM for training loops: the first asks the loop to stop at its next boundary
/// (it saves a checkpoint and exits), a second kills the process the usual way.

namespace rimlab {

/// Installs the handlers for its lifetime and clears the flag; the defaults come back however
/// the loop ends.
class StopSignalScope {
 public:
  StopSignalScope();
  ~StopSignalScope();
  StopSignalScope(const StopSignalScope&) = delete;
  StopSignalScope& operator=(const StopSignalScope&) = delete;
};

/// Whether a stop was asked for since the current scope began.
bool StopRequested();

}  // namespace rimlab
