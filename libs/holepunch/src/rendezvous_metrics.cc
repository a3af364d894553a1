// The rendezvous server's counters in Prometheus names.
#include "meshvpn/holepunch/rendezvous_metrics.h"

#include "meshvpn/metrics/names.h"

namespace meshvpn::holepunch {

std::vector<metrics::FamilyDesc> RendezvousMetrics::Describe() const {
  using metrics::MetricType;
  auto counter = [](const char* name, const char* help) {
    return metrics::FamilyDesc{name, help, MetricType::kCounter, {}};
  };
  return {
      counter("meshvpn_holepunch_registers_total", "Register messages accepted."),
      counter("meshvpn_holepunch_acks_total", "Register acknowledgements sent."),
      counter("meshvpn_holepunch_peer_infos_total", "PeerInfo messages sent to paired peers."),
      counter("meshvpn_holepunch_errors_total", "Error replies sent (a name taken, a bad key)."),
      counter("meshvpn_holepunch_pairs_total", "Pairs of peers introduced to each other."),
      counter("meshvpn_holepunch_expired_registrations_total", "Registrations whose lease ended."),
      {"meshvpn_holepunch_dropped_datagrams_total",
       "Datagrams not answered, by reason.",
       MetricType::kCounter,
       {"reason"}},
  };
}

void RendezvousMetrics::Collect(metrics::CollectOutput& out) {
  const RendezvousStats& s = server_->stats();
  out.Add(0, {}, metrics::Value(s.registers));
  out.Add(1, {}, metrics::Value(s.acks));
  out.Add(2, {}, metrics::Value(s.peer_infos));
  out.Add(3, {}, metrics::Value(s.errors));
  out.Add(4, {}, metrics::Value(s.pairs));
  out.Add(5, {}, metrics::Value(s.expired));
  for (size_t i = 1; i < s.drops.size(); ++i) {  // 0 is kNone
    out.Add(6, {metrics::ReasonLabel(ToString(static_cast<ServerDrop>(i)))},
            metrics::Value(s.drops[i]));
  }
}

}  // namespace meshvpn::holepunch
