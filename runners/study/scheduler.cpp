#include "runners/study/scheduler.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include "runners/run/progress.h"
#include "runners/run/stop_signal.h"

namespace rimlab::study {

namespace {

struct Running {
  size_t job = 0;
  pid_t pid = -1;
  double start_progress = 0.0;
};

pid_t Spawn(const CellJob& job) {
  std::vector<char*> argv;
  for (const auto& a : job.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("cannot start cell " + job.id + ": fork failed");
  if (pid == 0) {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGINT);
    if (getppid() != parent) _exit(130);  // the scheduler died before prctl took effect
    const int fd = open(job.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
      close(fd);
    }
    const int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    const char* program = job.program.empty() ? argv[0] : job.program.c_str();
    execv(program, argv.data());
    std::fprintf(stderr, "cannot execute %s\n", program);
    _exit(127);
  }
  return pid;
}

}  // namespace

std::string SelfExecutable() {
  std::error_code ec;
  const auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw std::runtime_error("cannot find the running executable (/proc/self/exe)");
  return p.string();
}

std::string FormatStudyProgress(int done, int total,
                                const std::vector<std::pair<std::string, double>>& running,
                                double elapsed_seconds, double eta_seconds) {
  std::string s = "cells " + std::to_string(done) + "/" + std::to_string(total) + " done";
  if (!running.empty()) {
    s += ", " + std::to_string(running.size()) + " running (";
    for (size_t i = 0; i < running.size(); ++i) {
      char pct[32];
      std::snprintf(pct, sizeof(pct), " %.0f%%", 100.0 * running[i].second);
      s += (i ? ", " : "") + running[i].first + pct;
    }
    s += ")";
  }
  s += ", elapsed " + FormatDuration(elapsed_seconds);
  if (eta_seconds >= 0.0) s += ", eta " + FormatDuration(eta_seconds);
  return s;
}

ScheduleResult RunCells(const std::vector<CellJob>& jobs, int parallel, int already_done,
                        bool show_progress) {
  ScheduleResult result;
  StopSignalScope stop;
  const bool tty = isatty(STDOUT_FILENO) != 0;
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  std::vector<Running> running;
  size_t next = 0;
  bool forwarded = false;
  double last_shown = -1e300;
  double done_work = 0.0;  // cells' progress gained since the start, in cells
  const int total = already_done + static_cast<int>(jobs.size());

  auto show = [&](bool force) {
    if (!show_progress) return;
    const double t = elapsed();
    if (!force && t - last_shown < (tty ? 1.0 : 30.0)) return;
    last_shown = t;
    std::vector<std::pair<std::string, double>> progress;
    double work = done_work;
    for (const auto& r : running) {
      const double p = jobs[r.job].progress ? jobs[r.job].progress() : 0.0;
      progress.emplace_back(jobs[r.job].id, p);
      work += std::max(0.0, p - r.start_progress);
    }
    double remaining = 0.0;
    for (const auto& pr : progress) remaining += 1.0 - pr.second;
    remaining += static_cast<double>(jobs.size() - next);
    const double eta = work > 0.02 && t > 5.0 ? t / work * remaining : -1.0;
    const std::string line = FormatStudyProgress(
        already_done + static_cast<int>(result.finished.size()), total, progress, t, eta);
    if (tty) {
      std::printf("\r%-150s", line.c_str());
    } else {
      std::printf("%s\n", line.c_str());
    }
    std::fflush(stdout);
  };

  while (next < jobs.size() || !running.empty()) {
    if (StopRequested() && !forwarded) {
      forwarded = true;
      result.interrupted = true;
      for (const auto& r : running) kill(r.pid, SIGINT);
    }
    while (!StopRequested() && next < jobs.size() && static_cast<int>(running.size()) < parallel) {
      Running r;
      r.job = next;
      r.start_progress = jobs[next].progress ? jobs[next].progress() : 0.0;
      r.pid = Spawn(jobs[next]);
      running.push_back(r);
      ++next;
      show(true);
    }
    if (StopRequested()) next = jobs.size();
    for (size_t i = 0; i < running.size();) {
      int status = 0;
      const pid_t w = waitpid(running[i].pid, &status, WNOHANG);
      if (w == 0) {
        ++i;
        continue;
      }
      const CellJob& job = jobs[running[i].job];
      const int code = w < 0                 ? 1
                       : WIFEXITED(status)   ? WEXITSTATUS(status)
                       : WIFSIGNALED(status) ? 128 + WTERMSIG(status)
                                             : 1;
      if (code == 0) {
        result.finished.push_back(job.id);
        done_work += 1.0 - running[i].start_progress;
      } else if (!(forwarded && code == 130)) {
        result.failed.emplace_back(job.id, code);
      }
      running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
      if (tty && show_progress) std::printf("\n");
      if (code != 0 && !(forwarded && code == 130) && show_progress) {
        std::printf("cell %s failed (exit status %d); its log: %s\n", job.id.c_str(), code,
                    job.log_path.c_str());
      }
      show(true);
    }
    show(false);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  if (tty && show_progress) std::printf("\n");
  return result;
}

}  // namespace rimlab::study
