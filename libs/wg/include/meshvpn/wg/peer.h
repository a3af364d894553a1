// One WireGuard peer inside a device: its keys, endpoint, timers, cookies, pending handshake,
// keypair slots, the packets waiting for a session, and its transfer counters.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>

#include "meshvpn/base/clock.h"
#include "meshvpn/base/packet_buffer.h"
#include "meshvpn/udp/endpoint.h"
#include "meshvpn/wg/cookie.h"
#include "meshvpn/wg/handshake.h"
#include "meshvpn/wg/index_table.h"
#include "meshvpn/wg/keypair.h"
#include "meshvpn/wg/tai64n.h"
#include "meshvpn/wg/timers.h"
#include "meshvpn/x25519/keys.h"

namespace meshvpn::wg {

// Packets that wait for a session, at most this many per peer (the Linux module's
// MAX_STAGED_PACKETS); the oldest is dropped to make room.
inline constexpr size_t kMaxStagedPackets = 128;
// Initiations accepted from one peer at most this often (wireguard-go: 50 a second).
inline constexpr std::chrono::milliseconds kMinInitiationInterval{20};

// Owned by the Device, which serialises every access; plain state, no behaviour of its own
// beyond bookkeeping. Not copyable (it holds secrets and pool buffers).
struct Peer {
  Peer(PeerId peer_id, const x25519::PublicKey& key, CookieGenerator cookie_generator,
       JitterSource& jitter)
      : id(peer_id), public_key(key), cookies(std::move(cookie_generator)), timers(jitter) {}
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  PeerId id;
  x25519::PublicKey public_key;
  x25519::PresharedKey preshared_key;  // zero: none
  std::optional<udp::Endpoint> endpoint;

  CookieGenerator cookies;
  PeerTimers timers;
  TimestampFilter timestamps;  // the newest initiation timestamp accepted from this peer
  std::optional<MonoTime> last_initiation_consumed;

  std::optional<InitiatorHandshake> handshake;  // our initiation awaiting its response
  KeypairSlots keypairs;
  std::deque<PacketBuffer*> staged;  // packets waiting for a session (pool buffers, owned)

  std::optional<WallTime> last_handshake;  // wall time of the latest completed handshake
  uint64_t rx_bytes = 0;
  uint64_t tx_bytes = 0;
};

}  // namespace meshvpn::wg
