// Builders for DERP's post-handshake frames and the client's parser of server frames.
#include "meshvpn/derp/codec.h"

#include <arpa/inet.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace meshvpn::derp {
namespace {

void Header(FrameType type, size_t len, std::string* out) {
  const auto n = static_cast<uint32_t>(len);
  const char header[kFrameHeaderLen] = {
      static_cast<char>(type),   static_cast<char>(n >> 24), static_cast<char>(n >> 16),
      static_cast<char>(n >> 8), static_cast<char>(n),
  };
  out->append(header, kFrameHeaderLen);
}

void Append(std::string* out, ByteSpan bytes) {
  out->append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

PublicKey KeyAt(ByteSpan payload, size_t offset) {
  return PublicKey(x25519::KeySpan(payload.data() + offset, kKeyLen));
}

uint32_t Be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

constexpr uint8_t kV4MappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

}  // namespace

PeerEndpoint PeerEndpoint::FromIpv4(uint32_t ip, uint16_t port) {
  PeerEndpoint e;
  std::memcpy(e.ip.data(), kV4MappedPrefix, sizeof kV4MappedPrefix);
  e.ip[12] = static_cast<uint8_t>(ip >> 24);
  e.ip[13] = static_cast<uint8_t>(ip >> 16);
  e.ip[14] = static_cast<uint8_t>(ip >> 8);
  e.ip[15] = static_cast<uint8_t>(ip);
  e.port = port;
  return e;
}

bool PeerEndpoint::IsZero() const {
  for (uint8_t b : ip) {
    if (b != 0) return false;
  }
  return port == 0;
}

std::string PeerEndpoint::ToString() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (std::memcmp(ip.data(), kV4MappedPrefix, sizeof kV4MappedPrefix) == 0) {
    inet_ntop(AF_INET, ip.data() + 12, text, sizeof text);
    return absl::StrCat(text, ":", port);
  }
  inet_ntop(AF_INET6, ip.data(), text, sizeof text);
  return absl::StrCat("[", text, "]:", port);
}

void AppendSendPacket(const PublicKey& dst, ByteSpan packet, std::string* out) {
  Header(FrameType::kSendPacket, kKeyLen + packet.size(), out);
  Append(out, dst.bytes());
  Append(out, packet);
}

void AppendRecvPacket(const PublicKey& src, ByteSpan packet, std::string* out) {
  Header(FrameType::kRecvPacket, kKeyLen + packet.size(), out);
  Append(out, src.bytes());
  Append(out, packet);
}

void AppendForwardPacket(const PublicKey& src, const PublicKey& dst, ByteSpan packet,
                         std::string* out) {
  Header(FrameType::kForwardPacket, 2 * kKeyLen + packet.size(), out);
  Append(out, src.bytes());
  Append(out, dst.bytes());
  Append(out, packet);
}

void AppendKeepAlive(std::string* out) { Header(FrameType::kKeepAlive, 0, out); }

void AppendNotePreferred(bool preferred, std::string* out) {
  Header(FrameType::kNotePreferred, kNotePreferredFrameLen, out);
  out->push_back(preferred ? '\x01' : '\x00');
}

void AppendPeerGone(const PublicKey& peer, PeerGoneReason reason, std::string* out) {
  Header(FrameType::kPeerGone, kPeerGoneFrameLen, out);
  Append(out, peer.bytes());
  out->push_back(static_cast<char>(reason));
}

void AppendPeerPresent(const PublicKey& peer, const PeerEndpoint& endpoint, uint8_t flags,
                       std::string* out) {
  Header(FrameType::kPeerPresent, kPeerPresentFrameLen, out);
  Append(out, peer.bytes());
  Append(out, endpoint.ip);
  out->push_back(static_cast<char>(endpoint.port >> 8));
  out->push_back(static_cast<char>(endpoint.port));
  out->push_back(static_cast<char>(flags));
}

void AppendWatchConns(std::string* out) { Header(FrameType::kWatchConns, 0, out); }

void AppendClosePeer(const PublicKey& peer, std::string* out) {
  Header(FrameType::kClosePeer, kClosePeerFrameLen, out);
  Append(out, peer.bytes());
}

void AppendPing(const PingData& data, std::string* out) {
  Header(FrameType::kPing, kPingLen, out);
  Append(out, data);
}

void AppendPong(const PingData& data, std::string* out) {
  Header(FrameType::kPong, kPingLen, out);
  Append(out, data);
}

void AppendHealth(std::string_view problem, std::string* out) {
  Header(FrameType::kHealth, problem.size(), out);
  out->append(problem);
}

void AppendRestarting(std::chrono::milliseconds reconnect_in, std::chrono::milliseconds try_for,
                      std::string* out) {
  Header(FrameType::kRestarting, kRestartingFrameLen, out);
  for (auto ms : {reconnect_in, try_for}) {
    const auto v = static_cast<uint32_t>(ms.count());
    const char be[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                        static_cast<char>(v >> 8), static_cast<char>(v)};
    out->append(be, 4);
  }
}

std::optional<ServerMessage> ParseServerMessage(const FrameView& frame) {
  const ByteSpan p = frame.payload;
  switch (static_cast<FrameType>(frame.type)) {
    case FrameType::kKeepAlive:
      return KeepAliveMessage{};
    case FrameType::kRecvPacket:
      if (p.size() < kKeyLen) return std::nullopt;
      return RecvPacketMessage{KeyAt(p, 0), p.subspan(kKeyLen)};
    case FrameType::kPeerGone: {
      if (p.size() < kKeyLen) return std::nullopt;
      PeerGoneMessage m{KeyAt(p, 0), PeerGoneReason::kDisconnected};
      if (p.size() > kKeyLen) m.reason = static_cast<PeerGoneReason>(p[kKeyLen]);
      return m;
    }
    case FrameType::kPeerPresent: {
      if (p.size() < kKeyLen) return std::nullopt;
      PeerPresentMessage m{KeyAt(p, 0), std::nullopt, 0};
      if (p.size() >= kKeyLen + kPeerPresentIpLen + 2) {
        PeerEndpoint e;
        std::memcpy(e.ip.data(), p.data() + kKeyLen, kPeerPresentIpLen);
        e.port = static_cast<uint16_t>((p[kKeyLen + 16] << 8) | p[kKeyLen + 17]);
        m.endpoint = e;
        if (p.size() >= kPeerPresentFrameLen) m.flags = p[kKeyLen + 18];
      }
      return m;
    }
    case FrameType::kPing:
    case FrameType::kPong: {
      if (p.size() < kPingLen) return std::nullopt;
      PingData d{};
      std::memcpy(d.data(), p.data(), kPingLen);
      if (static_cast<FrameType>(frame.type) == FrameType::kPing) return PingMessage{d};
      return PongMessage{d};
    }
    case FrameType::kHealth:
      return HealthMessage{std::string(reinterpret_cast<const char*>(p.data()), p.size())};
    case FrameType::kRestarting:
      if (p.size() < kRestartingFrameLen) return std::nullopt;
      return RestartingMessage{std::chrono::milliseconds(Be32(p.data())),
                               std::chrono::milliseconds(Be32(p.data() + 4))};
    default:
      return std::nullopt;
  }
}

}  // namespace meshvpn::derp
