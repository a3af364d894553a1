// The coordination server's durable state (users, nodes, pre-auth keys, API keys) behind one
// interface, with a SQLite and a PostgreSQL implementation opened by URL (OpenStore).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "meshvpn/base/clock.h"
#include "meshvpn/control/ipam.h"
#include "meshvpn/x25519/keys.h"

namespace meshvpn::control {

struct UserRecord {
  uint64_t id = 0;
  std::string name;  // unique
  std::string display_name;
  int64_t created_ms = 0;
};

struct NodeRecord {
  uint64_t id = 0;  // assigned by RegisterNode; never reused
  uint64_t user_id = 0;
  x25519::PublicKey machine_key;  // unique; the node's identity on the Noise channel
  x25519::PublicKey node_key;     // unique; the WireGuard key (rotatable)
  x25519::PublicKey disco_key;    // all zeros: not reported yet (stored as NULL)
  std::string hostname;           // what the node calls itself
  std::string given_name;         // the MagicDNS label, unique across the tailnet
  std::string os;
  std::string ipv4;                    // "100.64.0.1", assigned by RegisterNode and never changed
  std::string ipv6;                    // "fd7a:115c:a1e0::1", likewise
  std::vector<std::string> endpoints;  // "ip:port"
  int32_t home_derp_region = 0;
  int64_t last_seen_ms = 0;
  int64_t key_expiry_ms = 0;  // 0: never
  bool expiry_disabled = false;
  bool ephemeral = false;
  std::vector<std::string> tags;  // "tag:server"
  uint64_t auth_key_id = 0;       // the pre-auth key it registered with; 0: interactive
  int64_t created_ms = 0;
};

struct PreAuthKeyRecord {
  uint64_t id = 0;
  uint64_t user_id = 0;
  std::string prefix;    // the key's public part (auth_keys.h), unique: a key is looked up by it
  std::string key_hash;  // hex SHA-256 of the whole key (auth_keys.h); compare with KeyHashesEqual
  bool reusable = false;
  bool ephemeral = false;
  int64_t expiration_ms = 0;  // 0: never
  bool used = false;          // set by RegisterNode for a single-use key
  std::vector<std::string> tags;
  int64_t created_ms = 0;
};

struct ApiKeyRecord {
  uint64_t id = 0;
  std::string prefix;         // the key's public part, unique: a request's key is looked up by it
  std::string key_hash;       // hex SHA-256 of the whole key; compare with KeyHashesEqual
  int64_t expiration_ms = 0;  // 0: never
  int64_t created_ms = 0;
  int64_t last_used_ms = 0;
};

struct StoreOptions {
  IpamConfig ipam;
  // created_ms and expiry checks read WallNow(); nullptr is the real clock.
  const Clock* clock = nullptr;
  // How long one call waits for another writer (SQLite's busy timeout; PostgreSQL's
  // lock_timeout) before it fails with Unavailable.
  int busy_timeout_ms = 5000;
  // Transactions that lose a race (a serialization failure, an address another process took
  // first) are run again, up to this many times, before Aborted is returned.
  int max_attempts = 30;
};

// Errors: InvalidArgument (a malformed record), NotFound, AlreadyExists (a unique name or key
// taken: the message names it), FailedPrecondition (a user that still has nodes; a pre-auth key
// that is used, reusable, expired or missing), ResourceExhausted (no address left), Unavailable
// (the database is busy or unreachable), Aborted (races lost max_attempts times), Internal
// (a database error). A failed call changes nothing.
//
// Durability: a call that returned OK has been committed and survives SIGKILL of the process
// (and, on both backends as configured, a power loss): see docs/control-storage.md.
//
// Threading: every call is synchronous and blocks for one transaction (a few milliseconds: one
// fsync on SQLite, a round trip on PostgreSQL). A Store object holds one connection behind a
// mutex, so it may be called from any thread, one call at a time; the server calls it from its
// loop thread. Several Store objects, in one process or many, may share one database: the
// schema's constraints and the transactions keep them consistent, never an in-process lock.
class Store {
 public:
  virtual ~Store() = default;

  // "sqlite" or "postgres".
  virtual std::string_view backend() const = 0;
  // The schema version the database is at (the newest migration the code knows, after open).
  virtual absl::StatusOr<int> SchemaVersion() = 0;

  // Users.
  virtual absl::StatusOr<UserRecord> CreateUser(std::string_view name,
                                                std::string_view display_name) = 0;
  virtual absl::StatusOr<std::vector<UserRecord>> ListUsers() = 0;  // by id
  virtual absl::StatusOr<UserRecord> GetUser(uint64_t id) = 0;
  virtual absl::StatusOr<UserRecord> GetUserByName(std::string_view name) = 0;
  // FailedPrecondition while the user has nodes; deletes the user's pre-auth keys with it.
  virtual absl::Status DeleteUser(uint64_t id) = 0;

  // Pre-auth keys. `key`'s id, used and created_ms are assigned.
  virtual absl::StatusOr<PreAuthKeyRecord> CreatePreAuthKey(const PreAuthKeyRecord& key) = 0;
  virtual absl::StatusOr<std::vector<PreAuthKeyRecord>> ListPreAuthKeys(uint64_t user_id) = 0;
  virtual absl::StatusOr<PreAuthKeyRecord> GetPreAuthKey(uint64_t id) = 0;
  virtual absl::StatusOr<PreAuthKeyRecord> FindPreAuthKeyByPrefix(std::string_view prefix) = 0;
  // Sets its expiration to now (a key that already expired keeps its time).
  virtual absl::Status ExpirePreAuthKey(uint64_t id) = 0;
  // Marks a single-use key used (re-authentication of a known node spends a key without
  // registering a node). FailedPrecondition, changing nothing, if the key is reusable, expired or
  // already used; NotFound if there is no such key.
  virtual absl::Status UsePreAuthKey(uint64_t id) = 0;

  // Nodes. RegisterNode, in one transaction: allocates the node's id and its IPv4 and IPv6
  // addresses, inserts it and, with `single_use_key_id`, marks that single-use key used. It
  // fails, storing nothing, if that key is reusable, expired, of another user or already used.
  // The returned record holds the assigned id, addresses and created_ms (those inputs are
  // ignored).
  virtual absl::StatusOr<NodeRecord> RegisterNode(const NodeRecord& node,
                                                  std::optional<uint64_t> single_use_key_id) = 0;
  // Writes every field of the node with `node.id` except id, machine_key, ipv4, ipv6 and
  // created_ms, which never change; returns the stored record.
  virtual absl::StatusOr<NodeRecord> UpdateNode(const NodeRecord& node) = 0;
  virtual absl::Status DeleteNode(uint64_t id) = 0;
  virtual absl::StatusOr<NodeRecord> GetNode(uint64_t id) = 0;
  virtual absl::StatusOr<NodeRecord> GetNodeByMachineKey(const x25519::PublicKey& machine_key) = 0;
  virtual absl::StatusOr<NodeRecord> GetNodeByNodeKey(const x25519::PublicKey& node_key) = 0;
  virtual absl::StatusOr<std::vector<NodeRecord>> ListNodes() = 0;  // by id

  // API keys. `key`'s id, created_ms and last_used_ms are assigned.
  virtual absl::StatusOr<ApiKeyRecord> CreateApiKey(const ApiKeyRecord& key) = 0;
  virtual absl::StatusOr<std::vector<ApiKeyRecord>> ListApiKeys() = 0;
  virtual absl::StatusOr<ApiKeyRecord> FindApiKeyByPrefix(std::string_view prefix) = 0;
  virtual absl::Status ExpireApiKey(uint64_t id) = 0;
  virtual absl::Status TouchApiKey(uint64_t id, int64_t last_used_ms) = 0;
};

// Where a store lives, parsed from its URL.
struct StoreLocation {
  enum class Kind { kSqlite, kPostgres };
  Kind kind = Kind::kSqlite;
  // SQLite: the database file's path. PostgreSQL: a libpq connection string (a URL or
  // keyword=value pairs).
  std::string target;
};

// "sqlite:PATH" (a file; created 0600 if missing), "postgres://..." or "postgresql://..." (a
// libpq URL), or "postgres:KEY=VALUE ..." (libpq keyword/value pairs, e.g.
// "postgres:host=/run/pg dbname=meshvpn"). Anything else is InvalidArgument.
absl::StatusOr<StoreLocation> ParseStoreUrl(std::string_view url);

// Opens (creating if needed) the store at `url` and brings its schema up to date, applying every
// missing migration in order. FailedPrecondition if the database is at a schema version newer
// than this code knows. Never prints the URL's password in an error.
absl::StatusOr<std::unique_ptr<Store>> OpenStore(std::string_view url,
                                                 const StoreOptions& options = {});

}  // namespace meshvpn::control
