#include "agents/worker_thread.h"

#include <ATen/Parallel.h>

namespace rimlab::agents {

WorkerThread::WorkerThread() : thread_([this] { Loop(); }) {}

WorkerThread::~WorkerThread() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void WorkerThread::Start(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    task_ = std::move(fn);
    done_ = false;
    error_ = nullptr;
  }
  cv_.notify_all();
}

void WorkerThread::Wait() {
  std::unique_lock<std::mutex> lock(mutex_);
  cv_.wait(lock, [this] { return done_; });
  if (error_) std::rethrow_exception(error_);
}

void WorkerThread::Loop() {
  // A new thread's OpenMP thread count is the process default (every core), not torch's
  // setting: without this, BLAS calls from here would start their own team of threads.
  at::init_num_threads();
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    cv_.wait(lock, [this] { return stop_ || task_; });
    if (stop_) return;
    auto fn = std::move(task_);
    task_ = nullptr;
    lock.unlock();
    std::exception_ptr caught;
    try {
      fn();
    } catch (...) {
      caught = std::current_exception();
    }
    lock.lock();
    error_ = caught;
    done_ = true;
    cv_.notify_all();
  }
}

}  // namespace rimlab::agents
