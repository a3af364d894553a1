// The DERP frames after the handshake: a builder for each, and the parser of what a client
// receives (derp_client.go Recv): recv packet, keepalive, peer gone/present, ping/pong, health,
// restarting. The server's own parsing of client frames lives in its core.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "meshvpn/base/bytes.h"
#include "meshvpn/derp/frame.h"
#include "meshvpn/derp/keys.h"
#include "meshvpn/derp/messages.h"

namespace meshvpn::derp {

using PingData = std::array<uint8_t, kPingLen>;

// The endpoint in a PeerPresent frame: a 16-byte IP (IPv4 as ::ffff:a.b.c.d) and a port.
struct PeerEndpoint {
  std::array<uint8_t, kPeerPresentIpLen> ip{};
  uint16_t port = 0;
  static PeerEndpoint FromIpv4(uint32_t host_order_ip, uint16_t port);
  // "1.2.3.4:41641" or "[2001:db8::1]:41641" (a mapped IPv4 is printed as IPv4, as Go's Unmap).
  std::string ToString() const;
  bool IsZero() const;
  friend bool operator==(const PeerEndpoint&, const PeerEndpoint&) = default;
};

// ---- Builders: each appends one whole frame (header and payload) to `out` --------------------
// Packets longer than kMaxPacketSize are the caller's to refuse (the builders do not check).
void AppendSendPacket(const PublicKey& dst, ByteSpan packet, std::string* out);
void AppendRecvPacket(const PublicKey& src, ByteSpan packet, std::string* out);
void AppendForwardPacket(const PublicKey& src, const PublicKey& dst, ByteSpan packet,
                         std::string* out);
void AppendKeepAlive(std::string* out);
void AppendNotePreferred(bool preferred, std::string* out);
void AppendPeerGone(const PublicKey& peer, PeerGoneReason reason, std::string* out);
// The 51-byte form modern servers send: key, endpoint, flags.
void AppendPeerPresent(const PublicKey& peer, const PeerEndpoint& endpoint, uint8_t flags,
                       std::string* out);
void AppendWatchConns(std::string* out);
void AppendClosePeer(const PublicKey& peer, std::string* out);
void AppendPing(const PingData& data, std::string* out);
void AppendPong(const PingData& data, std::string* out);
void AppendHealth(std::string_view problem, std::string* out);
void AppendRestarting(std::chrono::milliseconds reconnect_in, std::chrono::milliseconds try_for,
                      std::string* out);

// ---- What a client receives -------------------------------------------------------------------
struct RecvPacketMessage {
  PublicKey source;
  ByteSpan data;  // points into the frame
};
struct KeepAliveMessage {};
struct PeerGoneMessage {
  PublicKey peer;
  PeerGoneReason reason = PeerGoneReason::kDisconnected;  // absent reason byte: disconnected
};
struct PeerPresentMessage {
  PublicKey peer;
  std::optional<PeerEndpoint> endpoint;  // older servers send only the key
  uint8_t flags = 0;                     // 0 when the server sent no flags byte
};
struct PingMessage {
  PingData data{};
};
struct PongMessage {
  PingData data{};
};
struct HealthMessage {
  std::string problem;  // empty: the earlier problem is over
};
struct RestartingMessage {
  std::chrono::milliseconds reconnect_in{0};
  std::chrono::milliseconds try_for{0};
};
using ServerMessage =
    std::variant<RecvPacketMessage, KeepAliveMessage, PeerGoneMessage, PeerPresentMessage,
                 PingMessage, PongMessage, HealthMessage, RestartingMessage>;

// One received frame as derp_client.go reads it. nullopt for a frame a client skips: an unknown
// type, one only a server receives, or a known one too short to hold its fields (Tailscale's
// client logs and drops those). Extra bytes past the fields are ignored, as there. The server's
// greeting and info are the handshake's (handshake.h), also nullopt here.
std::optional<ServerMessage> ParseServerMessage(const FrameView& frame);

}  // namespace meshvpn::derp
