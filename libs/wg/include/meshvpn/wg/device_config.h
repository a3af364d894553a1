// The configuration a WireGuard device takes and the state it reports: what UAPI `set=1`, `wg set`
// and a wg-quick file change (DeviceConfigUpdate), and what UAPI `get=1` / `wg show` print
// (DeviceStatus). Plain data, no I/O; the device applies updates, the UAPI codec reads and writes
// them.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "meshvpn/base/clock.h"
#include "meshvpn/tun/ip_address.h"
#include "meshvpn/udp/endpoint.h"
#include "meshvpn/x25519/keys.h"

namespace meshvpn::wg {

// One peer's part of an update. Fields left empty are not changed.
struct PeerConfigUpdate {
  x25519::PublicKey public_key;
  bool remove = false;       // remove the peer (the other fields are ignored)
  bool update_only = false;  // change the peer only if it exists; never create it
  // The all-zero key removes the preshared key (WireGuard's convention).
  std::optional<x25519::PresharedKey> preshared_key;
  std::optional<udp::Endpoint> endpoint;
  // 0 turns persistent keepalive off.
  std::optional<std::chrono::seconds> persistent_keepalive;
  bool replace_allowed_ips = false;        // drop the peer's allowed IPs before adding allowed_ips
  std::vector<tun::IpPrefix> allowed_ips;  // added, in order
};

// A device's update: applied in order, interface fields first, then each peer.
struct DeviceConfigUpdate {
  // The all-zero key removes the private key (the device then answers nothing).
  std::optional<x25519::PrivateKey> private_key;
  std::optional<uint16_t> listen_port;  // 0: any free port
  std::optional<uint32_t> fwmark;       // 0: none
  bool replace_peers = false;           // remove every peer before applying `peers`
  std::vector<PeerConfigUpdate> peers;
};

// One peer as `wg show` reports it.
struct PeerStatus {
  x25519::PublicKey public_key;
  x25519::PresharedKey preshared_key;  // zero when none (UAPI get=1 prints it; never log it)
  std::optional<udp::Endpoint> endpoint;
  std::chrono::seconds persistent_keepalive{0};
  std::vector<tun::IpPrefix> allowed_ips;
  std::optional<WallTime> last_handshake;  // wall-clock time of the latest completed handshake
  uint64_t rx_bytes = 0;  // UDP payload bytes received from the peer (all messages)
  uint64_t tx_bytes = 0;  // UDP payload bytes sent to the peer (all messages)
};

// The device as `wg show` / `wg showconf` report it.
struct DeviceStatus {
  std::optional<x25519::PrivateKey> private_key;  // printed by get=1 only; never logged
  uint16_t listen_port = 0;                       // the bound port (0 while not listening)
  uint32_t fwmark = 0;
  std::vector<PeerStatus> peers;
};

}  // namespace meshvpn::wg
