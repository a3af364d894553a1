// Helpers shared by bench_control_server and bench_control_clients: commands read line by line
// from stdin while the loop runs, the open-files limit raised to its hard limit, the process's
// CPU time and memory.
#pragma once

#include <fcntl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <string>

namespace meshvpn::bench {

// Raises the soft RLIMIT_NOFILE to the hard limit; returns the new soft limit.
inline uint64_t RaiseOpenFiles() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
  rl.rlim_cur = rl.rlim_max;
  (void)setrlimit(RLIMIT_NOFILE, &rl);
  (void)getrlimit(RLIMIT_NOFILE, &rl);
  return rl.rlim_cur;
}

// User + system CPU seconds of this process (CLOCK_PROCESS_CPUTIME_ID: nanoseconds, where
// getrusage here counts whole milliseconds).
inline double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// A "VmRSS:" style line of /proc/self/status, in kB (0 if absent).
inline uint64_t ProcStatusKb(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stoull(line.substr(field.size() + 1));
  }
  return 0;
}

inline double SecondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Reads stdin (a pipe or a terminal) with a uv_poll while the loop runs and calls `on_line`
// for every line; `on_eof` when stdin closes.
class StdinLines {
 public:
  StdinLines(uv_loop_t* loop, std::function<void(const std::string&)> on_line,
             std::function<void()> on_eof)
      : on_line_(std::move(on_line)), on_eof_(std::move(on_eof)) {
    ::fcntl(0, F_SETFL, ::fcntl(0, F_GETFL) | O_NONBLOCK);
    poll_ = new uv_poll_t{};
    uv_poll_init(loop, poll_, 0);
    poll_->data = this;
    uv_poll_start(poll_, UV_READABLE, &StdinLines::OnReadable);
  }
  ~StdinLines() { Stop(); }
  StdinLines(const StdinLines&) = delete;
  StdinLines& operator=(const StdinLines&) = delete;

  void Stop() {
    if (poll_ == nullptr) return;
    uv_poll_stop(poll_);
    uv_close(reinterpret_cast<uv_handle_t*>(poll_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    poll_ = nullptr;
  }

 private:
  static void OnReadable(uv_poll_t* handle, int /*status*/, int /*events*/) {
    static_cast<StdinLines*>(handle->data)->Read();
  }
  void Read() {
    char buf[4096];
    for (;;) {
      const ssize_t n = ::read(0, buf, sizeof buf);
      if (n > 0) {
        pending_.append(buf, static_cast<size_t>(n));
        size_t nl;
        while ((nl = pending_.find('\n')) != std::string::npos) {
          std::string line = pending_.substr(0, nl);
          pending_.erase(0, nl + 1);
          if (!line.empty() && line.back() == '\r') line.pop_back();
          on_line_(line);
          if (poll_ == nullptr) return;
        }
        continue;
      }
      if (n == 0) {
        Stop();
        on_eof_();
      }
      return;  // EAGAIN, or an error: wait for the next event
    }
  }

  std::function<void(const std::string&)> on_line_;
  std::function<void()> on_eof_;
  uv_poll_t* poll_ = nullptr;
  std::string pending_;
};

}  // namespace meshvpn::bench
