// AutoApprovedRoutes: the autoApprovers section against one node's advertised routes.
#include "meshvpn/acl/route_approval.h"

#include <algorithm>

namespace meshvpn::acl {

bool OwnedBy(const InventoryNode& node, const std::vector<Selector>& owners, const Policy& policy) {
  for (const Selector& s : owners) {
    switch (s.kind) {
      case Selector::Kind::kUser:
        if (!node.tagged() && UserMatches(s.text, node.user)) return true;
        break;
      case Selector::Kind::kGroup:
        if (node.tagged()) break;
        for (const std::string& m : policy.GroupMembers(s.text)) {
          if (UserMatches(m, node.user)) return true;
        }
        break;
      case Selector::Kind::kTag:
        if (node.HasTag(s.text)) return true;
        break;
      case Selector::Kind::kAutogroupMember:
        if (!node.tagged()) return true;
        break;
      case Selector::Kind::kAutogroupTagged:
        if (node.tagged()) return true;
        break;
      default:
        break;
    }
  }
  return false;
}

std::vector<Prefix> AutoApprovedRoutes(const Policy& policy, const InventoryNode& node) {
  std::vector<Prefix> out;
  for (const Prefix& route : node.advertised) {
    bool approved = false;
    if (route.length == 0) {
      approved = OwnedBy(node, policy.auto_approvers.exit_node, policy);
    } else {
      for (const auto& [prefix, owners] : policy.auto_approvers.routes) {
        // A prefix approves itself and every longer prefix inside it (never a default route).
        if (prefix.length > 0 && prefix.length <= route.length && prefix.Contains(route.address) &&
            OwnedBy(node, owners, policy)) {
          approved = true;
          break;
        }
      }
    }
    if (approved) out.push_back(route);
  }
  return out;
}

}  // namespace meshvpn::acl
