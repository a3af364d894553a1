// MapPolicy from a tailnet policy file: the acl library's policy compiled over the server's
// nodes, answering who sees whom and each node's packet filter. Immutable: the server builds a
// new one when the policy or the nodes change and swaps it in (MapBuilder::SetPolicy).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "meshvpn/acl/compiled_policy.h"
#include "meshvpn/acl/policy.h"
#include "meshvpn/control/map_policy.h"

namespace meshvpn::control {

class AclMapPolicy final : public MapPolicy {
 public:
  // `user_names`: user id -> name. In the policy a user is written by its name as the login,
  // Headscale's way: "alice@" names the user "alice".
  static std::unique_ptr<AclMapPolicy> Build(
      std::shared_ptr<const acl::Policy> policy, const std::vector<v1::Node>& nodes,
      const absl::flat_hash_map<uint64_t, std::string>& user_names);

  bool CanSee(const v1::Node& viewer, const v1::Node& peer) const override;
  bool ForEachPossibleViewer(const v1::Node& peer,
                             absl::FunctionRef<void(uint64_t)> fn) const override;
  std::vector<v1::FilterRule> PacketFilter(const v1::Node& viewer) const override;

  const acl::Policy& policy() const { return *policy_; }
  const acl::Inventory& inventory() const { return inventory_; }

 private:
  AclMapPolicy() = default;
  int IndexOf(uint64_t node_id) const;

  std::shared_ptr<const acl::Policy> policy_;
  acl::Inventory inventory_;
  acl::CompiledPolicy compiled_;
};

// A node as the acl library sees it: name, owner (its user's name, or its tags), addresses (the
// prefix lengths dropped), and approved routes (allowed_ips beyond its own addresses).
acl::InventoryNode ToInventoryNode(const v1::Node& node, const std::string& user_name);

}  // namespace meshvpn::control
