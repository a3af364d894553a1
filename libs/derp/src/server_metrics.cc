// The DERP server's counters in Prometheus names.
#include "meshvpn/derp/server_metrics.h"

#include "meshvpn/metrics/names.h"

namespace meshvpn::derp {
namespace {

enum Family : size_t {
  kAccepts,
  kHandshakes,
  kClients,
  kHomeClients,
  kClientKeys,
  kDuplicateKeys,
  kDuplicateConnections,
  kWatchers,
  kHomeMoves,
  kClosed,
  kPacketsReceived,
  kBytesReceived,
  kPacketsSent,
  kBytesSent,
  kForwarded,
  kPacketsDropped,
  kBytesDropped,
  kPeerGoneFrames,
  kPeerPresentFrames,
  kPings,
  kPongs,
  kKeepalives,
  kUnknownFrames,
  kQueueDelay,
  kQueuedPackets,
};

std::string_view KindLabel(size_t kind) {
  return static_cast<PacketKind>(kind) == PacketKind::kDisco ? "disco" : "other";
}

}  // namespace

std::vector<metrics::FamilyDesc> ServerMetrics::Describe() const {
  using metrics::MetricType;
  return {
      {"meshvpn_derp_accepts_total", "Connections upgraded to DERP.", MetricType::kCounter, {}},
      {"meshvpn_derp_handshakes_total",
       "Connections that sent a valid ClientInfo.",
       MetricType::kCounter,
       {}},
      {"meshvpn_derp_clients",
       "Connected clients (duplicate connections of a key included).",
       MetricType::kGauge,
       {}},
      {"meshvpn_derp_home_clients",
       "Connected clients that call this server home (NotePreferred).",
       MetricType::kGauge,
       {}},
      {"meshvpn_derp_client_keys", "Distinct client keys connected.", MetricType::kGauge, {}},
      {"meshvpn_derp_duplicate_keys", "Keys connected more than once.", MetricType::kGauge, {}},
      {"meshvpn_derp_duplicate_connections_total",
       "Connections accepted while their key was already connected.",
       MetricType::kCounter,
       {}},
      {"meshvpn_derp_watchers", "Mesh peers watching connections.", MetricType::kGauge, {}},
      {"meshvpn_derp_home_moves_total",
       "Clients that made this server their home (in) or stopped (out) after connecting.",
       MetricType::kCounter,
       {"direction"}},
      {"meshvpn_derp_connections_closed_total",
       "Connections the server closed, by reason.",
       MetricType::kCounter,
       {"reason"}},
      {"meshvpn_derp_packets_received_total",
       "Packets clients sent (SendPacket), by kind.",
       MetricType::kCounter,
       {"kind"}},
      {"meshvpn_derp_bytes_received_total", "Packet bytes clients sent.", MetricType::kCounter, {}},
      {"meshvpn_derp_packets_sent_total",
       "Packets written to clients (RecvPacket).",
       MetricType::kCounter,
       {}},
      {"meshvpn_derp_bytes_sent_total",
       "Packet bytes written to clients.",
       MetricType::kCounter,
       {}},
      {"meshvpn_derp_packets_forwarded_total",
       "Packets forwarded to (out) or from (in) the other servers of the region.",
       MetricType::kCounter,
       {"direction"}},
      {"meshvpn_derp_packets_dropped_total",
       "Packets dropped, by reason and kind.",
       MetricType::kCounter,
       {"reason", "kind"}},
      {"meshvpn_derp_bytes_dropped_total",
       "Packet bytes dropped, by reason and kind.",
       MetricType::kCounter,
       {"reason", "kind"}},
      {"meshvpn_derp_peer_gone_frames_total",
       "PeerGone frames sent, by reason.",
       MetricType::kCounter,
       {"reason"}},
      {"meshvpn_derp_peer_present_frames_total",
       "PeerPresent frames sent to mesh watchers.",
       MetricType::kCounter,
       {}},
      {"meshvpn_derp_pings_total", "Ping frames received.", MetricType::kCounter, {}},
      {"meshvpn_derp_pongs_total", "Pong frames sent.", MetricType::kCounter, {}},
      {"meshvpn_derp_keepalives_total", "KeepAlive frames sent.", MetricType::kCounter, {}},
      {"meshvpn_derp_unknown_frames_total",
       "Frames of unknown types skipped.",
       MetricType::kCounter,
       {}},
      {"meshvpn_derp_queue_delay_seconds_total",
       "Time packets spent queued in the server, summed (divide by queued_packets).",
       MetricType::kCounter,
       {}},
      {"meshvpn_derp_queued_packets_total",
       "Packets whose queue delay was measured.",
       MetricType::kCounter,
       {}},
  };
}

void ServerMetrics::Collect(metrics::CollectOutput& out) {
  const ServerStats& s = core_->stats();
  out.Add(kAccepts, {}, metrics::Value(s.accepts));
  out.Add(kHandshakes, {}, metrics::Value(s.handshakes));
  out.Add(kClients, {}, metrics::Value(s.current_clients));
  out.Add(kHomeClients, {}, metrics::Value(s.current_home_clients));
  out.Add(kClientKeys, {}, metrics::Value(s.current_keys));
  out.Add(kDuplicateKeys, {}, metrics::Value(s.current_dup_keys));
  out.Add(kDuplicateConnections, {}, metrics::Value(s.dup_connections_total));
  out.Add(kWatchers, {}, metrics::Value(s.current_watchers));
  out.Add(kHomeMoves, {"in"}, metrics::Value(s.home_moves_in));
  out.Add(kHomeMoves, {"out"}, metrics::Value(s.home_moves_out));
  for (size_t r = 0; r < s.closed.size(); ++r) {
    out.Add(kClosed, {metrics::ReasonLabel(ToString(static_cast<CloseReason>(r)))},
            metrics::Value(s.closed[r]));
  }
  for (size_t k = 0; k < s.packets_received_by_kind.size(); ++k) {
    out.Add(kPacketsReceived, {std::string(KindLabel(k))},
            metrics::Value(s.packets_received_by_kind[k]));
  }
  out.Add(kBytesReceived, {}, metrics::Value(s.bytes_received));
  out.Add(kPacketsSent, {}, metrics::Value(s.packets_sent));
  out.Add(kBytesSent, {}, metrics::Value(s.bytes_sent));
  out.Add(kForwarded, {"in"}, metrics::Value(s.packets_forwarded_in));
  out.Add(kForwarded, {"out"}, metrics::Value(s.packets_forwarded_out));
  for (size_t r = 0; r < s.packets_dropped.size(); ++r) {
    const std::string reason = metrics::ReasonLabel(ToString(static_cast<DropReason>(r)));
    for (size_t k = 0; k < s.packets_dropped[r].size(); ++k) {
      out.Add(kPacketsDropped, {reason, std::string(KindLabel(k))},
              metrics::Value(s.packets_dropped[r][k]));
      out.Add(kBytesDropped, {reason, std::string(KindLabel(k))},
              metrics::Value(s.bytes_dropped[r][k]));
    }
  }
  out.Add(kPeerGoneFrames, {"disconnected"}, metrics::Value(s.peer_gone_disconnected_frames));
  out.Add(kPeerGoneFrames, {"not-here"}, metrics::Value(s.peer_gone_not_here_frames));
  out.Add(kPeerPresentFrames, {}, metrics::Value(s.peer_present_frames));
  out.Add(kPings, {}, metrics::Value(s.pings_received));
  out.Add(kPongs, {}, metrics::Value(s.pongs_sent));
  out.Add(kKeepalives, {}, metrics::Value(s.keepalives_sent));
  out.Add(kUnknownFrames, {}, metrics::Value(s.unknown_frames));
  out.Add(kQueueDelay, {}, metrics::Value(static_cast<double>(s.queue_time_total_us) / 1e6));
  out.Add(kQueuedPackets, {}, metrics::Value(s.queue_time_samples));
}

}  // namespace meshvpn::derp
