// ToolMetrics: a daemon's --metrics-listen ADDR: a Registry holding the daemon's collectors,
// served by a metrics::MetricsServer on the daemon's loop (one helper for every tool).
#pragma once

#include <uv.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "meshvpn/base/log.h"
#include "meshvpn/metrics/collector.h"
#include "meshvpn/metrics/registry.h"
#include "meshvpn/metrics/uv_metrics_server.h"

namespace meshvpn::tools {

// The flag's help text, the same for every daemon.
inline constexpr const char* kMetricsListenHelp =
    "serve Prometheus metrics at http://ADDR:PORT/metrics (e.g. 127.0.0.1:9100; port 0 picks "
    "one); off when empty";

class ToolMetrics {
 public:
  // Registers `collectors` (which must outlive this object) and starts the server.
  static absl::StatusOr<std::unique_ptr<ToolMetrics>> Start(
      uv_loop_t* loop, const std::string& listen, LogSink* log,
      std::vector<metrics::Collector*> collectors);
  ~ToolMetrics();
  ToolMetrics(const ToolMetrics&) = delete;
  ToolMetrics& operator=(const ToolMetrics&) = delete;

  // "http://127.0.0.1:9100/metrics", for the start-up line.
  std::string url() const;
  metrics::Registry& registry() { return registry_; }

 private:
  ToolMetrics() = default;
  metrics::Registry registry_;  // declared first: destroyed last
  std::vector<metrics::CollectorId> ids_;
  std::unique_ptr<metrics::MetricsServer> server_;
};

}  // namespace meshvpn::tools
