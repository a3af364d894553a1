// The log sink interface: libraries never print, they hand lines to a sink the embedder sets.
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_format.h"

namespace meshvpn {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };
std::string_view ToString(LogLevel level);

// Receives formatted log lines. Implementations must be safe to call from any thread.
// Never pass secrets: keys are not printable by type, and callers log lengths, not contents.
class LogSink {
 public:
  virtual ~LogSink() = default;
  virtual void Write(LogLevel level, std::string_view component, std::string_view message) = 0;
};

// Discards everything: the default when an embedder sets no sink.
class NullLogSink final : public LogSink {
 public:
  void Write(LogLevel, std::string_view, std::string_view) override {}
  static NullLogSink& Instance();
};

// Keeps every line in memory; tests use it to check what was (and was not) logged.
class MemoryLogSink final : public LogSink {
 public:
  struct Line {
    LogLevel level;
    std::string component;
    std::string message;
  };
  void Write(LogLevel level, std::string_view component, std::string_view message) override;
  std::vector<Line> Lines() const;
  // True if any line's message contains `needle`.
  bool Contains(std::string_view needle) const;

 private:
  mutable std::mutex mu_;
  std::vector<Line> lines_;
};

// A component's handle on a sink: filters by level and formats with absl::StrFormat.
// Not for the per-packet path (formatting allocates); count drops there instead.
class Logger {
 public:
  Logger() : sink_(&NullLogSink::Instance()) {}
  Logger(LogSink* sink, std::string component, LogLevel min_level = LogLevel::kInfo)
      : sink_(sink ? sink : &NullLogSink::Instance()),
        component_(std::move(component)),
        min_level_(min_level) {}

  bool Enabled(LogLevel level) const { return level >= min_level_; }
  void set_min_level(LogLevel level) { min_level_ = level; }
  const std::string& component() const { return component_; }

  template <typename... Args>
  void Log(LogLevel level, const absl::FormatSpec<Args...>& format, const Args&... args) const {
    if (Enabled(level)) sink_->Write(level, component_, absl::StrFormat(format, args...));
  }
  template <typename... Args>
  void Debug(const absl::FormatSpec<Args...>& format, const Args&... args) const {
    Log(LogLevel::kDebug, format, args...);
  }
  template <typename... Args>
  void Info(const absl::FormatSpec<Args...>& format, const Args&... args) const {
    Log(LogLevel::kInfo, format, args...);
  }
  template <typename... Args>
  void Warning(const absl::FormatSpec<Args...>& format, const Args&... args) const {
    Log(LogLevel::kWarning, format, args...);
  }
  template <typename... Args>
  void Error(const absl::FormatSpec<Args...>& format, const Args&... args) const {
    Log(LogLevel::kError, format, args...);
  }

 private:
  LogSink* sink_;
  std::string component_;
  LogLevel min_level_ = LogLevel::kInfo;
};

}  // namespace meshvpn
