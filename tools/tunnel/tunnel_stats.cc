#include "tunnel_stats.h"

#include "absl/strings/str_format.h"

namespace meshvpn::tunnel {
namespace {

std::string Bytes(uint64_t n) {
  if (n >= 1024 * 1024) return absl::StrFormat("%.1f MB", n / (1024.0 * 1024.0));
  if (n >= 1024) return absl::StrFormat("%.1f KB", n / 1024.0);
  return absl::StrFormat("%d B", n);
}

}  // namespace

std::string FormatStats(const TunnelStats& s, double uptime_seconds, const std::string& peer) {
  std::string out = "=== Tunnel Statistics ===\n";
  absl::StrAppendFormat(&out, "Uptime: %.1fs   Peer: %s\n", uptime_seconds, peer);
  absl::StrAppendFormat(&out, "TUN -> peer:  %d packets, %s\n", s.packets_from_tun,
                        Bytes(s.bytes_from_tun));
  absl::StrAppendFormat(&out, "peer -> TUN:  %d packets, %s\n", s.packets_to_tun,
                        Bytes(s.bytes_to_tun));
  absl::StrAppendFormat(&out, "Datagrams received: %d   Keepalives sent/received: %d/%d\n",
                        s.datagrams_received, s.keepalives_sent, s.keepalives_received);
  absl::StrAppendFormat(&out, "Peer endpoint changes: %d\n", s.peer_changes);
  out += "Dropped:\n";
  for (UnprotectResult r : {UnprotectResult::kAuthFailed, UnprotectResult::kReplay,
                            UnprotectResult::kMalformed, UnprotectResult::kWrongDirection}) {
    absl::StrAppendFormat(&out, "  %-24s %d\n", std::string(ToString(r)) + ":", s.dropped(r));
  }
  absl::StrAppendFormat(&out, "  %-24s %d\n", "no peer yet:", s.dropped_no_peer);
  absl::StrAppendFormat(&out, "  %-24s %d\n", "could not protect:", s.dropped_protect);
  absl::StrAppendFormat(&out, "  %-24s %d\n", "TUN write failed:", s.dropped_tun_write);
  return out;
}

}  // namespace meshvpn::tunnel
