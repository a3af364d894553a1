// The nodes a policy is applied to: who owns each (a user, or its tags), its addresses and the
// subnet routes approved for it. Read from acl-engine's nodes.json or filled in by the control
// server from its store.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "meshvpn/acl/address.h"
#include "meshvpn/acl/address_set.h"

namespace meshvpn::acl {

struct InventoryNode {
  uint64_t id = 0;                 // the control server's node id (nodes.json: its position)
  std::string name;                // "dev-server-1"
  std::string user;                // the login that registered it
  std::vector<std::string> tags;   // non-empty: the node is owned by its tags, not by `user`
  std::vector<Address> ips;        // its tailnet addresses
  std::vector<Prefix> routes;      // approved subnet routes; 0.0.0.0/0 or ::/0: an exit node
  std::vector<Prefix> advertised;  // routes it offers, not yet approved (see ApproveRoutes)

  bool tagged() const { return !tags.empty(); }
  bool HasTag(std::string_view tag) const;
  bool is_exit_node() const;
};

class Inventory {
 public:
  Inventory() = default;
  explicit Inventory(std::vector<InventoryNode> nodes);

  const std::vector<InventoryNode>& nodes() const { return nodes_; }
  size_t size() const { return nodes_.size(); }
  // Index into nodes(), or -1.
  int FindByName(std::string_view name) const;
  int FindByAddress(const Address& address) const;
  int FindById(uint64_t id) const;
  // What "*" means as a source here: the tailnet's ranges, every node's address, and every
  // approved subnet route (not exit routes).
  const AddressSet& star_sources() const { return star_sources_; }

 private:
  std::vector<InventoryNode> nodes_;
  absl::flat_hash_map<std::string, int> by_name_;
  absl::flat_hash_map<uint64_t, int> by_id_;
  std::vector<std::pair<Address, int>> by_address_;  // sorted
  AddressSet star_sources_;
};

// nodes.json: a JSON (or HuJSON) list of {"name", "user", "tags", "ips", "routes", "advertised"};
// "name" and
// "ips" are required, a node needs a "user" or "tags", ids are 1, 2, ... in file order. Errors
// name the node and the line.
absl::StatusOr<Inventory> ParseInventory(std::string_view json);

}  // namespace meshvpn::acl
