// ServerMetrics: the coordination server's state and counters as Prometheus metrics (a
// metrics::Collector): nodes known and online, registrations by outcome, map requests, map
// messages and bytes streamed, expiries, ephemeral deletions, store errors.
#pragma once

#include <vector>

#include "meshvpn/control/uv_control_server.h"
#include "meshvpn/metrics/collector.h"

namespace meshvpn::control {

// Families meshvpn_control_* (listed in docs/control.md). Threading: reads the server without a
// lock: scrape on the server's loop thread (metrics::MetricsServer on the same loop does).
class ServerMetrics final : public metrics::Collector {
 public:
  explicit ServerMetrics(const ControlServer* server) : server_(server) {}
  std::vector<metrics::FamilyDesc> Describe() const override;
  void Collect(metrics::CollectOutput& out) override;

 private:
  const ControlServer* server_;
};

}  // namespace meshvpn::control
