// The reference evaluator: every decision is a walk over every rule, written to be obviously
// right rather than fast (the compiled PacketFilter is the fast one, and is tested against this).
#include "meshvpn/acl/evaluator.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace meshvpn::acl {
namespace {

bool AnyAddressIn(const std::vector<Address>& addresses, const Prefix& prefix) {
  return std::any_of(addresses.begin(), addresses.end(),
                     [&](const Address& a) { return prefix.Contains(a); });
}

bool IsIdentityKind(Selector::Kind k) {
  using K = Selector::Kind;
  return k == K::kUser || k == K::kGroup || k == K::kTag || k == K::kAutogroupMember ||
         k == K::kAutogroupTagged;
}

bool IsIcmp(uint8_t protocol) {
  return protocol == ProtocolSet::kIcmp || protocol == ProtocolSet::kIcmpV6;
}

// Tailscale's enforcement: ICMP passes wherever any rule covers the address pair, whatever its
// protocols and ports; other port-less protocols need a rule naming them over all ports.
bool ProtocolMatches(const Target& t, uint8_t protocol) {
  return IsIcmp(protocol) || t.protocols.Has(protocol);
}

bool PortMatches(const Target& t, uint8_t protocol, uint16_t port) {
  if (IsIcmp(protocol)) return true;
  if (!ProtocolSet::HasPorts(protocol)) {
    return std::any_of(t.ports.begin(), t.ports.end(), [](const PortRange& r) { return r.all(); });
  }
  return std::any_of(t.ports.begin(), t.ports.end(),
                     [&](const PortRange& r) { return r.Contains(port); });
}

bool HasExitRouteFor(const InventoryNode& node, Family family) {
  return std::any_of(node.routes.begin(), node.routes.end(),
                     [&](const Prefix& r) { return r.length == 0 && r.address.family == family; });
}

std::string PortsText(const std::vector<PortRange>& ports) {
  std::vector<std::string> parts;
  for (const PortRange& r : ports) {
    parts.push_back(r.all()             ? std::string("*")
                    : r.first == r.last ? absl::StrCat(r.first)
                                        : absl::StrCat(r.first, "-", r.last));
  }
  return absl::StrJoin(parts, ", ");
}

}  // namespace

Principal Principal::OfNode(const InventoryNode& node) {
  Principal p;
  p.label = node.name;
  p.node = &node;
  if (node.tagged()) {
    p.tags = node.tags;
  } else {
    p.user = node.user;
  }
  p.addresses = node.ips;
  return p;
}

Principal Principal::OfNodeAddress(const InventoryNode& node, const Address& address) {
  Principal p = OfNode(node);
  p.addresses = {address};
  return p;
}

Principal Principal::OfUser(std::string login, std::vector<Address> addresses) {
  Principal p;
  p.label = login;
  p.user = std::move(login);
  p.addresses = std::move(addresses);
  return p;
}

Principal Principal::OfTag(std::string tag, std::vector<Address> addresses) {
  Principal p;
  p.label = tag;
  p.tags = {std::move(tag)};
  p.addresses = std::move(addresses);
  return p;
}

Principal Principal::OfAddress(const Address& address, bool routed) {
  Principal p;
  p.label = address.ToString();
  p.addresses = {address};
  p.routed = routed;
  p.through_exit_node = routed;
  return p;
}

Evaluator::Evaluator(const Policy& policy, const Inventory& inventory)
    : policy_(policy), inventory_(inventory) {}

bool Evaluator::SourceMatches(const Selector& s, const Principal& src) const {
  using K = Selector::Kind;
  const bool member = !src.tagged() && !src.user.empty();
  switch (s.kind) {
    case K::kAny:
      // A tailnet member (a node, user or tag), or an address in the tailnet or its routes.
      if (src.node != nullptr || !src.user.empty() || src.tagged()) return true;
      return std::any_of(src.addresses.begin(), src.addresses.end(),
                         [&](const Address& a) { return inventory_.star_sources().Contains(a); });
    case K::kAllAddresses:
      return true;
    case K::kUser:
      return member && UserMatches(s.text, src.user);
    case K::kGroup:
      if (!member) return false;
      for (const std::string& login : policy_.GroupMembers(s.text)) {
        if (UserMatches(login, src.user)) return true;
      }
      return false;
    case K::kTag:
      return std::find(src.tags.begin(), src.tags.end(), s.text) != src.tags.end();
    case K::kHost:
    case K::kPrefix:
      return AnyAddressIn(src.addresses, s.prefix);
    case K::kAutogroupMember:
      return member;
    case K::kAutogroupTagged:
      return src.tagged();
    case K::kAutogroupSelf:
    case K::kAutogroupInternet:
    case K::kAutogroupRole:
      return false;
  }
  return false;
}

bool Evaluator::DestinationMatches(const Selector& s, const Principal& src,
                                   const Principal& dst) const {
  using K = Selector::Kind;
  if (IsIdentityKind(s.kind)) return !dst.routed && SourceMatches(s, dst);
  switch (s.kind) {
    case K::kAny:
      return true;
    case K::kHost:
    case K::kPrefix:
      return AnyAddressIn(dst.addresses, s.prefix);
    case K::kAutogroupSelf:
      return !dst.routed && !dst.tagged() && !dst.user.empty() && !src.tagged() &&
             src.user == dst.user;
    case K::kAutogroupInternet:
      return dst.routed && dst.through_exit_node &&
             std::any_of(dst.addresses.begin(), dst.addresses.end(),
                         [](const Address& a) { return InternetAddresses().Contains(a); });
    default:
      return false;
  }
}

bool Evaluator::Admits(const Target& t, uint8_t protocol, uint16_t port) {
  return ProtocolMatches(t, protocol) && PortMatches(t, protocol, port);
}

Decision Evaluator::Decide(const Flow& flow) const {
  Decision d;
  for (const Rule& rule : policy_.rules) {
    const Selector* source = nullptr;
    for (const Selector& s : rule.src) {
      if (SourceMatches(s, flow.src)) {
        source = &s;
        break;
      }
    }
    if (source == nullptr) continue;
    for (const Target& t : rule.targets) {
      if (!Admits(t, flow.protocol, flow.port)) continue;
      if (!DestinationMatches(t.selector, flow.src, flow.dst)) continue;
      d.matches.push_back({&rule, &t, source});
      break;
    }
  }
  d.allowed = !d.matches.empty();
  return d;
}

std::vector<NearMiss> Evaluator::Explain(const Flow& flow, size_t max) const {
  std::vector<NearMiss> out;
  const std::string protocol = ProtocolSet::Of({flow.protocol}).ToString();
  for (const Rule& rule : policy_.rules) {
    const bool src_ok = std::any_of(rule.src.begin(), rule.src.end(),
                                    [&](const Selector& s) { return SourceMatches(s, flow.src); });
    NearMiss best;
    best.rule = &rule;
    best.satisfied = -1;
    for (const Target& t : rule.targets) {
      NearMiss m;
      m.rule = &rule;
      const bool dst_ok = DestinationMatches(t.selector, flow.src, flow.dst);
      const bool proto_ok = ProtocolMatches(t, flow.protocol);
      const bool port_ok = PortMatches(t, flow.protocol, flow.port);
      m.satisfied = src_ok + dst_ok + proto_ok + port_ok;
      if (!src_ok) {
        std::vector<std::string> names;
        for (const Selector& s : rule.src) names.push_back(s.text);
        m.lacks.push_back(
            absl::StrCat("source ", flow.src.label, " is not ", absl::StrJoin(names, " or ")));
      }
      if (!dst_ok) {
        m.lacks.push_back(
            absl::StrCat("destination ", flow.dst.label, " is not ", t.selector.text));
      }
      if (!proto_ok) {
        m.lacks.push_back(absl::StrCat("protocol ", protocol, " is not ", t.protocols.ToString()));
      }
      if (!port_ok) {
        m.lacks.push_back(absl::StrCat("port ", flow.port, " is not ", PortsText(t.ports)));
      }
      if (m.satisfied > best.satisfied) best = std::move(m);
    }
    if (best.satisfied > 0 && best.satisfied < 4) out.push_back(std::move(best));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const NearMiss& a, const NearMiss& b) { return a.satisfied > b.satisfied; });
  if (out.size() > max) out.resize(max);
  return out;
}

bool Evaluator::AllowsPacket(const InventoryNode& receiver, const Address& src, const Address& dst,
                             uint8_t protocol, uint16_t port) const {
  Flow flow;
  flow.protocol = protocol;
  flow.port = port;
  const int sender = inventory_.FindByAddress(src);
  flow.src = sender >= 0 ? Principal::OfNodeAddress(inventory_.nodes()[sender], src)
                         : Principal::OfAddress(src, false);
  if (std::find(receiver.ips.begin(), receiver.ips.end(), dst) != receiver.ips.end()) {
    flow.dst = Principal::OfNodeAddress(receiver, dst);
  } else if (std::any_of(receiver.routes.begin(), receiver.routes.end(),
                         [&](const Prefix& r) { return r.Contains(dst); })) {
    flow.dst = Principal::OfAddress(dst, true);
    flow.dst.through_exit_node = HasExitRouteFor(receiver, dst.family);
  } else {
    return false;  // not addressed to this node: it would never have arrived
  }
  return Decide(flow).allowed;
}

bool Evaluator::MaySend(const InventoryNode& from, const InventoryNode& to) const {
  const Principal src = Principal::OfNode(from);
  const Principal dst = Principal::OfNode(to);
  for (const Rule& rule : policy_.rules) {
    bool direct = false;  // `from` itself is a source
    bool routed = false;  // `from` routes for a source network
    for (const Selector& s : rule.src) {
      if (SourceMatches(s, src)) direct = true;
      if (s.kind == Selector::Kind::kPrefix || s.kind == Selector::Kind::kHost) {
        for (const Prefix& r : from.routes) routed |= r.Overlaps(s.prefix);
      }
    }
    if (!direct && !routed) continue;
    std::vector<const Selector*> dsts;
    for (const Target& t : rule.targets) dsts.push_back(&t.selector);
    for (const Selector& s : rule.visibility_only) dsts.push_back(&s);
    for (const Selector* dp : dsts) {
      const Selector& d = *dp;
      bool reaches = false;
      switch (d.kind) {
        case Selector::Kind::kAutogroupSelf:
          reaches = direct && DestinationMatches(d, src, dst);
          break;
        case Selector::Kind::kAutogroupInternet:
          reaches = to.is_exit_node();
          break;
        case Selector::Kind::kHost:
        case Selector::Kind::kPrefix:
          reaches = DestinationMatches(d, src, dst) ||
                    std::any_of(to.routes.begin(), to.routes.end(),
                                [&](const Prefix& r) { return r.Overlaps(d.prefix); });
          break;
        default:
          reaches = DestinationMatches(d, src, dst);
      }
      if (reaches) return true;
    }
  }
  return false;
}

bool Evaluator::CanSee(const InventoryNode& viewer, const InventoryNode& peer) const {
  if (&viewer == &peer) return false;
  return MaySend(viewer, peer) || MaySend(peer, viewer);
}

}  // namespace meshvpn::acl
