// MapBuilder: queues each change to the sessions that can see it, coalesced, and assembles
// full maps from cached peer encodings.
#include "meshvpn/control/map_builder.h"

#include <algorithm>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "meshvpn/control/netmap.h"

namespace meshvpn::control {
namespace {

// Protobuf wire format: a length-delimited field.
void AppendVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}
void AppendLengthDelimited(uint32_t field, std::string_view bytes, std::string* out) {
  AppendVarint(uint64_t{field} << 3 | 2, out);
  AppendVarint(bytes.size(), out);
  out->append(bytes);
}
constexpr uint32_t kEnvelopeMapResponse = 4;  // Envelope.map_response
constexpr uint32_t kMapResponsePeers = 5;     // MapResponse.peers

std::string WrapMapResponse(std::string_view map_response) {
  std::string out;
  out.reserve(map_response.size() + 8);
  AppendLengthDelimited(kEnvelopeMapResponse, map_response, &out);
  return out;
}

// `into` gets `patch`'s present fields; a present endpoint list replaces the old one.
void MergePatch(const v1::PeerChange& patch, v1::PeerChange* into) {
  if (patch.has_home_derp_region()) into->set_home_derp_region(patch.home_derp_region());
  if (patch.has_endpoints()) *into->mutable_endpoints() = patch.endpoints();
  if (patch.has_online()) into->set_online(patch.online());
  if (patch.has_last_seen_ms()) into->set_last_seen_ms(patch.last_seen_ms());
  if (patch.has_key_expiry_ms()) into->set_key_expiry_ms(patch.key_expiry_ms());
  if (patch.has_node_key()) into->set_node_key(patch.node_key());
  if (patch.has_disco_key()) into->set_disco_key(patch.disco_key());
}

template <typename Container>
std::vector<uint64_t> SortedKeys(const Container& c) {
  std::vector<uint64_t> keys;
  keys.reserve(c.size());
  for (const auto& item : c) {
    if constexpr (std::is_same_v<std::decay_t<decltype(item)>, uint64_t>) {
      keys.push_back(item);
    } else {
      keys.push_back(item.first);
    }
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

}  // namespace

struct MapBuilder::Entry {
  v1::Node node;          // as peers see it (no machine key)
  std::string peer_wire;  // node, serialized: what a full map repeats for every viewer
  bool expired = false;
};

// A connected node's stream and what is queued for it. A peer is in at most one of changed,
// removed and patches; `unknown` marks the changed peers the node has not been told of yet.
struct MapBuilder::Session {
  explicit Session(uint64_t node_id) : id(node_id) {}
  uint64_t id;
  uint64_t seq = 0;
  bool dirty = false;
  bool needs_full = false;
  bool self_changed = false;
  bool derp_map = false;
  bool dns = false;
  bool domain = false;
  bool filter = false;  // the packet filter changed: send it whole
  absl::flat_hash_map<uint64_t, v1::Node> changed;
  absl::flat_hash_set<uint64_t> unknown;
  absl::flat_hash_set<uint64_t> removed;
  absl::flat_hash_map<uint64_t, v1::PeerChange> patches;
  absl::flat_hash_set<uint64_t> users;

  void ClearQueue() {
    self_changed = derp_map = dns = domain = filter = false;
    changed.clear();
    unknown.clear();
    removed.clear();
    patches.clear();
    users.clear();
  }
  void QueueWhole(const v1::Node& node, bool newly_visible) {
    const uint64_t id = node.id();
    patches.erase(id);
    if (newly_visible) {
      // Removed earlier in this batch: the node still has it, so this is a replacement.
      if (removed.erase(id) == 0) unknown.insert(id);
    }
    changed[id] = node;
  }
  void QueueRemoval(uint64_t id) {
    patches.erase(id);
    changed.erase(id);
    // Never told of it: nothing to take back.
    if (unknown.erase(id) == 0) removed.insert(id);
  }
  void QueuePatch(const v1::PeerChange& patch) {
    if (auto it = changed.find(patch.node_id()); it != changed.end()) {
      ApplyPeerChange(patch, &it->second);
      return;
    }
    v1::PeerChange& queued = patches[patch.node_id()];
    queued.set_node_id(patch.node_id());
    MergePatch(patch, &queued);
  }
};

MapBuilder::MapBuilder(const MapPolicy* policy) : policy_(policy) {}
MapBuilder::~MapBuilder() = default;

const v1::Node* MapBuilder::node(uint64_t id) const {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : &it->second->node;
}

void MapBuilder::MarkDirty(Session& s) {
  if (s.dirty) return;
  s.dirty = true;
  dirty_.push_back(s.id);
}

void MapBuilder::Reencode(Entry& e) {
  e.node.clear_machine_key();
  e.node.clear_expired();
  e.peer_wire = e.node.SerializeAsString();
}

namespace {
bool VisibleTo(const MapPolicy& policy, const v1::Node& viewer, bool viewer_expired,
               const v1::Node& peer, bool peer_expired) {
  return viewer.id() != peer.id() && !viewer_expired && !peer_expired &&
         policy.CanSee(viewer, peer);
}
}  // namespace

void MapBuilder::ForEachViewerSession(const Entry& entry, absl::FunctionRef<void(Session&)> fn) {
  auto visit = [&](uint64_t viewer_id, Session& s) {
    auto v = nodes_.find(viewer_id);
    if (v == nodes_.end()) return;
    if (!VisibleTo(*policy_, v->second->node, v->second->expired, entry.node, entry.expired)) {
      return;
    }
    fn(s);
  };
  const bool listed = policy_->ForEachPossibleViewer(entry.node, [&](uint64_t id) {
    if (auto it = sessions_.find(id); it != sessions_.end()) visit(id, *it->second);
  });
  if (!listed) {
    for (auto& [id, s] : sessions_) visit(id, *s);
  }
}

void MapBuilder::SetDerpMap(const v1::DerpMap& derp_map) {
  derp_map_ = derp_map;
  for (auto& [id, s] : sessions_) {
    s->derp_map = true;
    MarkDirty(*s);
  }
}

void MapBuilder::SetDnsConfig(const v1::DnsConfig& dns) {
  dns_ = dns;
  for (auto& [id, s] : sessions_) {
    s->dns = true;
    MarkDirty(*s);
  }
}

void MapBuilder::SetDomain(const std::string& domain) {
  domain_ = domain;
  for (auto& [id, s] : sessions_) {
    s->domain = true;
    MarkDirty(*s);
  }
}

void MapBuilder::UpsertUser(const v1::User& user) {
  users_[user.id()] = user;
  for (auto& [id, s] : sessions_) {
    s->users.insert(user.id());
    MarkDirty(*s);
  }
}

void MapBuilder::PolicyChanged() {
  for (auto& [id, s] : sessions_) {
    s->ClearQueue();
    s->needs_full = true;
    MarkDirty(*s);
  }
}

std::vector<v1::Node> MapBuilder::Nodes() const {
  std::vector<v1::Node> out;
  out.reserve(nodes_.size());
  for (const uint64_t id : SortedKeys(nodes_)) out.push_back(nodes_.at(id)->node);
  return out;
}

void MapBuilder::SetPolicy(const MapPolicy* next) {
  const MapPolicy* before = policy_;
  policy_ = next;
  ++stats_.policy_changes;
  for (auto& session_entry : sessions_) {
    const uint64_t id = session_entry.first;
    auto& s = session_entry.second;  // not a structured binding: lambdas below capture it
    if (s->needs_full) continue;     // a full map is on its way anyway
    auto v = nodes_.find(id);
    if (v == nodes_.end() || v->second->expired) continue;
    const Entry& viewer = *v->second;
    // Visibility is symmetric: the viewer's possible peers are its possible viewers, under the
    // old policy and the new one.
    absl::flat_hash_set<uint64_t> candidates;
    bool everyone =
        !before->ForEachPossibleViewer(viewer.node, [&](uint64_t p) { candidates.insert(p); });
    everyone |=
        !next->ForEachPossibleViewer(viewer.node, [&](uint64_t p) { candidates.insert(p); });
    auto consider = [&](uint64_t peer_id, const Entry& peer) {
      const bool was = VisibleTo(*before, viewer.node, false, peer.node, peer.expired);
      const bool now = VisibleTo(*next, viewer.node, false, peer.node, peer.expired);
      if (was == now) return;
      if (now) {
        s->QueueWhole(peer.node, /*newly_visible=*/true);
      } else {
        s->QueueRemoval(peer_id);
      }
      ++stats_.queued_changes;
      MarkDirty(*s);
    };
    if (everyone) {
      for (const auto& [peer_id, peer] : nodes_) consider(peer_id, *peer);
    } else {
      for (const uint64_t peer_id : candidates) {
        if (auto p = nodes_.find(peer_id); p != nodes_.end()) consider(peer_id, *p->second);
      }
    }
    auto serialized = [&](const MapPolicy& policy) {
      std::string out;
      for (const v1::FilterRule& rule : policy.PacketFilter(viewer.node)) {
        out += rule.SerializeAsString();
        out.push_back('\0');
      }
      return out;
    };
    if (serialized(*before) != serialized(*next)) {
      s->filter = true;
      MarkDirty(*s);
    }
  }
}

void MapBuilder::UpsertNode(const v1::Node& node) {
  auto [it, inserted] = nodes_.try_emplace(node.id());
  if (inserted) {
    it->second = std::make_unique<Entry>();
    Entry& e = *it->second;
    e.node = node;
    Reencode(e);
    ForEachViewerSession(e, [&](Session& s) {
      s.QueueWhole(e.node, /*newly_visible=*/true);
      ++stats_.queued_changes;
      MarkDirty(s);
    });
    return;
  }
  Entry& e = *it->second;
  const v1::Node before = e.node;
  e.node = node;
  Reencode(e);
  // Each possible viewer of the old or the new node: replaced, newly shown, or taken away.
  absl::flat_hash_set<uint64_t> candidates;
  bool everyone =
      !policy_->ForEachPossibleViewer(before, [&](uint64_t id) { candidates.insert(id); });
  everyone |= !policy_->ForEachPossibleViewer(e.node, [&](uint64_t id) { candidates.insert(id); });
  auto visit = [&](uint64_t viewer_id, Session& s) {
    if (viewer_id == e.node.id()) return;
    auto v = nodes_.find(viewer_id);
    if (v == nodes_.end()) return;
    const v1::Node& viewer = v->second->node;
    const bool was = VisibleTo(*policy_, viewer, v->second->expired, before, e.expired);
    const bool now = VisibleTo(*policy_, viewer, v->second->expired, e.node, e.expired);
    if (!was && !now) return;
    if (now) {
      s.QueueWhole(e.node, /*newly_visible=*/!was);
    } else {
      s.QueueRemoval(e.node.id());
    }
    ++stats_.queued_changes;
    MarkDirty(s);
  };
  if (everyone) {
    for (auto& [id, s] : sessions_) visit(id, *s);
  } else {
    for (uint64_t id : candidates) {
      if (auto sit = sessions_.find(id); sit != sessions_.end()) visit(id, *sit->second);
    }
  }
  // The node's own view may change with it (tags, say): it gets a full map.
  if (auto own = sessions_.find(e.node.id()); own != sessions_.end()) {
    own->second->ClearQueue();
    own->second->needs_full = true;
    MarkDirty(*own->second);
  }
}

absl::Status MapBuilder::PatchNode(const v1::PeerChange& patch) {
  auto it = nodes_.find(patch.node_id());
  if (it == nodes_.end()) {
    return absl::NotFoundError(absl::StrCat("map: no node ", patch.node_id()));
  }
  Entry& e = *it->second;
  ApplyPeerChange(patch, &e.node);
  Reencode(e);
  ForEachViewerSession(e, [&](Session& s) {
    s.QueuePatch(patch);
    ++stats_.queued_changes;
    MarkDirty(s);
  });
  if (auto own = sessions_.find(e.node.id()); own != sessions_.end()) {
    own->second->self_changed = true;
    MarkDirty(*own->second);
  }
  return absl::OkStatus();
}

absl::Status MapBuilder::SetExpired(uint64_t id, bool expired) {
  auto it = nodes_.find(id);
  if (it == nodes_.end()) return absl::NotFoundError(absl::StrCat("map: no node ", id));
  Entry& e = *it->second;
  if (e.expired == expired) return absl::OkStatus();
  if (expired) {
    // Who sees it now loses it; then it is hidden.
    ForEachViewerSession(e, [&](Session& s) {
      s.QueueRemoval(id);
      ++stats_.queued_changes;
      MarkDirty(s);
    });
    e.expired = true;
  } else {
    e.expired = false;
    ForEachViewerSession(e, [&](Session& s) {
      s.QueueWhole(e.node, /*newly_visible=*/true);
      ++stats_.queued_changes;
      MarkDirty(s);
    });
  }
  if (auto own = sessions_.find(id); own != sessions_.end()) {
    own->second->ClearQueue();
    own->second->needs_full = true;
    MarkDirty(*own->second);
  }
  return absl::OkStatus();
}

void MapBuilder::RemoveNode(uint64_t id) {
  auto it = nodes_.find(id);
  if (it == nodes_.end()) return;
  ForEachViewerSession(*it->second, [&](Session& s) {
    s.QueueRemoval(id);
    ++stats_.queued_changes;
    MarkDirty(s);
  });
  CloseSession(id);
  nodes_.erase(it);
}

absl::StatusOr<std::string> MapBuilder::OpenSession(uint64_t id) {
  if (!nodes_.contains(id)) return absl::NotFoundError(absl::StrCat("map: no node ", id));
  auto& slot = sessions_[id];
  slot = std::make_unique<Session>(id);
  return FullMap(id, slot.get(), /*from_scratch=*/false);
}

void MapBuilder::CloseSession(uint64_t id) { sessions_.erase(id); }

std::vector<uint64_t> MapBuilder::TakeDirtySessions() {
  std::vector<uint64_t> out;
  out.reserve(dirty_.size());
  for (const uint64_t id : dirty_) {
    // Closed since, or reopened (a new session starts clean): skip; taken already: skip.
    auto it = sessions_.find(id);
    if (it == sessions_.end() || !it->second->dirty) continue;
    it->second->dirty = false;
    out.push_back(id);
  }
  dirty_.clear();
  std::sort(out.begin(), out.end());
  return out;
}

std::string MapBuilder::FullMap(uint64_t id, Session* session, bool from_scratch) {
  const Entry& self = *nodes_.at(id);
  v1::MapResponse head;
  head.set_seq(session != nullptr ? ++session->seq : 1);
  head.set_full(true);
  *head.mutable_node() = self.node;
  head.mutable_node()->set_expired(self.expired);
  *head.mutable_derp_map() = derp_map_;
  *head.mutable_dns_config() = dns_;
  head.set_packet_filter_set(true);
  if (!self.expired) {
    for (v1::FilterRule& rule : policy_->PacketFilter(self.node)) {
      *head.add_packet_filter() = std::move(rule);
    }
  }
  for (const uint64_t uid : SortedKeys(users_)) *head.add_users() = users_.at(uid);
  head.set_domain(domain_);
  std::string body = head.SerializeAsString();
  if (!self.expired) {
    auto add = [&](const Entry& peer) {
      if (!VisibleTo(*policy_, self.node, false, peer.node, peer.expired)) return;
      if (from_scratch) {
        AppendLengthDelimited(kMapResponsePeers, peer.node.SerializeAsString(), &body);
      } else {
        AppendLengthDelimited(kMapResponsePeers, peer.peer_wire, &body);
      }
    };
    // Visibility is symmetric, so the possible viewers of self are its possible peers.
    const bool listed = policy_->ForEachPossibleViewer(self.node, [&](uint64_t peer_id) {
      if (auto it = nodes_.find(peer_id); it != nodes_.end()) add(*it->second);
    });
    if (!listed) {
      for (const auto& [peer_id, peer] : nodes_) add(*peer);
    }
  }
  std::string envelope = WrapMapResponse(body);
  ++stats_.full_maps;
  stats_.full_map_bytes += envelope.size();
  return envelope;
}

std::string MapBuilder::BuildFullMapFromScratch(uint64_t id) {
  if (!nodes_.contains(id)) return "";
  return FullMap(id, nullptr, /*from_scratch=*/true);
}

std::string MapBuilder::TakeUpdate(uint64_t id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return "";
  Session& s = *it->second;
  s.dirty = false;
  if (s.needs_full) {
    s.needs_full = false;
    s.ClearQueue();
    return FullMap(id, &s, /*from_scratch=*/false);
  }
  if (!s.self_changed && !s.derp_map && !s.dns && !s.domain && !s.filter && s.changed.empty() &&
      s.removed.empty() && s.patches.empty() && s.users.empty()) {
    return "";
  }
  if (naive_full_maps_) {
    s.ClearQueue();
    return FullMap(id, &s, /*from_scratch=*/true);
  }
  v1::MapResponse r;
  r.set_seq(++s.seq);
  if (s.self_changed) {
    const Entry& self = *nodes_.at(id);
    *r.mutable_node() = self.node;
    r.mutable_node()->set_expired(self.expired);
  }
  for (const uint64_t peer : SortedKeys(s.removed)) r.add_peers_removed(peer);
  for (const uint64_t peer : SortedKeys(s.changed)) *r.add_peers_changed() = s.changed.at(peer);
  for (const uint64_t peer : SortedKeys(s.patches)) *r.add_peers_patch() = s.patches.at(peer);
  if (s.derp_map) *r.mutable_derp_map() = derp_map_;
  if (s.dns) *r.mutable_dns_config() = dns_;
  if (s.domain) r.set_domain(domain_);
  if (s.filter) {
    r.set_packet_filter_set(true);
    for (v1::FilterRule& rule : policy_->PacketFilter(nodes_.at(id)->node)) {
      *r.add_packet_filter() = std::move(rule);
    }
  }
  for (const uint64_t uid : SortedKeys(s.users)) {
    if (auto u = users_.find(uid); u != users_.end()) *r.add_users() = u->second;
  }
  s.ClearQueue();
  std::string envelope = WrapMapResponse(r.SerializeAsString());
  ++stats_.deltas;
  stats_.delta_bytes += envelope.size();
  return envelope;
}

std::string MapBuilder::KeepAlive(uint64_t id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return "";
  v1::MapResponse r;
  r.set_seq(++it->second->seq);
  r.set_keep_alive(true);
  return WrapMapResponse(r.SerializeAsString());
}

}  // namespace meshvpn::control
