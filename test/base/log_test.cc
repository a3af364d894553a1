#include "meshvpn/base/log.h"

#include <catch2/catch.hpp>

namespace meshvpn {
namespace {

TEST_CASE("Logger formats and filters by level") {
  MemoryLogSink sink;
  Logger log(&sink, "udp", LogLevel::kInfo);
  log.Debug("hidden %d", 1);
  log.Info("peer %s joined after %d ms", "10.0.0.1:4000", 12);
  log.Error("bind failed");
  const auto lines = sink.Lines();
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].level == LogLevel::kInfo);
  CHECK(lines[0].component == "udp");
  CHECK(lines[0].message == "peer 10.0.0.1:4000 joined after 12 ms");
  CHECK(lines[1].level == LogLevel::kError);
  CHECK(sink.Contains("bind"));
  CHECK_FALSE(sink.Contains("hidden"));
}

TEST_CASE("a default Logger writes nowhere and a null sink is replaced by the null sink") {
  Logger quiet;
  quiet.Error("nobody hears this %d", 1);
  Logger also_quiet(nullptr, "x");
  also_quiet.Error("nor this");
  CHECK(ToString(LogLevel::kWarning) == "warning");
}

}  // namespace
}  // namespace meshvpn
