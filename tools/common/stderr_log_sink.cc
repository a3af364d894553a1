#include "common/stderr_log_sink.h"

#include <cstdio>
#include <mutex>

namespace meshvpn::tools {

void StderrLogSink::Write(LogLevel level, std::string_view component, std::string_view message) {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  if (level >= LogLevel::kWarning) {
    std::fprintf(stderr, "[%.*s] %.*s: %.*s\n", static_cast<int>(component.size()),
                 component.data(), static_cast<int>(ToString(level).size()), ToString(level).data(),
                 static_cast<int>(message.size()), message.data());
  } else {
    std::fprintf(stderr, "[%.*s] %.*s\n", static_cast<int>(component.size()), component.data(),
                 static_cast<int>(message.size()), message.data());
  }
}

}  // namespace meshvpn::tools
