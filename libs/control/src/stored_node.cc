// Records to protocol messages.
#include "meshvpn/control/stored_node.h"

#include "absl/strings/str_cat.h"
#include "meshvpn/control/names.h"

namespace meshvpn::control {

bool NodeKeyExpired(const NodeRecord& node, int64_t now_ms) {
  return !node.expiry_disabled && node.key_expiry_ms != 0 && node.key_expiry_ms <= now_ms;
}

v1::Node NodeToProto(const NodeRecord& r, std::string_view base_domain, int64_t now_ms) {
  v1::Node n;
  n.set_id(r.id);
  n.set_name(r.given_name);
  n.set_fqdn(NodeFqdn(r.given_name, base_domain));
  n.set_user_id(r.user_id);
  n.set_node_key(KeyToBytes(r.node_key));
  if (!r.disco_key.IsZero()) n.set_disco_key(KeyToBytes(r.disco_key));
  n.set_machine_key(KeyToBytes(r.machine_key));
  if (!r.ipv4.empty()) {
    n.add_addresses(absl::StrCat(r.ipv4, "/32"));
    n.add_allowed_ips(absl::StrCat(r.ipv4, "/32"));
  }
  if (!r.ipv6.empty()) {
    n.add_addresses(absl::StrCat(r.ipv6, "/128"));
    n.add_allowed_ips(absl::StrCat(r.ipv6, "/128"));
  }
  for (const std::string& ep : r.endpoints) n.add_endpoints(ep);
  n.set_home_derp_region(r.home_derp_region);
  n.set_online(false);
  n.set_last_seen_ms(r.last_seen_ms);
  n.set_key_expiry_ms(r.expiry_disabled ? 0 : r.key_expiry_ms);
  n.set_expired(NodeKeyExpired(r, now_ms));
  for (const std::string& t : r.tags) n.add_tags(t);
  n.mutable_hostinfo()->set_hostname(r.hostname);
  n.mutable_hostinfo()->set_os(r.os);
  n.set_ephemeral(r.ephemeral);
  n.set_created_ms(r.created_ms);
  return n;
}

v1::User UserToProto(const UserRecord& u) {
  v1::User out;
  out.set_id(u.id);
  out.set_name(u.name);
  out.set_display_name(u.display_name);
  out.set_created_ms(u.created_ms);
  return out;
}

std::string KeyToBytes(const x25519::PublicKey& key) {
  return std::string(reinterpret_cast<const char*>(key.bytes().data()), key.bytes().size());
}

absl::StatusOr<x25519::PublicKey> KeyFromBytes(std::string_view bytes, std::string_view what) {
  if (bytes.size() != 32) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(what), ": expected 32 bytes, got ", bytes.size()));
  }
  return x25519::PublicKey::FromBytes(AsBytes(bytes));
}

std::string MachineKeyText(const x25519::PublicKey& key) { return "mkey:" + key.ToHex(); }
std::string NodeKeyText(const x25519::PublicKey& key) { return "nodekey:" + key.ToHex(); }

}  // namespace meshvpn::control
