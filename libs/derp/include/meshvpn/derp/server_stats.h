// What a DERP server counts: connections, handshakes, packets and bytes relayed, drops by reason
// and kind (disco or other), peer-gone frames, mesh forwarding; read by the metrics collector.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace meshvpn::derp {

// derpserver.go dropReason, plus the ones our server adds (rate limit, which Tailscale's server
// enforces by waiting instead, and a sender that is not connected any more).
enum class DropReason : uint8_t {
  kUnknownDest,       // no client with that key here, and no mesh peer has it
  kUnknownDestOnFwd,  // a mesh peer forwarded a packet for a key not here
  kGoneDisconnected,  // the destination left with the packet still queued
  kQueueHead,         // the destination's queue was full: its oldest packet was dropped
  kQueueTail,         // the destination's queue was full and could not take this one
  kWriteError,        // the forwarder (a mesh link) refused the packet
  kDupClient,         // the key is connected several times and none is active
  kRateLimited,       // the sender is over its per-client byte rate
  kCount,
};
std::string_view ToString(DropReason reason);  // Tailscale's label values, e.g. "queue_head"

// Why a connection was closed by the server (counted; the reason is also logged).
enum class CloseReason : uint8_t {
  kHandshakeTimeout,  // no valid ClientInfo within 10 s
  kBadClientInfo,     // wrong frame type first, bad sizes, a box that does not open, bad JSON
  kFrameTooLarge,     // a frame header declared more than the bound
  kBadFrame,          // a known frame with the wrong size (NotePreferred, Ping, SendPacket...)
  kNotPermitted,      // a mesh-only frame from a client without the mesh key
  kClosedByMeshPeer,  // a ClosePeer frame from a mesh peer
  kSlowReader,        // control frames piled up past their bound (a client that never reads)
  kCount,
};
std::string_view ToString(CloseReason reason);

enum class PacketKind : uint8_t { kDisco, kOther, kCount };

struct ServerStats {
  uint64_t accepts = 0;                // connections that reached the DERP handshake
  uint64_t handshakes = 0;             // of those, the ones that sent a valid ClientInfo
  uint64_t current_clients = 0;        // registered connections now (duplicates included)
  uint64_t current_home_clients = 0;   // of those, the ones that said NotePreferred(true)
  uint64_t current_keys = 0;           // distinct client keys connected here now
  uint64_t current_dup_keys = 0;       // keys connected more than once now
  uint64_t dup_connections_total = 0;  // connections accepted while their key was connected
  uint64_t current_watchers = 0;       // mesh peers that asked to watch connections
  uint64_t home_moves_in = 0;          // NotePreferred(true) after the first 5 s of a connection
  uint64_t home_moves_out = 0;
  std::array<uint64_t, static_cast<size_t>(CloseReason::kCount)> closed{};

  uint64_t packets_received = 0;  // SendPacket and ForwardPacket frames taken in
  uint64_t bytes_received = 0;    // their packet bytes (keys not counted)
  std::array<uint64_t, static_cast<size_t>(PacketKind::kCount)> packets_received_by_kind{};
  uint64_t packets_sent = 0;  // RecvPacket frames handed to a client's transport
  uint64_t bytes_sent = 0;
  uint64_t packets_forwarded_out = 0;  // handed to a mesh peer for a client there
  uint64_t packets_forwarded_in = 0;   // ForwardPacket frames taken from mesh peers
  std::array<std::array<uint64_t, static_cast<size_t>(PacketKind::kCount)>,
             static_cast<size_t>(DropReason::kCount)>
      packets_dropped{};
  std::array<std::array<uint64_t, static_cast<size_t>(PacketKind::kCount)>,
             static_cast<size_t>(DropReason::kCount)>
      bytes_dropped{};

  uint64_t peer_gone_disconnected_frames = 0;
  uint64_t peer_gone_not_here_frames = 0;
  uint64_t peer_present_frames = 0;
  uint64_t pings_received = 0;
  uint64_t pongs_sent = 0;
  uint64_t keepalives_sent = 0;
  uint64_t unknown_frames = 0;
  uint64_t queue_time_samples = 0;   // packets whose time in the queue was measured
  uint64_t queue_time_total_us = 0;  // the sum of those times, microseconds

  uint64_t dropped_total() const {
    uint64_t n = 0;
    for (const auto& kinds : packets_dropped) {
      for (uint64_t v : kinds) n += v;
    }
    return n;
  }
};

}  // namespace meshvpn::derp
