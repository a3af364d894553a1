// ParseQuery and Answer: acl-engine's "SRC -> DST:PORT[/PROTO]" against the reference evaluator.
#include "meshvpn/acl/query.h"

#include <algorithm>
#include <charconv>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "meshvpn/acl/selector_parser.h"

namespace meshvpn::acl {
namespace {

absl::Status Bad(std::string_view text, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("query \"", std::string(text),
                                                 "\": ", std::string(why),
                                                 " (want \"SRC -> DST:PORT[/PROTO]\")"));
}

std::string Trim(std::string_view s) {
  return std::string(absl::StripAsciiWhitespace(absl::string_view(s.data(), s.size())));
}

}  // namespace

absl::StatusOr<Query> ParseQuery(std::string_view text) {
  Query q;
  q.text = Trim(text);
  const size_t arrow = text.find("->");
  if (arrow == std::string_view::npos) return Bad(text, "no \"->\"");
  q.src = Trim(text.substr(0, arrow));
  std::string rest = Trim(text.substr(arrow + 2));
  if (q.src.empty()) return Bad(text, "no source");
  const size_t slash = rest.rfind('/');
  const size_t close = rest.rfind(']');
  // A '/' after the port names the protocol (not a prefix length: destinations are addresses).
  if (slash != std::string::npos && (close == std::string::npos || slash > close) &&
      rest.find(':', slash) == std::string::npos) {
    absl::StatusOr<uint8_t> protocol = ParseProtocol(rest.substr(slash + 1));
    if (!protocol.ok()) return Bad(text, std::string(protocol.status().message()));
    q.protocol = *protocol;
    rest.resize(slash);
  }
  std::string port;
  if (absl::Status s = SplitHostPorts(rest, &q.dst, &port); !s.ok())
    return Bad(text, std::string(s.message()));
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535) {
    return Bad(text, absl::StrCat("bad port \"", port, "\""));
  }
  q.port = static_cast<uint16_t>(value);
  if (q.dst.empty()) return Bad(text, "no destination");
  return q;
}

absl::StatusOr<QueryAnswer> Answer(const Query& query, const Evaluator& evaluator,
                                   const Inventory& inventory) {
  QueryAnswer answer;
  const auto& nodes = inventory.nodes();
  std::vector<Principal> sources;
  if (int i = inventory.FindByName(query.src); i >= 0) {
    sources.push_back(Principal::OfNode(nodes[i]));
  } else if (absl::StatusOr<Address> ip = ParseAddress(query.src); ip.ok()) {
    const int owner = inventory.FindByAddress(*ip);
    sources.push_back(owner >= 0 ? Principal::OfNodeAddress(nodes[owner], *ip)
                                 : Principal::OfAddress(*ip, false));
  } else if (query.src.find('@') != std::string::npos) {
    for (const InventoryNode& n : nodes) {
      if (!n.tagged() && n.user == query.src) sources.push_back(Principal::OfNode(n));
    }
    if (sources.empty()) sources.push_back(Principal::OfUser(query.src));
  } else {
    return absl::NotFoundError(
        absl::StrCat("source \"", query.src, "\" is not a node in --nodes, a login or an IP"));
  }

  Principal destination;
  if (int i = inventory.FindByName(query.dst); i >= 0) {
    destination = Principal::OfNode(nodes[i]);
  } else if (absl::StatusOr<Address> ip = ParseAddress(query.dst); ip.ok()) {
    if (int owner = inventory.FindByAddress(*ip); owner >= 0) {
      destination = Principal::OfNodeAddress(nodes[owner], *ip);
    } else {
      destination = Principal::OfAddress(*ip, /*routed=*/true);
      // It arrives through a node whose approved route holds it; an exit node's default route
      // holds any address of its family.
      bool routed = false, exit = false;
      for (const InventoryNode& n : nodes) {
        for (const Prefix& r : n.routes) {
          if (!r.Contains(*ip)) continue;
          routed = true;
          exit |= r.length == 0;
        }
      }
      destination.through_exit_node = exit;
      if (!routed && !inventory.nodes().empty()) {
        answer.note = absl::StrCat(query.dst, " is no node's address and in no approved route");
        return answer;
      }
      if (inventory.nodes().empty()) destination.through_exit_node = true;
    }
  } else {
    return absl::NotFoundError(
        absl::StrCat("destination \"", query.dst, "\" is not a node in --nodes or an IP"));
  }

  for (Principal& src : sources) {
    Flow flow{std::move(src), destination, query.protocol, query.port};
    Decision d = evaluator.Decide(flow);
    const bool first_allowed = d.allowed && !answer.allowed;
    if (first_allowed || answer.flows.empty()) {
      answer.decision = std::move(d);
      answer.decided_flow = static_cast<int>(answer.flows.size());
    }
    answer.allowed |= first_allowed || answer.allowed;
    answer.flows.push_back(std::move(flow));
  }
  return answer;
}

}  // namespace meshvpn::acl
