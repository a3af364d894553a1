// AclMapPolicy: v1::Nodes turned into an acl::Inventory, compiled once, and answered by index.
#include "meshvpn/control/acl_map_policy.h"

#include "meshvpn/control/filter_rules.h"

namespace meshvpn::control {

acl::InventoryNode ToInventoryNode(const v1::Node& node, const std::string& user_name) {
  acl::InventoryNode n;
  n.id = node.id();
  n.name = node.name();
  n.user = user_name;
  n.tags.assign(node.tags().begin(), node.tags().end());
  std::vector<acl::Prefix> own;
  for (const std::string& a : node.addresses()) {
    absl::StatusOr<acl::Prefix> p = acl::ParsePrefix(a);
    if (!p.ok()) continue;  // the server wrote these; a bad one is skipped, not trusted
    own.push_back(*p);
    n.ips.push_back(p->address);
  }
  for (const std::string& a : node.allowed_ips()) {
    absl::StatusOr<acl::Prefix> p = acl::ParsePrefix(a);
    if (!p.ok()) continue;
    bool is_own = false;
    for (const acl::Prefix& o : own)
      is_own |= o.address == p->address && p->length == p->address.bits();
    if (!is_own) n.routes.push_back(*p);
  }
  return n;
}

std::unique_ptr<AclMapPolicy> AclMapPolicy::Build(
    std::shared_ptr<const acl::Policy> policy, const std::vector<v1::Node>& nodes,
    const absl::flat_hash_map<uint64_t, std::string>& user_names) {
  std::unique_ptr<AclMapPolicy> p(new AclMapPolicy());
  std::vector<acl::InventoryNode> inventory;
  inventory.reserve(nodes.size());
  for (const v1::Node& n : nodes) {
    const auto user = user_names.find(n.user_id());
    inventory.push_back(ToInventoryNode(n, user == user_names.end() ? "" : user->second));
  }
  p->inventory_ = acl::Inventory(std::move(inventory));
  p->compiled_ = acl::CompiledPolicy::Compile(*policy, p->inventory_);
  p->policy_ = std::move(policy);
  return p;
}

int AclMapPolicy::IndexOf(uint64_t node_id) const { return inventory_.FindById(node_id); }

bool AclMapPolicy::CanSee(const v1::Node& viewer, const v1::Node& peer) const {
  const int v = IndexOf(viewer.id()), p = IndexOf(peer.id());
  return v >= 0 && p >= 0 && compiled_.CanSee(v, p);
}

bool AclMapPolicy::ForEachPossibleViewer(const v1::Node& peer,
                                         absl::FunctionRef<void(uint64_t)> fn) const {
  const int p = IndexOf(peer.id());
  if (p < 0) return true;  // unknown to this policy (joined since it was built): nobody yet
  compiled_.ForEachViewer(p, [&](int v) { fn(inventory_.nodes()[v].id); });
  return true;
}

std::vector<v1::FilterRule> AclMapPolicy::PacketFilter(const v1::Node& viewer) const {
  const int v = IndexOf(viewer.id());
  if (v < 0) return {};
  return ToFilterRules(compiled_.entries(v));
}

}  // namespace meshvpn::control
