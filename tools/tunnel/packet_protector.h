// What a point-to-point tunnel does to each packet between the TUN device and the UDP socket:
// nothing (udp_tunnel) or seal it under a pre-shared key (psk_tunnel). Sans-I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "meshvpn/base/packet_buffer.h"

namespace meshvpn::tunnel {

enum class ProtectResult : uint8_t {
  kOk,
  // The per-direction nonce counter is used up: sending more would repeat a nonce. The tunnel
  // must stop (and be restarted with a new key).
  kNonceExhausted,
  // The buffer has no headroom or tailroom for the tunnel's header and tag.
  kNoRoom,
  kCryptoFailure,
};

// Why a received datagram did not become a packet (each is a counted drop), or that it was a
// keepalive, which carries no packet.
enum class UnprotectResult : uint8_t {
  kOk,
  kKeepalive,       // authenticated, but empty: only refreshes the peer's endpoint
  kMalformed,       // too short, or a header field that cannot be right
  kWrongDirection,  // a packet this side would send (reflected back at us)
  kReplay,          // a counter already accepted, or too old for the replay window
  kAuthFailed,      // the tag did not verify: forged, corrupted, or another key
};

std::string_view ToString(ProtectResult result);
std::string_view ToString(UnprotectResult result);

class PacketProtector {
 public:
  virtual ~PacketProtector() = default;
  // Bytes Protect() adds in front and behind (the tunnel MTU must leave room for them).
  virtual size_t header_size() const = 0;
  virtual size_t trailer_size() const = 0;
  // Turns the IP packet in `buffer` into the datagram to send, in place.
  virtual ProtectResult Protect(PacketBuffer& buffer) = 0;
  // Turns an empty buffer into a keepalive datagram.
  virtual ProtectResult MakeKeepalive(PacketBuffer& buffer) = 0;
  // Turns a received datagram back into the IP packet, in place. On anything but kOk the
  // buffer's contents are not a packet (and are wiped where they could be forged plaintext).
  virtual UnprotectResult Unprotect(PacketBuffer& buffer) = 0;
};

// udp_tunnel: packets travel as they are; an empty datagram is a keepalive. Anyone who can reach
// the port can inject packets: that is the lesson of C project 2.
class PlainProtector final : public PacketProtector {
 public:
  size_t header_size() const override { return 0; }
  size_t trailer_size() const override { return 0; }
  ProtectResult Protect(PacketBuffer&) override { return ProtectResult::kOk; }
  ProtectResult MakeKeepalive(PacketBuffer& buffer) override {
    buffer.Reset();
    return ProtectResult::kOk;
  }
  UnprotectResult Unprotect(PacketBuffer& buffer) override {
    return buffer.empty() ? UnprotectResult::kKeepalive : UnprotectResult::kOk;
  }
};

}  // namespace meshvpn::tunnel
