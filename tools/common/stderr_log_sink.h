// The log sink tools use: writes "[component] message" lines to stderr.
#pragma once

#include "meshvpn/base/log.h"

namespace meshvpn::tools {

class StderrLogSink final : public LogSink {
 public:
  void Write(LogLevel level, std::string_view component, std::string_view message) override;
};

}  // namespace meshvpn::tools
