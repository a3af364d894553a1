// acl-engine's questions, "SRC -> DST:PORT[/PROTO]", read and answered with the reference
// evaluator against a policy and an inventory.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "meshvpn/acl/evaluator.h"

namespace meshvpn::acl {

struct Query {
  std::string text;  // as given
  std::string src;   // a login, a node name or an IP
  std::string dst;   // a node name or an IP (IPv6 in brackets when a port follows)
  uint16_t port = 0;
  uint8_t protocol = ProtocolSet::kTcp;
};

// "alice@example.com -> dev-server-1:22", "bob-laptop -> 100.64.0.5:53/udp",
// "100.64.0.1 -> [fd7a:115c:a1e0::5]:22/tcp", "a -> b:0/icmp".
absl::StatusOr<Query> ParseQuery(std::string_view text);

struct QueryAnswer {
  bool allowed = false;
  std::vector<Flow> flows;  // what was evaluated: one per source node of a user
  Decision decision;        // of the first allowed flow, or of the first flow
  int decided_flow = 0;     // its index in flows
  std::string note;         // why there was nothing to evaluate, when flows is empty
};

// SRC: a login means each of that user's untagged nodes (or the bare user when it has none);
// a node name, that node; an IP, its node or an outside address. DST: a node name or an IP (an
// address outside the inventory is reached through the node whose route holds it).
absl::StatusOr<QueryAnswer> Answer(const Query& query, const Evaluator& evaluator,
                                   const Inventory& inventory);

}  // namespace meshvpn::acl
