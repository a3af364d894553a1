// Counters of a point-to-point tunnel, and the statistics block the tunnel tools print.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "packet_protector.h"

namespace meshvpn::tunnel {

inline constexpr size_t kUnprotectResultCount = 6;

struct TunnelStats {
  uint64_t packets_from_tun = 0;  // read from the TUN device (sent towards the peer)
  uint64_t bytes_from_tun = 0;
  uint64_t packets_to_tun = 0;  // received from the peer and written into the TUN device
  uint64_t bytes_to_tun = 0;
  uint64_t datagrams_received = 0;  // every datagram the socket delivered, good or bad
  uint64_t keepalives_sent = 0;
  uint64_t keepalives_received = 0;
  uint64_t peer_changes = 0;       // the peer's endpoint was learned or moved
  uint64_t dropped_no_peer = 0;    // a packet to send before any peer endpoint was known
  uint64_t dropped_protect = 0;    // Protect() failed (no room, crypto failure)
  uint64_t dropped_tun_write = 0;  // the TUN device refused a packet
  // Received datagrams dropped, indexed by UnprotectResult (kOk and kKeepalive stay 0).
  std::array<uint64_t, kUnprotectResultCount> dropped_received{};

  uint64_t dropped(UnprotectResult r) const { return dropped_received[static_cast<size_t>(r)]; }
};

// The statistics block:
//   === Tunnel Statistics ===
//   Uptime: 12.3s   Peer: 10.201.0.2:5000
//   TUN -> peer:  120 packets, 14.2 KB
//   ...
std::string FormatStats(const TunnelStats& stats, double uptime_seconds, const std::string& peer);

}  // namespace meshvpn::tunnel
