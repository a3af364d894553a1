// autoApprovers applied: which of the routes a node advertises its owners may have approved
// without an admin (a route under an approved prefix; exit routes only through exitNode).
#pragma once

#include <vector>

#include "meshvpn/acl/inventory.h"
#include "meshvpn/acl/policy.h"

namespace meshvpn::acl {

// Whether `node`'s owner is one of `owners` (users, groups, tags, autogroup:member/tagged).
bool OwnedBy(const InventoryNode& node, const std::vector<Selector>& owners, const Policy& policy);

// The subset of `node.advertised` that `policy.auto_approvers` approves, in advertised order.
std::vector<Prefix> AutoApprovedRoutes(const Policy& policy, const InventoryNode& node);

}  // namespace meshvpn::acl
