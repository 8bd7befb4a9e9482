#pragma once
/// One persistent thread that runs a task when asked and reports when it is done. The policy's
/// small forward and backward passes are split over threads many times a second; starting a
/// thread each time would cost more than the work it shares.

#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

namespace rimlab::agents {

class WorkerThread {
 public:
  WorkerThread();
  ~WorkerThread();
  WorkerThread(const WorkerThread&) = delete;
  WorkerThread& operator=(const WorkerThread&) = delete;

  /// Runs fn on the thread; the previous task must have been waited for.
  void Start(std::function<void()> fn);
  /// Blocks until the task is done; rethrows what it threw.
  void Wait();

 private:
  void Loop();

  std::mutex mutex_;
  std::condition_variable cv_;
  std::function<void()> task_;
  bool done_ = true;
  bool stop_ = false;
  std::exception_ptr error_;
  std::thread thread_;  // last: starts after the members it uses exist
};

}  // namespace rimlab::agents
