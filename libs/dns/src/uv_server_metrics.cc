// The MagicDNS server's counters in Prometheus names.
#include "meshvpn/dns/uv_server_metrics.h"

namespace meshvpn::dns {

std::vector<metrics::FamilyDesc> DnsServerMetrics::Describe() const {
  using metrics::MetricType;
  return {
      {"meshvpn_dns_queries_total",
       "DNS messages received, by transport.",
       MetricType::kCounter,
       {"transport"}},
      {"meshvpn_dns_outcomes_total",
       "What became of each query.",
       MetricType::kCounter,
       {"outcome"}},
      {"meshvpn_dns_forwarder_total",
       "Forwarded queries and answers, by result.",
       MetricType::kCounter,
       {"result"}},
      {"meshvpn_dns_forwarder_in_flight",
       "Queries waiting for an upstream.",
       MetricType::kGauge,
       {}},
      {"meshvpn_dns_rate_limited_total",
       "Queries dropped for their source's rate.",
       MetricType::kCounter,
       {}},
      {"meshvpn_dns_rate_limit_sources",
       "Sources the rate limiter tracks.",
       MetricType::kGauge,
       {}},
      {"meshvpn_dns_tcp_connections", "Open TCP client connections.", MetricType::kGauge, {}},
      {"meshvpn_dns_tcp_closed_total",
       "TCP client connections we closed, by reason.",
       MetricType::kCounter,
       {"reason"}},
      {"meshvpn_dns_records", "Names in the record table.", MetricType::kGauge, {}},
  };
}

void DnsServerMetrics::Collect(metrics::CollectOutput& out) {
  const ServerCoreStats& core = server_->core().stats();
  out.Add(0, {"udp"}, metrics::Value(core.udp_queries));
  out.Add(0, {"tcp"}, metrics::Value(core.tcp_queries));
  for (size_t i = 0; i < core.outcomes.size(); ++i) {
    out.Add(1, {ToString(static_cast<Outcome>(i))}, metrics::Value(core.outcomes[i]));
  }
  const ForwarderStats& f = server_->forwarder().stats();
  const std::pair<const char*, uint64_t> results[] = {
      {"forwarded", f.forwarded},
      {"answered", f.answered},
      {"retransmit", f.retransmits},
      {"tcp_retry", f.tcp_retries},
      {"truncated_for_client", f.truncated_for_client},
      {"servfail_timeout", f.servfail_timeout},
      {"servfail_full", f.servfail_full},
      {"servfail_tcp", f.servfail_tcp},
      {"servfail_malformed", f.servfail_malformed},
      {"ignored_unknown_id", f.ignored_unknown},
      {"ignored_mismatch", f.ignored_mismatch},
      {"ignored_malformed", f.ignored_malformed},
      {"ignored_wrong_source", server_->stats().upstream_wrong_source},
  };
  for (const auto& [name, value] : results) out.Add(2, {name}, metrics::Value(value));
  out.Add(3, {}, metrics::Value(static_cast<double>(server_->forwarder().in_flight())));
  out.Add(4, {}, metrics::Value(server_->core().rate_limiter().stats().limited));
  out.Add(5, {},
          metrics::Value(static_cast<double>(server_->core().rate_limiter().tracked_sources())));
  out.Add(6, {}, metrics::Value(static_cast<double>(server_->tcp_connections())));
  const UvDnsServerStats& s = server_->stats();
  out.Add(7, {"idle"}, metrics::Value(s.tcp_idle_closed));
  out.Add(7, {"overloaded"}, metrics::Value(s.tcp_overloaded));
  out.Add(7, {"too_many"}, metrics::Value(s.tcp_refused));
  out.Add(8, {}, metrics::Value(static_cast<double>(server_->core().records()->size())));
}

}  // namespace meshvpn::dns
