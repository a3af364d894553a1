// ServerMetrics: a DERP server core's ServerStats as Prometheus metrics (a metrics::Collector):
// connections, handshakes, packets and bytes relayed, drops by reason and kind, mesh traffic.
#pragma once

#include <vector>

#include "meshvpn/derp/server_core.h"
#include "meshvpn/metrics/collector.h"

namespace meshvpn::derp {

// Families meshvpn_derp_* (listed in docs/derp.md and docs/metrics.md); every reason label has
// its series from the first scrape, zeros included. Threading: reads the core without a lock:
// scrape on the server's loop thread (metrics::MetricsServer on the same loop does).
class ServerMetrics final : public metrics::Collector {
 public:
  explicit ServerMetrics(const ServerCore* core) : core_(core) {}
  std::vector<metrics::FamilyDesc> Describe() const override;
  void Collect(metrics::CollectOutput& out) override;

 private:
  const ServerCore* core_;
};

}  // namespace meshvpn::derp
