// Netmap: applying a map stream (a full map, then deltas) to a node's view.
#include "meshvpn/control/netmap.h"

#include <set>

#include "absl/strings/str_cat.h"

namespace meshvpn::control {

void ApplyPeerChange(const v1::PeerChange& patch, v1::Node* node) {
  if (patch.has_home_derp_region()) node->set_home_derp_region(patch.home_derp_region());
  if (patch.has_endpoints()) {
    node->clear_endpoints();
    for (const std::string& e : patch.endpoints().endpoints()) node->add_endpoints(e);
  }
  if (patch.has_online()) node->set_online(patch.online());
  if (patch.has_last_seen_ms()) node->set_last_seen_ms(patch.last_seen_ms());
  if (patch.has_key_expiry_ms()) node->set_key_expiry_ms(patch.key_expiry_ms());
  if (patch.has_node_key()) node->set_node_key(patch.node_key());
  if (patch.has_disco_key()) node->set_disco_key(patch.disco_key());
}

const v1::Node* Netmap::peer(uint64_t id) const {
  auto it = peers_.find(id);
  return it == peers_.end() ? nullptr : &it->second;
}

void Netmap::Reset() { *this = Netmap(); }

absl::Status Netmap::Check(const v1::MapResponse& r) const {
  if (!r.full() && !has_full_) {
    return absl::FailedPreconditionError("netmap: a delta before the first full map");
  }
  if (has_full_ && r.seq() <= seq_) {
    return absl::InvalidArgumentError(
        absl::StrCat("netmap: seq ", r.seq(), " after ", seq_, " (not increasing)"));
  }
  if (r.full()) {
    std::set<uint64_t> ids;
    for (const v1::Node& p : r.peers()) {
      if (!ids.insert(p.id()).second) {
        return absl::InvalidArgumentError(absl::StrCat("netmap: peer ", p.id(), " twice"));
      }
    }
    if (r.peers_changed_size() + r.peers_removed_size() + r.peers_patch_size() > 0) {
      return absl::InvalidArgumentError("netmap: a full map that also carries deltas");
    }
    return absl::OkStatus();
  }
  if (r.peers_size() > 0) return absl::InvalidArgumentError("netmap: peers in a delta");
  for (uint64_t id : r.peers_removed()) {
    if (!peers_.contains(id)) {
      return absl::NotFoundError(absl::StrCat("netmap: removal of unknown peer ", id));
    }
  }
  std::set<uint64_t> removed(r.peers_removed().begin(), r.peers_removed().end());
  for (const v1::PeerChange& p : r.peers_patch()) {
    const bool added = std::any_of(r.peers_changed().begin(), r.peers_changed().end(),
                                   [&](const v1::Node& n) { return n.id() == p.node_id(); });
    if ((!peers_.contains(p.node_id()) && !added) || removed.contains(p.node_id())) {
      return absl::NotFoundError(absl::StrCat("netmap: patch of unknown peer ", p.node_id()));
    }
  }
  return absl::OkStatus();
}

absl::Status Netmap::Apply(const v1::MapResponse& r, NetmapChange* change) {
  if (absl::Status s = Check(r); !s.ok()) return s;
  NetmapChange local;
  NetmapChange& c = change != nullptr ? *change : local;
  c = NetmapChange();
  seq_ = r.seq();
  if (r.full()) {
    has_full_ = true;
    c.full = true;
    peers_.clear();
    users_.clear();
    packet_filter_.clear();
    derp_map_.Clear();
    dns_config_.Clear();
    for (const v1::Node& p : r.peers()) {
      peers_[p.id()] = p;
      c.peers_added.push_back(p.id());
    }
  } else if (r.keep_alive()) {
    c.keep_alive = true;
  }
  if (r.has_node()) {
    self_ = r.node();
    c.self_changed = true;
  }
  // Order within a delta: removals, then whole nodes, then patches (the server never sends a
  // patch and a removal of one peer in one message; a patch may follow its node's arrival).
  for (uint64_t id : r.peers_removed()) {
    peers_.erase(id);
    c.peers_removed.push_back(id);
  }
  for (const v1::Node& p : r.peers_changed()) {
    const bool existed = peers_.contains(p.id());
    peers_[p.id()] = p;
    (existed ? c.peers_changed : c.peers_added).push_back(p.id());
  }
  for (const v1::PeerChange& p : r.peers_patch()) {
    ApplyPeerChange(p, &peers_[p.node_id()]);
    c.peers_changed.push_back(p.node_id());
  }
  if (r.has_derp_map()) {
    derp_map_ = r.derp_map();
    c.derp_map_changed = true;
  }
  if (r.has_dns_config()) {
    dns_config_ = r.dns_config();
    c.dns_changed = true;
  }
  if (r.packet_filter_set()) {
    packet_filter_.assign(r.packet_filter().begin(), r.packet_filter().end());
    c.packet_filter_changed = true;
  }
  for (const v1::User& u : r.users()) users_[u.id()] = u;
  if (!r.domain().empty()) domain_ = r.domain();
  if (c.keep_alive && (c.self_changed || !c.peers_removed.empty() || !c.peers_changed.empty() ||
                       !c.peers_added.empty())) {
    c.keep_alive = false;
  }
  return absl::OkStatus();
}

}  // namespace meshvpn::control
