// ServerMetrics: a STUN server's ServerStats as Prometheus metrics (a metrics::Collector):
// requests, answers by result, CHANGE-REQUEST answers, drops by reason.
#pragma once

#include <vector>

#include "meshvpn/metrics/collector.h"
#include "meshvpn/stun/server.h"

namespace meshvpn::stun {

// Families: meshvpn_stun_requests_total, meshvpn_stun_responses_total{result="success"|"error"},
// meshvpn_stun_changed_address_responses_total, meshvpn_stun_dropped_datagrams_total{reason}
// (one series per ServerDrop, zeros included, so rate() works from the first scrape).
// Threading: reads the server without a lock: scrape on the server's loop thread.
class ServerMetrics final : public metrics::Collector {
 public:
  explicit ServerMetrics(const Server* server) : server_(server) {}
  std::vector<metrics::FamilyDesc> Describe() const override;
  void Collect(metrics::CollectOutput& out) override;

 private:
  const Server* server_;
};

}  // namespace meshvpn::stun
