// Netmap: a node's view of its network, built from the map stream: a full MapResponse, then
// deltas applied in order. The control client keeps one; the server's tests use it to check
// that deltas and a fresh full map agree. Sans-I/O, one thread at a time.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "meshvpn/control/v1/control.pb.h"

namespace meshvpn::control {

// What one Apply changed, for a client's events.
struct NetmapChange {
  bool full = false;  // a full map replaced everything
  bool self_changed = false;
  std::vector<uint64_t> peers_added;
  std::vector<uint64_t> peers_changed;  // replaced or patched
  std::vector<uint64_t> peers_removed;
  bool derp_map_changed = false;
  bool dns_changed = false;
  bool packet_filter_changed = false;
  bool keep_alive = false;  // nothing else
};

class Netmap {
 public:
  // Applies the next message of a stream. A full map resets; a delta needs a full map first
  // and a seq above the last one; a patch or removal of an unknown peer is an error (the
  // stream and this view disagree: reconnect for a full map). On error nothing changes.
  absl::Status Apply(const v1::MapResponse& response, NetmapChange* change = nullptr);
  // Forgets everything (a new stream starts with a full map).
  void Reset();

  bool has_full_map() const { return has_full_; }
  uint64_t seq() const { return seq_; }
  const v1::Node& self() const { return self_; }
  // Peers by node id, in id order.
  const std::map<uint64_t, v1::Node>& peers() const { return peers_; }
  const v1::Node* peer(uint64_t id) const;
  const v1::DerpMap& derp_map() const { return derp_map_; }
  const v1::DnsConfig& dns_config() const { return dns_config_; }
  const std::vector<v1::FilterRule>& packet_filter() const { return packet_filter_; }
  const std::map<uint64_t, v1::User>& users() const { return users_; }
  const std::string& domain() const { return domain_; }

 private:
  absl::Status Check(const v1::MapResponse& response) const;

  bool has_full_ = false;
  uint64_t seq_ = 0;
  v1::Node self_;
  std::map<uint64_t, v1::Node> peers_;
  v1::DerpMap derp_map_;
  v1::DnsConfig dns_config_;
  std::vector<v1::FilterRule> packet_filter_;
  std::map<uint64_t, v1::User> users_;
  std::string domain_;
};

// Applies a PeerChange's present fields to `node`.
void ApplyPeerChange(const v1::PeerChange& patch, v1::Node* node);

}  // namespace meshvpn::control
