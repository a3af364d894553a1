// The counters of a WireGuard device: every reason a packet is dropped, and what was sent.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace meshvpn::wg {

// Why the device dropped a packet. Every drop has one, and each is counted.
enum class DropReason : uint8_t {
  // Received datagrams.
  kMalformedMessage = 0,  // not a WireGuard message (type, reserved bytes, length)
  kInvalidMac1,           // handshake message not made for our public key
  kCookieReplySent,       // under load without a valid mac2: answered with a cookie, dropped
  kRateLimited,           // under load, the sender's address exceeded its handshake rate
  kHandshakeShed,         // under load with a receive backlog: no mac2, and the sender's address
                          // had its share of cookie replies; dropped before any crypto
  kHandshakeFailed,       // decryption of an initiation or response failed
  kUnknownPeer,           // an initiation from a static key that is not one of our peers
  kReplayedInitiation,    // its timestamp is not newer than the peer's last one
  kInitiationFlood,       // initiations from one peer faster than 50 a second
  kUnknownIndex,          // a receiver index that names no session or handshake of ours
  kUnexpectedResponse,    // a response for a handshake we are not waiting for
  kBadCookieReply,        // a cookie reply we did not ask for or cannot open
  kExpiredKeypair,        // the session is older than REJECT_AFTER_TIME or its counter is used up
  kReplayedPacket,        // a counter already seen, or behind the replay window
  kDecryptFailed,         // the transport message did not authenticate
  kBadInnerPacket,        // not IPv4/IPv6 or a wrong length (decrypted, or read from the TUN)
  kWrongSourceAddress,    // its source address is not among the peer's allowed IPs
  // Packets to send.
  kNoRoute,          // no peer's allowed IPs contain the destination
  kNoEndpoint,       // the peer has no known endpoint yet
  kNoPrivateKey,     // the device has no private key (packets to send and datagrams received)
  kStagedQueueFull,  // too many packets waiting for a handshake: the oldest was dropped
  kHandshakeGaveUp,  // packets waiting for a handshake that never completed
  kNoBufferRoom,     // the buffer lacks headroom or tailroom for the header, padding and tag
  kPoolExhausted,    // no free buffer for a handshake message or keepalive
  kCount,
};
inline constexpr size_t kDropReasonCount = static_cast<size_t>(DropReason::kCount);
std::string_view ToString(DropReason reason);

struct DeviceStats {
  std::array<uint64_t, kDropReasonCount> drops{};
  uint64_t datagrams_received = 0;
  uint64_t initiations_sent = 0;
  uint64_t initiations_received = 0;  // valid ones
  uint64_t responses_sent = 0;
  uint64_t responses_received = 0;  // valid ones
  uint64_t cookie_replies_sent = 0;
  uint64_t cookie_replies_received = 0;
  uint64_t handshakes_completed = 0;
  uint64_t keepalives_sent = 0;
  uint64_t keepalives_received = 0;
  uint64_t packets_sent = 0;      // data packets sealed and handed to the UDP side
  uint64_t packets_received = 0;  // data packets decrypted and handed to the TUN side
  uint64_t endpoint_changes = 0;  // a peer's endpoint learned or moved (roaming)

  uint64_t dropped(DropReason r) const { return drops[static_cast<size_t>(r)]; }
  uint64_t total_dropped() const;
};

// "name=count" for every non-zero drop reason, space-separated; "none" if nothing was dropped.
std::string FormatDrops(const DeviceStats& stats);

}  // namespace meshvpn::wg
