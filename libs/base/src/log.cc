#include "meshvpn/base/log.h"

namespace meshvpn {

std::string_view ToString(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "unknown";
}

NullLogSink& NullLogSink::Instance() {
  static NullLogSink sink;
  return sink;
}

void MemoryLogSink::Write(LogLevel level, std::string_view component, std::string_view message) {
  std::lock_guard<std::mutex> lock(mu_);
  lines_.push_back({level, std::string(component), std::string(message)});
}

std::vector<MemoryLogSink::Line> MemoryLogSink::Lines() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lines_;
}

bool MemoryLogSink::Contains(std::string_view needle) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const Line& line : lines_) {
    if (line.message.find(needle) != std::string::npos) return true;
  }
  return false;
}

}  // namespace meshvpn
