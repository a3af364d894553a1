// Compiling a policy against an inventory: each rule's sources resolved once to an address set
// and a node list, each target to the nodes it reaches and the addresses on each, and from
// that every node's filter entries, matcher and visibility.
#include "meshvpn/acl/compiled_policy.h"

#include <algorithm>
#include <map>

#include "absl/container/flat_hash_map.h"

namespace meshvpn::acl {
namespace {

using K = Selector::Kind;

// Node lookups by owner, built once per compile.
class Owners {
 public:
  explicit Owners(const Inventory& inventory) {
    const auto& nodes = inventory.nodes();
    for (size_t i = 0; i < nodes.size(); ++i) {
      const InventoryNode& n = nodes[i];
      if (n.tagged()) {
        for (const std::string& t : n.tags) by_tag_[t].push_back(static_cast<int>(i));
        tagged_.push_back(static_cast<int>(i));
      } else if (!n.user.empty()) {
        auto [it, added] = user_index_.emplace(n.user, static_cast<int>(logins_.size()));
        if (added) {
          logins_.push_back(n.user);
          user_nodes_.emplace_back();
        }
        user_nodes_[it->second].push_back(static_cast<int>(i));
        owned_.push_back(static_cast<int>(i));
      }
    }
  }

  // The untagged nodes of every user `selector` (a login, or "name@") names.
  void AddUserNodes(std::string_view selector, std::vector<int>& out) const {
    if (auto it = user_index_.find(std::string(selector)); it != user_index_.end()) {
      out.insert(out.end(), user_nodes_[it->second].begin(), user_nodes_[it->second].end());
      if (selector.empty() || selector.back() != '@') return;
    }
    if (selector.empty() || selector.back() != '@') return;
    for (size_t u = 0; u < logins_.size(); ++u) {
      if (logins_[u] != selector && UserMatches(selector, logins_[u])) {
        out.insert(out.end(), user_nodes_[u].begin(), user_nodes_[u].end());
      }
    }
  }

  // The nodes an identity selector (user, group, tag, member, tagged) names.
  std::vector<int> IdentityNodes(const Selector& s, const Policy& policy) const {
    std::vector<int> out;
    switch (s.kind) {
      case K::kUser:
        AddUserNodes(s.text, out);
        break;
      case K::kGroup:
        for (const std::string& m : policy.GroupMembers(s.text)) AddUserNodes(m, out);
        break;
      case K::kTag:
        if (auto it = by_tag_.find(s.text); it != by_tag_.end()) out = it->second;
        break;
      case K::kAutogroupMember:
        out = owned_;
        break;
      case K::kAutogroupTagged:
        out = tagged_;
        break;
      default:
        break;
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

  int UserOf(const InventoryNode& n) const {
    if (n.tagged() || n.user.empty()) return -1;
    return user_index_.at(n.user);
  }
  const std::vector<std::vector<int>>& user_nodes() const { return user_nodes_; }

 private:
  absl::flat_hash_map<std::string, int> user_index_;
  std::vector<std::string> logins_;
  std::vector<std::vector<int>> user_nodes_;
  absl::flat_hash_map<std::string, std::vector<int>> by_tag_;
  std::vector<int> owned_, tagged_;
};

bool IsIdentity(K k) {
  return k == K::kUser || k == K::kGroup || k == K::kTag || k == K::kAutogroupMember ||
         k == K::kAutogroupTagged;
}

bool IsAddress(K k) { return k == K::kPrefix || k == K::kHost; }

// The addresses of `node` that target selector `s` reaches there (its own or behind it).
AddressSet DestinationOn(const Selector& s, const InventoryNode& node) {
  AddressSetBuilder b;
  switch (s.kind) {
    case K::kAny:
      for (const Address& a : node.ips) b.Add(a);
      for (const Prefix& r : node.routes) b.Add(r);
      break;
    case K::kPrefix:
    case K::kHost:
      for (const Address& a : node.ips) {
        if (s.prefix.Contains(a)) b.Add(a);
      }
      for (const Prefix& r : node.routes) {
        if (r.Overlaps(s.prefix)) b.Add(r.length >= s.prefix.length ? r : s.prefix);
      }
      break;
    case K::kAutogroupInternet:
      for (const Prefix& r : node.routes) {
        if (r.length == 0) b.Add(InternetAddresses().Intersection(r));
      }
      break;
    case K::kAutogroupSelf:
      if (!node.tagged() && !node.user.empty()) {
        for (const Address& a : node.ips) b.Add(a);
      }
      break;
    default:  // identity selectors: the node's own addresses
      for (const Address& a : node.ips) b.Add(a);
      break;
  }
  return b.Build();
}

void SortUnique(std::vector<int>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

bool Intersect(const std::vector<int>& a, const std::vector<int>& b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i] < b[j]) {
      ++i;
    } else if (b[j] < a[i]) {
      ++j;
    } else {
      return true;
    }
  }
  return false;
}

}  // namespace

CompiledPolicy CompiledPolicy::Compile(const Policy& policy, const Inventory& inventory) {
  CompiledPolicy c;
  const std::vector<InventoryNode>& nodes = inventory.nodes();
  const int n = static_cast<int>(nodes.size());
  const Owners owners(inventory);
  c.nodes_.resize(nodes.size());
  c.rules_.resize(policy.rules.size());
  c.user_nodes_ = owners.user_nodes();
  for (int i = 0; i < n; ++i) {
    c.nodes_[i].user = owners.UserOf(nodes[i]);
    c.nodes_[i].owned = c.nodes_[i].user >= 0;
  }

  std::vector<int> all(nodes.size());
  for (int i = 0; i < n; ++i) all[i] = i;

  for (size_t r = 0; r < policy.rules.size(); ++r) {
    const Rule& rule = policy.rules[r];
    RuleReach& reach = c.rules_[r];

    // Sources: one address set for the rule, and the nodes that send (or route) for it.
    AddressSetBuilder src;
    std::vector<int> direct;
    for (const Selector& s : rule.src) {
      if (s.kind == K::kAny || s.kind == K::kAllAddresses) {
        src.Add(s.kind == K::kAny ? inventory.star_sources() : AddressSet::Everything());
        direct = all;
      } else if (IsIdentity(s.kind)) {
        for (int i : owners.IdentityNodes(s, policy)) {
          direct.push_back(i);
          for (const Address& a : nodes[i].ips) src.Add(a);
        }
      } else if (IsAddress(s.kind)) {
        src.Add(s.prefix);
        for (int i = 0; i < n; ++i) {
          for (const Address& a : nodes[i].ips) {
            if (s.prefix.Contains(a)) direct.push_back(i);
          }
          for (const Prefix& route : nodes[i].routes) {
            if (route.Overlaps(s.prefix)) reach.senders.push_back(i);  // routes for a source
          }
        }
      }
    }
    SortUnique(direct);
    reach.senders.insert(reach.senders.end(), direct.begin(), direct.end());
    SortUnique(reach.senders);
    const auto src_set = std::make_shared<const AddressSet>(src.Build());

    // autogroup:self: per user, the rule's sources cut down to that user's own nodes.
    std::map<int, std::shared_ptr<const AddressSet>> self_sources;
    auto self_source_for = [&](int user) {
      auto& slot = self_sources[user];
      if (slot == nullptr) {
        AddressSetBuilder own;
        for (int i : c.user_nodes_[user]) {
          for (const Address& a : nodes[i].ips) own.Add(a);
        }
        slot = std::make_shared<const AddressSet>(src_set->Intersection(own.Build()));
      }
      return slot;
    };

    auto reached_by = [&](const Selector& s) -> std::vector<int> {
      if (IsIdentity(s.kind)) return owners.IdentityNodes(s, policy);
      std::vector<int> out;
      for (int i = 0; i < n; ++i) {
        const InventoryNode& node = nodes[i];
        bool hit = false;
        switch (s.kind) {
          case K::kAny:
            hit = true;
            break;
          case K::kPrefix:
          case K::kHost:
            hit = std::any_of(node.ips.begin(), node.ips.end(),
                              [&](const Address& a) { return s.prefix.Contains(a); }) ||
                  std::any_of(node.routes.begin(), node.routes.end(),
                              [&](const Prefix& p) { return p.Overlaps(s.prefix); });
            break;
          case K::kAutogroupInternet:
            hit = node.is_exit_node();
            break;
          default:
            break;
        }
        if (hit) out.push_back(i);
      }
      return out;
    };

    for (const Target& t : rule.targets) {
      if (t.selector.kind == K::kAutogroupSelf) {
        reach.has_self = true;
        for (int i : direct) c.nodes_[i].sends_to_own |= c.nodes_[i].owned;
        for (int i = 0; i < n; ++i) {
          if (!c.nodes_[i].owned) continue;
          std::shared_ptr<const AddressSet> own = self_source_for(c.nodes_[i].user);
          if (own->empty()) continue;
          AddressSet dst = DestinationOn(t.selector, nodes[i]);
          for (const PortRange& p : t.ports) {
            c.nodes_[i].entries.push_back({own, dst, p, t.protocols, static_cast<int>(r)});
          }
        }
        continue;
      }
      for (int i : reached_by(t.selector)) {
        reach.receivers.push_back(i);
        AddressSet dst = DestinationOn(t.selector, nodes[i]);
        if (dst.empty() || src_set->empty()) continue;
        for (const PortRange& p : t.ports) {
          c.nodes_[i].entries.push_back({src_set, dst, p, t.protocols, static_cast<int>(r)});
        }
      }
    }
    for (const Selector& s : rule.visibility_only) {
      if (s.kind == K::kAutogroupSelf) {
        // A grant with only "app" to autogroup:self: each source user's devices see each other.
        reach.has_self = true;
        for (int i : direct) c.nodes_[i].sends_to_own |= c.nodes_[i].owned;
        continue;
      }
      for (int i : reached_by(s)) reach.receivers.push_back(i);
    }
    SortUnique(reach.receivers);
    for (int i : reach.senders) c.nodes_[i].send_rules.push_back(static_cast<int>(r));
    for (int i : reach.receivers) c.nodes_[i].receive_rules.push_back(static_cast<int>(r));
  }
  c.filters_ = std::make_unique<LazyFilter[]>(nodes.size());
  return c;
}

const PacketFilter& CompiledPolicy::filter(int node) const {
  LazyFilter& f = filters_[static_cast<size_t>(node)];
  std::call_once(f.built, [&] { f.filter = PacketFilter::Build(nodes_[node].entries); });
  return f.filter;
}

bool CompiledPolicy::MaySend(int from, int to) const {
  const NodeState& a = nodes_[from];
  const NodeState& b = nodes_[to];
  if (a.sends_to_own && b.owned && a.user == b.user) return true;
  return Intersect(a.send_rules, b.receive_rules);
}

bool CompiledPolicy::CanSee(int viewer, int peer) const {
  if (viewer == peer) return false;
  return MaySend(viewer, peer) || MaySend(peer, viewer);
}

void CompiledPolicy::ForEachViewer(int peer, absl::FunctionRef<void(int)> fn) const {
  std::vector<bool> seen(nodes_.size());
  seen[peer] = true;
  auto visit = [&](int i) {
    if (!seen[i] && CanSee(i, peer)) fn(i);
    seen[i] = true;
  };
  const NodeState& p = nodes_[peer];
  for (int r : p.receive_rules) {
    for (int i : rules_[r].senders) visit(i);
  }
  for (int r : p.send_rules) {
    for (int i : rules_[r].receivers) visit(i);
  }
  if (p.owned) {
    for (int i : user_nodes_[p.user]) visit(i);
  }
}

std::vector<int> CompiledPolicy::VisiblePeers(int viewer) const {
  std::vector<int> out;
  ForEachViewer(viewer, [&](int i) { out.push_back(i); });
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace meshvpn::acl
