// How the store's records become the control protocol's messages: a NodeRecord as the Node that
// the map builder serves (to the node itself and, without its machine key, to its peers), a
// UserRecord as a User, and the key conversions between the two.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "meshvpn/control/store.h"
#include "meshvpn/control/v1/control.pb.h"
#include "meshvpn/x25519/keys.h"

namespace meshvpn::control {

// Whether the node's key has expired at `now_ms` (never when expiry is disabled or unset).
bool NodeKeyExpired(const NodeRecord& node, int64_t now_ms);

// The Node for the map builder: addresses as /32 and /128, allowed IPs the same, the MagicDNS
// FQDN under `base_domain`, expired as of `now_ms`, offline (the streamer marks it online).
v1::Node NodeToProto(const NodeRecord& node, std::string_view base_domain, int64_t now_ms);
v1::User UserToProto(const UserRecord& user);

// 32 raw bytes, as the protocol carries keys.
std::string KeyToBytes(const x25519::PublicKey& key);
// InvalidArgument unless exactly 32 bytes; `what` names the field in the error.
absl::StatusOr<x25519::PublicKey> KeyFromBytes(std::string_view bytes, std::string_view what);

// Tailscale's display forms: "mkey:" / "nodekey:" / "discokey:" + 64 hex digits (public keys).
std::string MachineKeyText(const x25519::PublicKey& key);
std::string NodeKeyText(const x25519::PublicKey& key);

}  // namespace meshvpn::control
