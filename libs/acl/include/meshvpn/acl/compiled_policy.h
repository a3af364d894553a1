// A policy compiled against an inventory: per node, the packet filter it enforces on what it
// receives and the peers it must see. The control server builds one per policy or inventory
// change and sends each node its part.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/functional/function_ref.h"
#include "meshvpn/acl/inventory.h"
#include "meshvpn/acl/packet_filter.h"
#include "meshvpn/acl/policy.h"

namespace meshvpn::acl {

class CompiledPolicy {
 public:
  // Nodes are named by their index in `inventory.nodes()`. Neither argument is kept.
  static CompiledPolicy Compile(const Policy& policy, const Inventory& inventory);

  size_t node_count() const { return nodes_.size(); }
  // What may reach node `node`, readable (rules in policy order), and its matcher. The matcher is
  // built from the entries on first use, once (callers on several threads wait for the one that
  // builds it): the control plane sends entries and never matches packets, and every node's
  // matcher at once would be gigabytes at 10,000 nodes (each holds the unions of its sources).
  const std::vector<FilterEntry>& entries(int node) const { return nodes_[node].entries; }
  const PacketFilter& filter(int node) const;

  // Whether `viewer` must have `peer` in its map: either may send to the other.
  bool CanSee(int viewer, int peer) const;
  // Every node that can see `peer`, once each.
  void ForEachViewer(int peer, absl::FunctionRef<void(int)> fn) const;
  std::vector<int> VisiblePeers(int viewer) const;

 private:
  struct RuleReach {
    std::vector<int> senders;    // nodes that are (or route for) a source of the rule
    std::vector<int> receivers;  // nodes a non-self target reaches
    bool has_self = false;
  };
  struct NodeState {
    std::vector<FilterEntry> entries;
    std::vector<int> send_rules;     // sorted rule indices where the node is a sender
    std::vector<int> receive_rules;  // sorted rule indices where the node is a receiver
    bool sends_to_own = false;       // a source of an autogroup:self rule
    bool owned = false;              // untagged, with a user
    int user = -1;                   // index of its user, when owned
  };
  bool MaySend(int from, int to) const;

  struct LazyFilter {
    std::once_flag built;
    PacketFilter filter;
  };

  std::vector<RuleReach> rules_;
  std::vector<NodeState> nodes_;
  std::unique_ptr<LazyFilter[]> filters_;     // one per node, built by filter()
  std::vector<std::vector<int>> user_nodes_;  // user index -> its untagged nodes
};

}  // namespace meshvpn::acl
