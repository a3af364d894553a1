// MapBuilder: the server's model of the tailnet and the map streams of the nodes that are
// connected. A change to one node is queued, coalesced, to the sessions of the nodes that can
// see it (O(those), not O(nodes²)); a session's queue leaves as one delta MapResponse. Full
// maps are assembled from each node's cached peer encoding. Sans-I/O, one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "meshvpn/control/map_policy.h"
#include "meshvpn/control/v1/control.pb.h"

namespace meshvpn::control {

struct MapBuilderStats {
  uint64_t full_maps = 0;  // built (sessions opened, policy changes, the naive path)
  uint64_t full_map_bytes = 0;
  uint64_t deltas = 0;  // delta MapResponses taken
  uint64_t delta_bytes = 0;
  uint64_t queued_changes = 0;  // (session, peer) pairs a change was queued to
  uint64_t policy_changes = 0;  // SetPolicy calls
};

class MapBuilder {
 public:
  // `policy` outlives the builder.
  explicit MapBuilder(const MapPolicy* policy);
  ~MapBuilder();
  MapBuilder(const MapBuilder&) = delete;
  MapBuilder& operator=(const MapBuilder&) = delete;

  // Tailnet-wide parts of every map; a change is queued to every session.
  void SetDerpMap(const v1::DerpMap& derp_map);
  void SetDnsConfig(const v1::DnsConfig& dns);
  void SetDomain(const std::string& domain);
  void UpsertUser(const v1::User& user);
  // The policy's answers changed in place: every session gets a full map.
  void PolicyChanged();
  // Replaces the policy (`next` outlives the builder, or the next SetPolicy; the old one must
  // live through this call). Every session gets a delta: peers it may now see, peers it may no
  // longer see (removed from its map), and its packet filter if that changed.
  void SetPolicy(const MapPolicy* next);

  // A new node, or a whole change of one (rename, tags, key rotation, re-authentication). The
  // machine key is never put in a peer's map.
  void UpsertNode(const v1::Node& node);
  // Changed fields of a node (endpoints, DERP region, online, last seen, key expiry).
  absl::Status PatchNode(const v1::PeerChange& patch);
  // Hidden from every map while expired; its own map then shows it expired with no peers.
  absl::Status SetExpired(uint64_t id, bool expired);
  // Deleted: gone from every map; its session, if any, is closed.
  void RemoveNode(uint64_t id);

  bool HasNode(uint64_t id) const { return nodes_.contains(id); }
  // Every node as its peers see it, by id.
  std::vector<v1::Node> Nodes() const;
  const v1::Node* node(uint64_t id) const;
  size_t node_count() const { return nodes_.size(); }

  // A node's map stream starts (or restarts): its full map, as Envelope bytes.
  absl::StatusOr<std::string> OpenSession(uint64_t id);
  void CloseSession(uint64_t id);
  bool HasSession(uint64_t id) const { return sessions_.contains(id); }
  size_t session_count() const { return sessions_.size(); }

  // Sessions that have something queued since the last call, each once.
  std::vector<uint64_t> TakeDirtySessions();
  // A session's queued changes as one delta (or, after PolicyChanged, a full map) Envelope;
  // "" if nothing is queued. Clears the queue.
  std::string TakeUpdate(uint64_t id);
  // A keepalive Envelope for a session (its own seq).
  std::string KeepAlive(uint64_t id);

  // The naive path, for tests and the benchmark's ratio: `id`'s full map built from scratch
  // (every peer encoded anew), without touching any session.
  std::string BuildFullMapFromScratch(uint64_t id);

  const MapBuilderStats& stats() const { return stats_; }

  // The naive path (Headscale's): a session with anything queued gets its whole map rebuilt
  // from scratch instead of a delta. For the benchmark's ratio only.
  void set_naive_full_maps(bool naive) { naive_full_maps_ = naive; }

 private:
  struct Entry;
  struct Session;
  void QueueWhole(const Entry& changed, bool newly_visible);
  void QueueRemoval(uint64_t id, const Entry& gone);
  void ForEachViewerSession(const Entry& entry, absl::FunctionRef<void(Session&)> fn);
  void MarkDirty(Session& s);
  std::string FullMap(uint64_t id, Session* session, bool from_scratch);
  void Reencode(Entry& e);

  const MapPolicy* policy_;
  absl::flat_hash_map<uint64_t, std::unique_ptr<Entry>> nodes_;
  absl::flat_hash_map<uint64_t, std::unique_ptr<Session>> sessions_;
  std::vector<uint64_t> dirty_;  // sessions marked dirty since the last TakeDirtySessions
  v1::DerpMap derp_map_;
  v1::DnsConfig dns_;
  std::string domain_;
  absl::flat_hash_map<uint64_t, v1::User> users_;
  MapBuilderStats stats_;
  bool naive_full_maps_ = false;
};

}  // namespace meshvpn::control
