// The reference evaluator: decides one flow by walking every rule of the policy directly (no
// compiled form), and says which rules matched or, for a denial, which came closest and what
// each lacked. acl-engine prints its answers; the differential tests hold the compiled packet
// filter to it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "meshvpn/acl/address_set.h"
#include "meshvpn/acl/inventory.h"
#include "meshvpn/acl/policy.h"

namespace meshvpn::acl {

// One side of a flow: a node (its owner and addresses), a user or tag with no particular node,
// or an address nobody in the inventory holds.
struct Principal {
  std::string label;  // for printing: the name, login, tag or address
  const InventoryNode* node = nullptr;
  std::string user;               // the owner when untagged; empty for a tagged or bare address
  std::vector<std::string> tags;  // non-empty: owned by these tags
  std::vector<Address> addresses;
  // Destination only: the address is behind the receiving node (a subnet route, or the
  // internet through an exit node) rather than the node's own.
  bool routed = false;
  // With `routed`: the receiving node is an exit node for this address's family, so
  // autogroup:internet may apply.
  bool through_exit_node = false;

  bool tagged() const { return !tags.empty(); }
  static Principal OfNode(const InventoryNode& node);
  // The node, but only one of its addresses (a packet's view).
  static Principal OfNodeAddress(const InventoryNode& node, const Address& address);
  static Principal OfUser(std::string login, std::vector<Address> addresses = {});
  static Principal OfTag(std::string tag, std::vector<Address> addresses = {});
  // An address outside the inventory. As a destination it is routed: behind some node.
  static Principal OfAddress(const Address& address, bool routed);
};

struct Flow {
  Principal src;
  Principal dst;
  uint8_t protocol = ProtocolSet::kTcp;
  uint16_t port = 0;  // ignored for protocols without ports
};

// A rule that let the flow through: which of its targets, and through which source.
struct RuleMatch {
  const Rule* rule = nullptr;
  const Target* target = nullptr;
  const Selector* source = nullptr;
};

struct Decision {
  bool allowed = false;
  std::vector<RuleMatch> matches;  // every matching rule, in policy order (order never decides)
};

// A rule that did not match, and what it lacked ("source", "destination", "port", "protocol").
struct NearMiss {
  const Rule* rule = nullptr;
  int satisfied = 0;  // how many of the four parts matched, at best over the rule's targets
  std::vector<std::string> lacks;
};

class Evaluator {
 public:
  // Both must outlive the evaluator.
  Evaluator(const Policy& policy, const Inventory& inventory);

  Decision Decide(const Flow& flow) const;
  // The rules that came closest to allowing a denied flow, best first, at most `max`.
  std::vector<NearMiss> Explain(const Flow& flow, size_t max) const;

  // The packet view: a packet src→dst arriving at `receiver` (dst is one of its addresses, or
  // behind one of its approved routes; anything else is denied, as it would never arrive).
  bool AllowsPacket(const InventoryNode& receiver, const Address& src, const Address& dst,
                    uint8_t protocol, uint16_t port) const;
  // Whether `viewer` must have `peer` in its map: either may send to the other (directly, or
  // for a subnet router, on behalf of the networks behind it).
  bool CanSee(const InventoryNode& viewer, const InventoryNode& peer) const;

  bool SourceMatches(const Selector& s, const Principal& src) const;
  bool DestinationMatches(const Selector& s, const Principal& src, const Principal& dst) const;
  // Whether target `t` lets `protocol` through on `port`, whatever the addresses (Tailscale's
  // rule: ICMP always, TCP, UDP and SCTP on a port of `t`, other protocols of `t` on all ports).
  static bool Admits(const Target& t, uint8_t protocol, uint16_t port);

 private:
  bool MaySend(const InventoryNode& from, const InventoryNode& to) const;

  const Policy& policy_;
  const Inventory& inventory_;
};

}  // namespace meshvpn::acl
