// ControlServer: the coordination server's logic on the loop: registers machines that come in
// over the Noise channel (pre-auth keys, or an auth URL an admin approves), keeps the store and
// the map builder in step, streams each node its map, expires keys, deletes ephemeral nodes that
// went away, and offers the admin operations the API and CLI call.
#pragma once

#include <uv.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "meshvpn/base/clock.h"
#include "meshvpn/base/uv_handle.h"
#include "meshvpn/control/control_admin.h"
#include "meshvpn/control/map_builder.h"
#include "meshvpn/control/map_policy.h"
#include "meshvpn/control/store.h"
#include "meshvpn/control/uv_channel_server.h"
#include "meshvpn/control/uv_map_streamer.h"

namespace meshvpn::control {

struct ControlServerConfig {
  // What clients are told: auth URLs are server_url + "/auth/" + registration id.
  std::string server_url = "http://127.0.0.1:8080";
  std::string base_domain = "mesh.internal";  // MagicDNS: every node is NAME.base_domain
  // How long a node key stays valid after (re-)authentication; zero: keys never expire. Tagged
  // nodes do not expire (Tailscale's default for tagged devices).
  std::chrono::milliseconds node_key_expiry = std::chrono::hours(24 * 180);
  // An ephemeral node is deleted this long after its last stream closed.
  std::chrono::milliseconds ephemeral_inactivity_timeout = std::chrono::minutes(30);
  // Interactive registrations waiting for an admin: forgotten after this, at most this many.
  std::chrono::milliseconds pending_registration_ttl = std::chrono::minutes(30);
  size_t max_pending_registrations = 10000;
  std::chrono::milliseconds keepalive = std::chrono::seconds(60);
  // Endpoints, home DERP region and last seen change often; they reach the maps at once and the
  // store in batches, this often (and at shutdown).
  std::chrono::milliseconds persist_interval = std::chrono::seconds(10);
  v1::DerpMap derp_map;
  v1::DnsConfig dns;  // base_domain and magic_dns are filled in from the fields above
  // Benchmarks only: every change sends each affected node its whole map rebuilt from scratch
  // (MapBuilder::set_naive_full_maps), the path the delta streams are measured against.
  bool naive_full_maps = false;
};

struct ControlServerStats {
  uint64_t registrations = 0;          // nodes created
  uint64_t reauthentications = 0;      // known nodes given a fresh key expiry
  uint64_t key_rotations = 0;          // node keys replaced
  uint64_t registrations_refused = 0;  // bad or used keys, version, bad requests
  uint64_t interactive_started = 0;    // auth URLs handed out
  uint64_t map_requests = 0;
  uint64_t expired = 0;            // keys that ran out while the server ran
  uint64_t ephemeral_deleted = 0;  // ephemeral nodes removed after going offline
  uint64_t store_errors = 0;       // store calls that failed for a reason not the client's
  uint64_t persisted = 0;          // batched node writes
};

// What the server tells its operator; mini-headscale prints the seed's lines from these. Never
// given a secret.
class ControlServerEvents {
 public:
  virtual ~ControlServerEvents() = default;
  virtual void OnRegistrationRequest(const x25519::PublicKey& /*machine_key*/,
                                     const v1::RegisterRequest& /*request*/) {}
  virtual void OnAuthUrl(const PendingRegistration& /*pending*/, const std::string& /*url*/) {}
  virtual void OnRegistered(const NodeRecord& /*node*/, const UserRecord& /*user*/,
                            bool /*new_node*/) {}
  virtual void OnRegistrationRefused(const x25519::PublicKey& /*machine_key*/,
                                     const std::string& /*reason*/) {}
  virtual void OnMapRequest(const NodeRecord& /*node*/, const v1::MapRequest& /*request*/) {}
  virtual void OnStreamOpened(const NodeRecord& /*node*/) {}
  virtual void OnStreamClosed(const NodeRecord& /*node*/) {}
  virtual void OnNodeExpired(const NodeRecord& /*node*/) {}
  virtual void OnNodeDeleted(const NodeRecord& /*node*/, std::string_view /*why*/) {}
  virtual void OnStoreError(const absl::Status& /*error*/) {}
  // A node joined or left, or its name, user, tags or addresses changed: a policy compiled over
  // the nodes is out of date (build a new one and SetPolicy it). Called after the change.
  virtual void OnInventoryChanged() {}
};

class ControlServer final : public ChannelAcceptor, public ControlAdmin {
 public:
  // Loads every user and node from `store` into the map builder. `store`, `policy`, `events`
  // and `clock` (null: the real clock) outlive the server.
  static absl::StatusOr<std::unique_ptr<ControlServer>> Create(uv_loop_t* loop, Store* store,
                                                               const MapPolicy* policy,
                                                               ControlServerConfig config,
                                                               ControlServerEvents* events,
                                                               const Clock* clock = nullptr);
  ~ControlServer() override;
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // ChannelAcceptor.
  void OnChannelOpen(ChannelSession& session) override;
  void OnEnvelope(ChannelSession& session, v1::Envelope envelope) override;
  void OnChannelClosed(ChannelSession& session, const absl::Status& why) override;

  // ControlAdmin (control_admin.h).
  absl::StatusOr<UserRecord> CreateUser(std::string_view name,
                                        std::string_view display_name) override;
  absl::StatusOr<std::vector<UserRecord>> ListUsers() override;
  absl::Status DeleteUser(std::string_view name) override;
  absl::StatusOr<CreatedKey> CreatePreAuthKey(std::string_view user_name, bool reusable,
                                              bool ephemeral, std::chrono::milliseconds expiration,
                                              const std::vector<std::string>& tags) override;
  absl::StatusOr<std::vector<PreAuthKeyRecord>> ListPreAuthKeys(
      std::string_view user_name) override;
  absl::Status ExpirePreAuthKey(std::string_view prefix) override;
  std::vector<NodeStatus> ListNodes() const override;
  absl::StatusOr<NodeStatus> GetNode(uint64_t id) const override;
  std::vector<PendingRegistration> ListPending() const override;
  absl::StatusOr<NodeRecord> ApproveRegistration(std::string_view registration_id,
                                                 std::string_view user_name) override;
  absl::StatusOr<NodeRecord> ExpireNode(uint64_t id) override;
  absl::Status DeleteNode(uint64_t id) override;
  absl::StatusOr<NodeRecord> RenameNode(uint64_t id, std::string_view new_name) override;
  absl::StatusOr<CreatedKey> CreateApiKey(std::chrono::milliseconds expiration) override;
  absl::StatusOr<std::vector<ApiKeyRecord>> ListApiKeys() override;
  absl::Status ExpireApiKey(std::string_view prefix) override;
  absl::Status AuthenticateApiKey(std::string_view key) override;
  const std::string& base_domain() const override { return config_.base_domain; }

  // Writes the batched node changes now (also at destruction).
  void PersistNow();

  // Replaces the map policy (it must outlive the server, or the next SetPolicy; the old one
  // must live through this call): every connected node hears the difference as a delta.
  void SetPolicy(const MapPolicy* policy) { builder_.SetPolicy(policy); }
  // Every node as its peers see it, and every user's name by id: a policy's inventory.
  std::vector<v1::Node> PublishedNodes() const { return builder_.Nodes(); }
  absl::flat_hash_map<uint64_t, std::string> UserNames() const;
  // Who answers the admin API's /api/v1/policy (outlives the server); none: no policy file.
  void set_policy_admin(PolicyAdmin* admin) { policy_admin_ = admin; }
  absl::StatusOr<PolicyRecord> GetPolicy() const override;
  absl::Status SetPolicy(std::string_view text) override;

  const MapBuilder& builder() const { return builder_; }
  const UvMapStreamer& streamer() const { return *streamer_; }
  bool online(uint64_t node_id) const { return stream_channel_.contains(node_id); }
  size_t node_count() const { return nodes_.size(); }
  size_t online_count() const { return stream_channel_.size(); }
  size_t pending_count() const { return pending_.size(); }
  const ControlServerStats& stats() const { return stats_; }
  const ControlServerConfig& config() const { return config_; }
  // Switches the naive path on or off while running (the benchmark measures both in one run).
  void set_naive_full_maps(bool naive) {
    config_.naive_full_maps = naive;
    builder_.set_naive_full_maps(naive);
  }

 private:
  struct Channel {
    ChannelSession* session = nullptr;
    uint64_t node_id = 0;    // registered (or recognised) on this channel
    std::string pending_id;  // waiting for approval
  };

  ControlServer(uv_loop_t* loop, Store* store, const MapPolicy* policy, ControlServerConfig config,
                ControlServerEvents* events, const Clock* clock);
  absl::Status Load();
  int64_t NowMs() const;

  // Registration (control_server_register.cc).
  void HandleRegister(Channel& channel, const v1::RegisterRequest& request);
  void RegisterWithAuthKey(Channel& channel, const v1::RegisterRequest& request,
                           const x25519::PublicKey& node_key, const NodeRecord* existing);
  void StartInteractive(Channel& channel, const v1::RegisterRequest& request,
                        const x25519::PublicKey& node_key, const NodeRecord* existing);
  void HandleKnownMachine(Channel& channel, const v1::RegisterRequest& request,
                          const x25519::PublicKey& node_key, NodeRecord& node);
  void SendAuthorized(ChannelSession& session, const NodeRecord& node);
  void Refuse(Channel& channel, const std::string& reason);
  void FailTransient(Channel& channel, const absl::Status& error);
  absl::StatusOr<NodeRecord> CreateNode(NodeRecord record, std::optional<uint64_t> single_use_key);
  int64_t FreshKeyExpiry(const std::vector<std::string>& tags) const;

  // The map side (control_server.cc).
  void HandleMapRequest(Channel& channel, const v1::MapRequest& request);
  // Sends the close, then forgets the channel (Close brings no OnChannelClosed).
  void CloseChannel(ChannelSession& session, std::string_view reason);
  void DropChannel(uint64_t channel_id);
  void Publish(const NodeRecord& node);  // upsert into the builder (+ expiry bookkeeping)
  void Unpublish(uint64_t id);
  absl::StatusOr<NodeRecord> SaveNode(const NodeRecord& node);  // UpdateNode + cache
  void ForgetNode(uint64_t id, std::string_view why);
  void OnTick();
  static void OnTimer(uv_timer_t* timer);

  uv_loop_t* loop_;
  Store* store_;
  ControlServerConfig config_;
  ControlServerEvents* events_;
  const Clock* clock_;
  ControlServerEvents quiet_;
  MapBuilder builder_;
  std::unique_ptr<UvMapStreamer> streamer_;
  UvTimer tick_;

  absl::flat_hash_map<uint64_t, Channel> channels_;  // by channel id
  absl::flat_hash_map<uint64_t, NodeRecord> nodes_;  // the store's nodes, cached
  absl::flat_hash_map<uint64_t, UserRecord> users_;
  PolicyAdmin* policy_admin_ = nullptr;
  absl::flat_hash_map<x25519::PublicKey, uint64_t> by_machine_key_;
  absl::flat_hash_set<std::string> names_;                  // given names in use
  absl::flat_hash_map<uint64_t, uint64_t> stream_channel_;  // node id -> its stream's channel id
  absl::flat_hash_map<std::string, PendingRegistration> pending_;
  absl::flat_hash_map<x25519::PublicKey, std::string> pending_by_machine_;
  std::set<std::pair<int64_t, uint64_t>> expiries_;            // (key expiry ms, node id)
  absl::flat_hash_map<uint64_t, int64_t> ephemeral_deadline_;  // node id -> delete at (ms)
  absl::flat_hash_set<uint64_t> dirty_;                        // to persist in the next batch
  MonoTime last_persist_;
  ControlServerStats stats_;
};

}  // namespace meshvpn::control
