// ControlAdmin: what an administrator can do to a tailnet (users, pre-auth keys, nodes, API
// keys), as the REST API and the CLI see it; ControlServer implements it over its store and maps.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "meshvpn/control/store.h"
#include "meshvpn/x25519/keys.h"

namespace meshvpn::control {

// A registration an admin has yet to approve ("mini-headscale nodes register --key ID").
struct PendingRegistration {
  std::string id;  // 24 random lowercase letters and digits: the URL's last part
  x25519::PublicKey machine_key;
  x25519::PublicKey node_key;
  std::string hostname;
  std::string os;
  bool ephemeral = false;
  uint64_t existing_node_id = 0;  // re-authentication of a known (expired) node
  int64_t created_ms = 0;
  uint64_t channel_id = 0;  // the channel waiting for the answer; 0 when it closed
};

// A node as the admin sees it.
struct NodeStatus {
  NodeRecord node;
  std::string user_name;
  bool online = false;
  bool expired = false;
};

struct CreatedKey {
  std::string key;  // the secret: shown once, never logged
  PreAuthKeyRecord pre_auth;
  ApiKeyRecord api;
};

// The tailnet policy file of a server that runs with one (mini-headscale serve --policy).
struct PolicyRecord {
  std::string text;
  int64_t updated_ms = 0;
};

// Who keeps the server's policy: reads it, and replaces it when a new text parses and passes
// its tests (InvalidArgument listing every problem otherwise; the old one stays in force).
class PolicyAdmin {
 public:
  virtual ~PolicyAdmin() = default;
  virtual PolicyRecord GetPolicy() const = 0;
  virtual absl::Status SetPolicyText(std::string_view text) = 0;
};

// Errors are the store's (store.h), or InvalidArgument / NotFound / AlreadyExists naming what
// was wrong. Calls come on the server's loop thread.
class ControlAdmin {
 public:
  virtual ~ControlAdmin() = default;

  virtual absl::StatusOr<UserRecord> CreateUser(std::string_view name,
                                                std::string_view display_name) = 0;
  virtual absl::StatusOr<std::vector<UserRecord>> ListUsers() = 0;
  // FailedPrecondition while the user has nodes.
  virtual absl::Status DeleteUser(std::string_view name) = 0;

  // `expiration` zero: the key never expires. Tags must be "tag:NAME".
  virtual absl::StatusOr<CreatedKey> CreatePreAuthKey(std::string_view user_name, bool reusable,
                                                      bool ephemeral,
                                                      std::chrono::milliseconds expiration,
                                                      const std::vector<std::string>& tags) = 0;
  virtual absl::StatusOr<std::vector<PreAuthKeyRecord>> ListPreAuthKeys(
      std::string_view user_name) = 0;
  virtual absl::Status ExpirePreAuthKey(std::string_view prefix) = 0;

  virtual std::vector<NodeStatus> ListNodes() const = 0;  // by id
  virtual absl::StatusOr<NodeStatus> GetNode(uint64_t id) const = 0;
  virtual std::vector<PendingRegistration> ListPending() const = 0;
  // Approves an interactive registration for `user_name`: the waiting client hears at once.
  virtual absl::StatusOr<NodeRecord> ApproveRegistration(std::string_view registration_id,
                                                         std::string_view user_name) = 0;
  // The key expires now: the node leaves its peers' maps at once and must log in again.
  virtual absl::StatusOr<NodeRecord> ExpireNode(uint64_t id) = 0;
  virtual absl::Status DeleteNode(uint64_t id) = 0;
  // A new MagicDNS name (a DNS label, unique in the tailnet).
  virtual absl::StatusOr<NodeRecord> RenameNode(uint64_t id, std::string_view new_name) = 0;

  virtual absl::StatusOr<CreatedKey> CreateApiKey(std::chrono::milliseconds expiration) = 0;
  virtual absl::StatusOr<std::vector<ApiKeyRecord>> ListApiKeys() = 0;
  virtual absl::Status ExpireApiKey(std::string_view prefix) = 0;
  // OK if `key` is a current API key (constant-time hash compare); Unauthenticated otherwise,
  // with a message that never repeats the key.
  virtual absl::Status AuthenticateApiKey(std::string_view key) = 0;

  // The MagicDNS domain nodes are named under.
  virtual const std::string& base_domain() const = 0;

  // The policy, when the server has a PolicyAdmin; FailedPrecondition when it runs without a
  // policy file (every node sees every node).
  virtual absl::StatusOr<PolicyRecord> GetPolicy() const {
    return absl::FailedPreconditionError("this server runs without a policy file");
  }
  virtual absl::Status SetPolicy(std::string_view /*text*/) {
    return absl::FailedPreconditionError("this server runs without a policy file");
  }
};

}  // namespace meshvpn::control
