// DnsServerMetrics: a UvDnsServer's counters as Prometheus metrics (a metrics::Collector):
// queries by transport, outcomes, the forwarder's results, rate limiting, TCP connections.
#pragma once

#include <vector>

#include "meshvpn/dns/uv_server.h"
#include "meshvpn/metrics/collector.h"

namespace meshvpn::dns {

// Families: meshvpn_dns_queries_total{transport}, meshvpn_dns_outcomes_total{outcome} (one
// series per Outcome, zeros included), meshvpn_dns_forwarder_total{result},
// meshvpn_dns_forwarder_in_flight, meshvpn_dns_rate_limited_total,
// meshvpn_dns_rate_limit_sources, meshvpn_dns_tcp_connections,
// meshvpn_dns_tcp_closed_total{reason}, meshvpn_dns_records. Threading: reads the server without a
// lock: scrape on the server's loop thread.
class DnsServerMetrics final : public metrics::Collector {
 public:
  explicit DnsServerMetrics(const UvDnsServer* server) : server_(server) {}
  std::vector<metrics::FamilyDesc> Describe() const override;
  void Collect(metrics::CollectOutput& out) override;

 private:
  const UvDnsServer* server_;
};

}  // namespace meshvpn::dns
