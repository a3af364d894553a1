// The coordination server's counters in Prometheus names.
#include "meshvpn/control/uv_control_server_metrics.h"

namespace meshvpn::control {
namespace {

enum Family : size_t {
  kNodes,
  kOnline,
  kPending,
  kRegistrations,
  kMapRequests,
  kMapMessages,
  kMapBytes,
  kExpired,
  kEphemeralDeleted,
  kStoreErrors,
  kPersisted,
};

}  // namespace

std::vector<metrics::FamilyDesc> ServerMetrics::Describe() const {
  using metrics::MetricType;
  return {
      {"meshvpn_control_nodes", "Nodes in the tailnet.", MetricType::kGauge, {}},
      {"meshvpn_control_nodes_online", "Nodes with an open map stream.", MetricType::kGauge, {}},
      {"meshvpn_control_pending_registrations",
       "Interactive registrations waiting for an admin.",
       MetricType::kGauge,
       {}},
      {"meshvpn_control_registrations_total",
       "Registration requests by outcome: new node, reauthenticated, key rotated, auth URL "
       "handed out, refused.",
       MetricType::kCounter,
       {"outcome"}},
      {"meshvpn_control_map_requests_total", "Map requests received.", MetricType::kCounter, {}},
      {"meshvpn_control_map_messages_total",
       "Map messages streamed, by kind (full, delta, keepalive).",
       MetricType::kCounter,
       {"kind"}},
      {"meshvpn_control_map_bytes_total",
       "Bytes of map messages streamed.",
       MetricType::kCounter,
       {}},
      {"meshvpn_control_keys_expired_total",
       "Node keys that ran out while the server ran.",
       MetricType::kCounter,
       {}},
      {"meshvpn_control_ephemeral_deleted_total",
       "Ephemeral nodes deleted after going offline.",
       MetricType::kCounter,
       {}},
      {"meshvpn_control_store_errors_total",
       "Store calls that failed for a reason that was not the client's.",
       MetricType::kCounter,
       {}},
      {"meshvpn_control_persisted_total",
       "Batched node writes (endpoints, DERP region, last seen).",
       MetricType::kCounter,
       {}},
  };
}

void ServerMetrics::Collect(metrics::CollectOutput& out) {
  const ControlServerStats& s = server_->stats();
  const MapStreamerStats& m = server_->streamer().stats();
  out.Add(kNodes, {}, metrics::Value(static_cast<uint64_t>(server_->node_count())));
  out.Add(kOnline, {}, metrics::Value(static_cast<uint64_t>(server_->online_count())));
  out.Add(kPending, {}, metrics::Value(static_cast<uint64_t>(server_->pending_count())));
  out.Add(kRegistrations, {"new"}, metrics::Value(s.registrations));
  out.Add(kRegistrations, {"reauthenticated"}, metrics::Value(s.reauthentications));
  out.Add(kRegistrations, {"rotated"}, metrics::Value(s.key_rotations));
  out.Add(kRegistrations, {"auth_url"}, metrics::Value(s.interactive_started));
  out.Add(kRegistrations, {"refused"}, metrics::Value(s.registrations_refused));
  out.Add(kMapRequests, {}, metrics::Value(s.map_requests));
  out.Add(kMapMessages, {"full"}, metrics::Value(m.full_maps_sent));
  out.Add(kMapMessages, {"delta"}, metrics::Value(m.deltas_sent));
  out.Add(kMapMessages, {"keepalive"}, metrics::Value(m.keepalives_sent));
  out.Add(kMapBytes, {}, metrics::Value(m.bytes_sent));
  out.Add(kExpired, {}, metrics::Value(s.expired));
  out.Add(kEphemeralDeleted, {}, metrics::Value(s.ephemeral_deleted));
  out.Add(kStoreErrors, {}, metrics::Value(s.store_errors));
  out.Add(kPersisted, {}, metrics::Value(s.persisted));
}

}  // namespace meshvpn::control
