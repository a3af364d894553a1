// The STUN server's counters in Prometheus names.
#include "meshvpn/stun/server_metrics.h"

#include "meshvpn/metrics/names.h"

namespace meshvpn::stun {

std::vector<metrics::FamilyDesc> ServerMetrics::Describe() const {
  using metrics::MetricType;
  return {
      {"meshvpn_stun_requests_total", "STUN Binding requests received.", MetricType::kCounter, {}},
      {"meshvpn_stun_responses_total",
       "STUN responses sent, by result (success or error).",
       MetricType::kCounter,
       {"result"}},
      {"meshvpn_stun_changed_address_responses_total",
       "Responses sent from the other address or port (RFC 5780 CHANGE-REQUEST).",
       MetricType::kCounter,
       {}},
      {"meshvpn_stun_dropped_datagrams_total",
       "Datagrams not answered, by reason.",
       MetricType::kCounter,
       {"reason"}},
  };
}

void ServerMetrics::Collect(metrics::CollectOutput& out) {
  const ServerStats& s = server_->stats();
  out.Add(0, {}, metrics::Value(s.requests));
  out.Add(1, {"success"}, metrics::Value(s.success_responses));
  out.Add(1, {"error"}, metrics::Value(s.error_responses));
  out.Add(2, {}, metrics::Value(s.changed_address));
  for (size_t i = 1; i < s.drops.size(); ++i) {  // 0 is kNone
    out.Add(3, {metrics::ReasonLabel(ToString(static_cast<ServerDrop>(i)))},
            metrics::Value(s.drops[i]));
  }
}

}  // namespace meshvpn::stun
