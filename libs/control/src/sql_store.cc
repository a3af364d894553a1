// Store over an SqlConnection: the same SQL on SQLite and PostgreSQL (parameters $1.., RETURNING,
// ON CONFLICT), every write in one transaction run again when it loses a race.
#include <chrono>
#include <mutex>
#include <random>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "meshvpn/base/status.h"
#include "meshvpn/control/store.h"
#include "nlohmann/json.hpp"
#include "store_migrations.h"
#include "store_sql.h"

namespace meshvpn::control::internal {
namespace {

constexpr std::string_view kNodeColumns =
    "id, user_id, machine_key, node_key, disco_key, hostname, given_name, os, ipv4, ipv6,"
    " endpoints, home_derp_region, last_seen_ms, key_expiry_ms, expiry_disabled, ephemeral, tags,"
    " auth_key_id, created_ms";
constexpr std::string_view kPreAuthKeyColumns =
    "id, user_id, prefix, key_hash, reusable, ephemeral, expiration_ms, used, tags, created_ms";
constexpr std::string_view kApiKeyColumns =
    "id, prefix, key_hash, expiration_ms, created_ms, last_used_ms";

std::string Sql(std::string_view a, std::string_view b = {}, std::string_view c = {}) {
  return absl::StrCat(absl::string_view(a.data(), a.size()), absl::string_view(b.data(), b.size()),
                      absl::string_view(c.data(), c.size()));
}

int64_t Id(uint64_t id) { return static_cast<int64_t>(id); }
int64_t Bool(bool value) { return value ? 1 : 0; }

SqlValue KeyValue(const x25519::PublicKey& key) {
  return SqlBlob{
      std::string(reinterpret_cast<const char*>(key.bytes().data()), key.bytes().size())};
}
// The all-zero disco key ("not reported yet") is stored as NULL.
SqlValue OptionalKeyValue(const x25519::PublicKey& key) {
  if (key.IsZero()) return std::monostate{};
  return KeyValue(key);
}
x25519::PublicKey KeyFrom(const std::string& bytes) {
  auto key = x25519::PublicKey::FromBytes(
      std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  return key.ok() ? *key : x25519::PublicKey();
}

std::string ListValue(const std::vector<std::string>& list) { return nlohmann::json(list).dump(); }
std::vector<std::string> ListFrom(const std::string& text) {
  nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  std::vector<std::string> list;
  if (!json.is_array()) return list;
  for (const auto& item : json) {
    if (item.is_string()) list.push_back(item.get<std::string>());
  }
  return list;
}

bool IsHexHash(std::string_view hash) {
  if (hash.size() != 64) return false;
  for (char c : hash) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

UserRecord UserFrom(const SqlRow& row) {
  return UserRecord{static_cast<uint64_t>(row.Int(0)), row.Text(1), row.Text(2), row.Int(3)};
}

NodeRecord NodeFrom(const SqlRow& row) {
  NodeRecord node;
  node.id = static_cast<uint64_t>(row.Int(0));
  node.user_id = static_cast<uint64_t>(row.Int(1));
  node.machine_key = KeyFrom(row.Blob(2));
  node.node_key = KeyFrom(row.Blob(3));
  if (!row.IsNull(4)) node.disco_key = KeyFrom(row.Blob(4));
  node.hostname = row.Text(5);
  node.given_name = row.Text(6);
  node.os = row.Text(7);
  node.ipv4 = row.Text(8);
  node.ipv6 = row.Text(9);
  node.endpoints = ListFrom(row.Text(10));
  node.home_derp_region = static_cast<int32_t>(row.Int(11));
  node.last_seen_ms = row.Int(12);
  node.key_expiry_ms = row.Int(13);
  node.expiry_disabled = row.Int(14) != 0;
  node.ephemeral = row.Int(15) != 0;
  node.tags = ListFrom(row.Text(16));
  node.auth_key_id = static_cast<uint64_t>(row.Int(17));
  node.created_ms = row.Int(18);
  return node;
}

PreAuthKeyRecord PreAuthKeyFrom(const SqlRow& row) {
  PreAuthKeyRecord key;
  key.id = static_cast<uint64_t>(row.Int(0));
  key.user_id = static_cast<uint64_t>(row.Int(1));
  key.prefix = row.Text(2);
  key.key_hash = row.Text(3);
  key.reusable = row.Int(4) != 0;
  key.ephemeral = row.Int(5) != 0;
  key.expiration_ms = row.Int(6);
  key.used = row.Int(7) != 0;
  key.tags = ListFrom(row.Text(8));
  key.created_ms = row.Int(9);
  return key;
}

ApiKeyRecord ApiKeyFrom(const SqlRow& row) {
  return ApiKeyRecord{static_cast<uint64_t>(row.Int(0)),
                      row.Text(1),
                      row.Text(2),
                      row.Int(3),
                      row.Int(4),
                      row.Int(5)};
}

// What a taken unique value means, for the AlreadyExists message (which also names the
// constraint, and never repeats a key or a hash).
std::string_view ConstraintMeaning(std::string_view constraint) {
  if (constraint == "users_name_key") return "a user with this name exists";
  if (constraint == "nodes_machine_key_key") return "a node with this machine key exists";
  if (constraint == "nodes_node_key_key") return "a node with this node key exists";
  if (constraint == "nodes_given_name_key") return "a node with this given name exists";
  if (constraint == "nodes_ipv4_key") return "the IPv4 address is taken";
  if (constraint == "nodes_ipv6_key") return "the IPv6 address is taken";
  if (constraint == "pre_auth_keys_prefix_key") return "a pre-auth key with this prefix exists";
  if (constraint == "api_keys_prefix_key") return "an API key with this prefix exists";
  return "a unique value is taken";
}

// Prefixes a call's name to an error; a unique violation is reworded (keeping its constraint).
absl::Status Annotate(std::string_view call, const absl::Status& status) {
  if (status.ok()) return status;
  if (std::optional<std::string> constraint = ViolatedConstraint(status)) {
    return UniqueViolationError(*constraint, Sql(call, ": ", ConstraintMeaning(*constraint)));
  }
  absl::Status annotated(status.code(), Sql(call, ": ", std::string(status.message())));
  status.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
    annotated.SetPayload(url, payload);
  });
  return annotated;
}

class SqlStore final : public Store {
 public:
  SqlStore(std::unique_ptr<SqlConnection> connection, const StoreOptions& options, AddressPool ipv4,
           AddressPool ipv6)
      : connection_(std::move(connection)),
        options_(options),
        clock_(options.clock != nullptr ? options.clock : &RealClock::Instance()),
        ipv4_(std::move(ipv4)),
        ipv6_(std::move(ipv6)),
        random_(std::random_device{}()) {}

  std::string_view backend() const override { return connection_->backend(); }

  absl::StatusOr<int> SchemaVersion() override {
    std::lock_guard lock(mutex_);
    return ReadSchemaVersion(*connection_);
  }

  // --- users ---------------------------------------------------------------------------------

  absl::StatusOr<UserRecord> CreateUser(std::string_view name,
                                        std::string_view display_name) override {
    if (name.empty()) return absl::InvalidArgumentError("CreateUser: the name is empty");
    std::lock_guard lock(mutex_);
    const SqlValue params[] = {std::string(name), std::string(display_name), NowMs()};
    UserRecord user;
    absl::Status status = Transact([&]() -> absl::Status {
      MESHVPN_ASSIGN_OR_RETURN(const SqlRows rows,
                               connection_->Query("INSERT INTO users (name, display_name, "
                                                  "created_ms) VALUES ($1, $2, $3)"
                                                  " RETURNING id, name, display_name, created_ms",
                                                  params));
      user = UserFrom(rows.at(0));
      return absl::OkStatus();
    });
    if (!status.ok()) return Annotate("CreateUser", status);
    return user;
  }

  absl::StatusOr<std::vector<UserRecord>> ListUsers() override {
    std::lock_guard lock(mutex_);
    MESHVPN_ASSIGN_OR_RETURN(
        const SqlRows rows,
        Read("ListUsers", "SELECT id, name, display_name, created_ms FROM users ORDER BY id", {}));
    std::vector<UserRecord> users;
    for (const SqlRow& row : rows) users.push_back(UserFrom(row));
    return users;
  }

  absl::StatusOr<UserRecord> GetUser(uint64_t id) override {
    std::lock_guard lock(mutex_);
    const SqlValue params[] = {Id(id)};
    MESHVPN_ASSIGN_OR_RETURN(
        const SqlRows rows,
        Read("GetUser", "SELECT id, name, display_name, created_ms FROM users WHERE id = $1",
             params));
    if (rows.empty()) return absl::NotFoundError(absl::StrCat("user ", id, " not found"));
    return UserFrom(rows[0]);
  }

  absl::StatusOr<UserRecord> GetUserByName(std::string_view name) override {
    std::lock_guard lock(mutex_);
    const SqlValue params[] = {std::string(name)};
    MESHVPN_ASSIGN_OR_RETURN(
        const SqlRows rows,
        Read("GetUserByName",
             "SELECT id, name, display_name, created_ms FROM users WHERE name = $1", params));
    if (rows.empty()) {
      return absl::NotFoundError(absl::StrCat("user \"", std::string(name), "\" not found"));
    }
    return UserFrom(rows[0]);
  }

  absl::Status DeleteUser(uint64_t id) override {
    std::lock_guard lock(mutex_);
    const SqlValue params[] = {Id(id)};
    return Annotate(
        "DeleteUser", Transact([&]() -> absl::Status {
          MESHVPN_ASSIGN_OR_RETURN(
              const SqlRows nodes,
              connection_->Query("SELECT count(*) FROM nodes WHERE user_id = $1", params));
          if (!nodes.empty() && nodes[0].Int(0) > 0) {
            return absl::FailedPreconditionError(
                absl::StrCat("user ", id, " still has ", nodes[0].Int(0), " node(s)"));
          }
          MESHVPN_ASSIGN_OR_RETURN(
              const SqlRows deleted,
              connection_->Query("DELETE FROM users WHERE id = $1 RETURNING id", params));
          if (deleted.empty()) {
            return absl::NotFoundError(absl::StrCat("user ", id, " not found"));
          }
          return absl::OkStatus();
        }));
  }

  // --- pre-auth keys -------------------------------------------------------------------------

  absl::StatusOr<PreAuthKeyRecord> CreatePreAuthKey(const PreAuthKeyRecord& key) override {
    if (key.prefix.empty()) return absl::InvalidArgumentError("CreatePreAuthKey: no prefix");
    if (!IsHexHash(key.key_hash)) {
      return absl::InvalidArgumentError(
          "CreatePreAuthKey: key_hash must be 64 lowercase hex digits (a SHA-256)");
    }
    std::lock_guard lock(mutex_);
    const SqlValue params[] = {
        Id(key.user_id),     key.prefix,        key.key_hash,        Bool(key.reusable),
        Bool(key.ephemeral), key.expiration_ms, ListValue(key.tags), NowMs()};
    PreAuthKeyRecord created;
    absl::Status status = Transact([&]() -> absl::Status {
      MESHVPN_RETURN_IF_ERROR(RequireUser(key.user_id));
      MESHVPN_ASSIGN_OR_RETURN(
          const SqlRows rows,
          connection_->Query(Sql("INSERT INTO pre_auth_keys (user_id, prefix, key_hash, reusable,"
                                 " ephemeral, expiration_ms, used, tags, created_ms)"
                                 " VALUES ($1, $2, $3, $4, $5, $6, FALSE, $7, $8) RETURNING ",
                                 kPreAuthKeyColumns),
                             params));
      created = PreAuthKeyFrom(rows.at(0));
      return absl::OkStatus();
    });
    if (!status.ok()) return Annotate("CreatePreAuthKey", status);
    return created;
  }

  absl::StatusOr<std::vector<PreAuthKeyRecord>> ListPreAuthKeys(uint64_t user_id) override {
    std::lock_guard lock(mutex_);
    const SqlValue params[] = {Id(user_id)};
    MESHVPN_ASSIGN_OR_RETURN(const SqlRows rows,
                             Read("ListPreAuthKeys",
                                  Sql("SELECT ", kPreAuthKeyColumns,
                                      " FROM pre_auth_keys WHERE user_id = $1 ORDER BY id"),
                                  params));
    std::vector<PreAuthKeyRecord> keys;
    for (const SqlRow& row : rows) keys.push_back(PreAuthKeyFrom(row));
    return keys;
  }

  absl::StatusOr<PreAuthKeyRecord> GetPreAuthKey(uint64_t id) override {
    std::lock_guard lock(mutex_);
    const SqlValue params[] = {Id(id)};
    MESHVPN_ASSIGN_OR_RETURN(
        const SqlRows rows,
        Read("GetPreAuthKey",
             Sql("SELECT ", kPreAuthKeyColumns, " FROM pre_auth_keys WHERE id = $1"), params));
    if (rows.empty()) return absl::NotFoundError(absl::StrCat("pre-auth key ", id, " not found"));
    return PreAuthKeyFrom(rows[0]);
  }

  absl::StatusOr<PreAuthKeyRecord> FindPreAuthKeyByPrefix(std::string_view prefix) override {
    std::lock_guard lock(mutex_);
    const SqlValue params[] = {std::string(prefix)};
    MESHVPN_ASSIGN_OR_RETURN(
        const SqlRows rows,
        Read("FindPreAuthKeyByPrefix",
             Sql("SELECT ", kPreAuthKeyColumns, " FROM pre_auth_keys WHERE prefix = $1"), params));
    // The prefix is the key's public part: it may be named.
    if (rows.empty()) {
      return absl::NotFoundError(absl::StrCat("no pre-auth key ", std::string(prefix)));
    }
    return PreAuthKeyFrom(rows[0]);
  }

  absl::Status ExpirePreAuthKey(uint64_t id) override {
    return ExpireKey("ExpirePreAuthKey", "pre_auth_keys", "pre-auth key", id);
  }

  absl::Status UsePreAuthKey(uint64_t id) override {
    std::lock_guard lock(mutex_);
    const SqlValue params[] = {Id(id)};
    return Annotate(
        "UsePreAuthKey", Transact([&]() -> absl::Status {
          MESHVPN_ASSIGN_OR_RETURN(
              const SqlRows rows,
              connection_->Query("SELECT user_id FROM pre_auth_keys WHERE id = $1", params));
          if (rows.empty()) {
            return absl::NotFoundError(absl::StrCat("pre-auth key ", id, " not found"));
          }
          return ConsumeSingleUseKey(id, static_cast<uint64_t>(rows[0].Int(0)));
        }));
  }

  // --- nodes ---------------------------------------------------------------------------------

  absl::StatusOr<NodeRecord> RegisterNode(const NodeRecord& node,
                                          std::optional<uint64_t> single_use_key_id) override;
  absl::StatusOr<NodeRecord> UpdateNode(const NodeRecord& node) override;

  absl::Status DeleteNode(uint64_t id) override {
    std::lock_guard lock(mutex_);
    const SqlValue params[] = {Id(id)};
    return Annotate(
        "DeleteNode", Transact([&]() -> absl::Status {
          MESHVPN_ASSIGN_OR_RETURN(
              const SqlRows rows,
              connection_->Query("DELETE FROM nodes WHERE id = $1 RETURNING id", params));
          if (rows.empty()) {
            return absl::NotFoundError(absl::StrCat("node ", id, " not found"));
          }
          return absl::OkStatus();
        }));
  }

  absl::StatusOr<NodeRecord> GetNode(uint64_t id) override {
    std::lock_guard lock(mutex_);
    return NodeWhere("GetNode", "id = $1", Id(id), absl::StrCat("node ", id));
  }

  absl::StatusOr<NodeRecord> GetNodeByMachineKey(const x25519::PublicKey& machine_key) override {
    std::lock_guard lock(mutex_);
    return NodeWhere("GetNodeByMachineKey", "machine_key = $1", KeyValue(machine_key),
                     "the node with this machine key");
  }

  absl::StatusOr<NodeRecord> GetNodeByNodeKey(const x25519::PublicKey& node_key) override {
    std::lock_guard lock(mutex_);
    return NodeWhere("GetNodeByNodeKey", "node_key = $1", KeyValue(node_key),
                     "the node with this node key");
  }

  absl::StatusOr<std::vector<NodeRecord>> ListNodes() override {
    std::lock_guard lock(mutex_);
    MESHVPN_ASSIGN_OR_RETURN(
        const SqlRows rows,
        Read("ListNodes", Sql("SELECT ", kNodeColumns, " FROM nodes ORDER BY id"), {}));
    std::vector<NodeRecord> nodes;
    for (const SqlRow& row : rows) nodes.push_back(NodeFrom(row));
    return nodes;
  }

  // --- API keys ------------------------------------------------------------------------------

  absl::StatusOr<ApiKeyRecord> CreateApiKey(const ApiKeyRecord& key) override {
    if (key.prefix.empty()) return absl::InvalidArgumentError("CreateApiKey: no prefix");
    if (!IsHexHash(key.key_hash)) {
      return absl::InvalidArgumentError(
          "CreateApiKey: key_hash must be 64 lowercase hex digits (a SHA-256)");
    }
    std::lock_guard lock(mutex_);
    const SqlValue params[] = {key.prefix, key.key_hash, key.expiration_ms, NowMs()};
    ApiKeyRecord created;
    absl::Status status = Transact([&]() -> absl::Status {
      MESHVPN_ASSIGN_OR_RETURN(
          const SqlRows rows,
          connection_->Query(Sql("INSERT INTO api_keys (prefix, key_hash, expiration_ms,"
                                 " created_ms, last_used_ms) VALUES ($1, $2, $3, $4, 0)"
                                 " RETURNING ",
                                 kApiKeyColumns),
                             params));
      created = ApiKeyFrom(rows.at(0));
      return absl::OkStatus();
    });
    if (!status.ok()) return Annotate("CreateApiKey", status);
    return created;
  }

  absl::StatusOr<std::vector<ApiKeyRecord>> ListApiKeys() override {
    std::lock_guard lock(mutex_);
    MESHVPN_ASSIGN_OR_RETURN(
        const SqlRows rows,
        Read("ListApiKeys", Sql("SELECT ", kApiKeyColumns, " FROM api_keys ORDER BY id"), {}));
    std::vector<ApiKeyRecord> keys;
    for (const SqlRow& row : rows) keys.push_back(ApiKeyFrom(row));
    return keys;
  }

  absl::StatusOr<ApiKeyRecord> FindApiKeyByPrefix(std::string_view prefix) override {
    std::lock_guard lock(mutex_);
    const SqlValue params[] = {std::string(prefix)};
    MESHVPN_ASSIGN_OR_RETURN(
        const SqlRows rows,
        Read("FindApiKeyByPrefix",
             Sql("SELECT ", kApiKeyColumns, " FROM api_keys WHERE prefix = $1"), params));
    if (rows.empty()) return absl::NotFoundError(absl::StrCat("no API key ", std::string(prefix)));
    return ApiKeyFrom(rows[0]);
  }

  absl::Status ExpireApiKey(uint64_t id) override {
    return ExpireKey("ExpireApiKey", "api_keys", "API key", id);
  }

  absl::Status TouchApiKey(uint64_t id, int64_t last_used_ms) override {
    std::lock_guard lock(mutex_);
    const SqlValue params[] = {Id(id), last_used_ms};
    return Annotate(
        "TouchApiKey", Transact([&]() -> absl::Status {
          MESHVPN_ASSIGN_OR_RETURN(
              const SqlRows rows,
              connection_->Query("UPDATE api_keys SET last_used_ms = $2 WHERE id = $1 RETURNING id",
                                 params));
          if (rows.empty()) {
            return absl::NotFoundError(absl::StrCat("API key ", id, " not found"));
          }
          return absl::OkStatus();
        }));
  }

 private:
  int64_t NowMs() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               clock_->WallNow().time_since_epoch())
        .count();
  }

  // A read outside a transaction (one statement sees one snapshot on both backends).
  absl::StatusOr<SqlRows> Read(std::string_view call, std::string_view sql,
                               std::span<const SqlValue> params) {
    absl::StatusOr<SqlRows> rows = connection_->Query(sql, params);
    if (!rows.ok()) return Annotate(call, rows.status());
    return rows;
  }

  // Runs `body` in a write transaction, again (after a short random pause) while it loses a race
  // to another writer, up to options_.max_attempts times. Caller holds mutex_.
  absl::Status Transact(const std::function<absl::Status()>& body) {
    const int attempts = std::max(1, options_.max_attempts);
    absl::Status last;
    for (int attempt = 0; attempt < attempts; ++attempt) {
      if (attempt > 0) {
        const int ceiling = 1 << std::min(attempt, 6);
        std::uniform_int_distribution<int> pause(0, ceiling * 1000);
        std::this_thread::sleep_for(std::chrono::microseconds(pause(random_)));
      }
      absl::Status status = connection_->Begin(SqlTransaction::kSerializable);
      if (status.ok()) status = body();
      if (status.ok()) status = connection_->Commit();
      if (status.ok()) return status;
      connection_->Rollback();
      if (!IsRetryableConflict(status)) return status;
      last = status;
    }
    return absl::AbortedError(absl::StrCat(
        "lost ", attempts, " races to other writers in a row (last: ", last.message(), ")"));
  }

  absl::Status RequireUser(uint64_t user_id) {
    const SqlValue params[] = {Id(user_id)};
    MESHVPN_ASSIGN_OR_RETURN(const SqlRows rows,
                             connection_->Query("SELECT id FROM users WHERE id = $1", params));
    if (rows.empty()) return absl::NotFoundError(absl::StrCat("user ", user_id, " not found"));
    return absl::OkStatus();
  }

  absl::StatusOr<NodeRecord> NodeWhere(std::string_view call, std::string_view condition,
                                       SqlValue value, std::string_view what) {
    const SqlValue params[] = {std::move(value)};
    MESHVPN_ASSIGN_OR_RETURN(
        const SqlRows rows,
        Read(call, Sql(Sql("SELECT ", kNodeColumns, " FROM nodes WHERE "), condition), params));
    if (rows.empty()) return absl::NotFoundError(Sql(what, " not found"));
    return NodeFrom(rows[0]);
  }

  absl::Status ExpireKey(std::string_view call, std::string_view table, std::string_view what,
                         uint64_t id) {
    std::lock_guard lock(mutex_);
    const SqlValue params[] = {Id(id), NowMs()};
    return Annotate(
        call, Transact([&]() -> absl::Status {
          const SqlValue id_param[] = {Id(id)};
          MESHVPN_ASSIGN_OR_RETURN(
              const SqlRows rows,
              connection_->Query(Sql("SELECT id FROM ", table, " WHERE id = $1"), id_param));
          if (rows.empty()) return absl::NotFoundError(Sql(what, " not found"));
          return connection_
              ->Query(Sql("UPDATE ", table,
                          " SET expiration_ms = $2 WHERE id = $1"
                          " AND (expiration_ms = 0 OR expiration_ms > $2)"),
                      params)
              .status();
        }));
  }

  // Inside RegisterNode's transaction: the pool's next free address, found from its cursor, and
  // the cursor moved past it.
  absl::StatusOr<std::string> Allocate(const AddressPool& pool, std::string_view column);
  absl::Status ConsumeSingleUseKey(uint64_t key_id, uint64_t user_id);

  std::mutex mutex_;
  std::unique_ptr<SqlConnection> connection_;
  StoreOptions options_;
  const Clock* clock_;
  AddressPool ipv4_;
  AddressPool ipv6_;
  std::minstd_rand random_;
};

absl::StatusOr<std::string> SqlStore::Allocate(const AddressPool& pool, std::string_view column) {
  const std::string prefix = pool.prefix().ToString();
  const SqlValue cursor_params[] = {prefix};
  MESHVPN_ASSIGN_OR_RETURN(
      const SqlRows cursor,
      connection_->Query("SELECT next_offset FROM ipam_cursors WHERE prefix = $1", cursor_params));
  const uint64_t start = cursor.empty() ? 1 : static_cast<uint64_t>(cursor[0].Int(0));
  const std::string used_sql = Sql("SELECT 1 FROM nodes WHERE ", column, " = $1");
  MESHVPN_ASSIGN_OR_RETURN(
      const uint64_t offset, pool.FindFree(start, [&](uint64_t candidate) -> absl::StatusOr<bool> {
        const SqlValue params[] = {pool.AddressAt(candidate).ToString()};
        MESHVPN_ASSIGN_OR_RETURN(const SqlRows rows, connection_->Query(used_sql, params));
        return !rows.empty();
      }));
  const SqlValue update[] = {prefix, static_cast<int64_t>(offset + 1)};
  MESHVPN_RETURN_IF_ERROR(
      connection_
          ->Query("INSERT INTO ipam_cursors (prefix, next_offset) VALUES ($1, $2)"
                  " ON CONFLICT (prefix) DO UPDATE SET next_offset = excluded.next_offset",
                  update)
          .status());
  return pool.AddressAt(offset).ToString();
}

absl::Status SqlStore::ConsumeSingleUseKey(uint64_t key_id, uint64_t user_id) {
  const SqlValue params[] = {Id(key_id)};
  MESHVPN_ASSIGN_OR_RETURN(
      const SqlRows rows,
      connection_->Query(
          "SELECT user_id, reusable, expiration_ms, used FROM pre_auth_keys WHERE id = $1",
          params));
  const std::string name = absl::StrCat("pre-auth key ", key_id);
  if (rows.empty()) return absl::FailedPreconditionError(absl::StrCat(name, " does not exist"));
  const SqlRow& row = rows[0];
  if (static_cast<uint64_t>(row.Int(0)) != user_id) {
    return absl::FailedPreconditionError(absl::StrCat(name, " belongs to another user"));
  }
  if (row.Int(1) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(name, " is reusable, not single-use"));
  }
  const int64_t expiration = row.Int(2);
  if (expiration != 0 && expiration <= NowMs()) {
    return absl::FailedPreconditionError(absl::StrCat(name, " has expired"));
  }
  if (row.Int(3) != 0) return absl::FailedPreconditionError(absl::StrCat(name, " is already used"));
  return connection_->Query("UPDATE pre_auth_keys SET used = TRUE WHERE id = $1", params).status();
}

absl::StatusOr<NodeRecord> SqlStore::RegisterNode(const NodeRecord& node,
                                                  std::optional<uint64_t> single_use_key_id) {
  if (node.machine_key.IsZero() || node.node_key.IsZero()) {
    return absl::InvalidArgumentError("RegisterNode: the machine key and node key must be set");
  }
  if (node.given_name.empty()) return absl::InvalidArgumentError("RegisterNode: no given_name");
  std::lock_guard lock(mutex_);
  const uint64_t auth_key_id =
      node.auth_key_id != 0 ? node.auth_key_id : single_use_key_id.value_or(0);
  NodeRecord registered;
  absl::Status status = Transact([&]() -> absl::Status {
    MESHVPN_RETURN_IF_ERROR(RequireUser(node.user_id));
    if (single_use_key_id.has_value()) {
      MESHVPN_RETURN_IF_ERROR(ConsumeSingleUseKey(*single_use_key_id, node.user_id));
    }
    MESHVPN_ASSIGN_OR_RETURN(const std::string ipv4, Allocate(ipv4_, "ipv4"));
    MESHVPN_ASSIGN_OR_RETURN(const std::string ipv6, Allocate(ipv6_, "ipv6"));
    const SqlValue params[] = {Id(node.user_id),
                               KeyValue(node.machine_key),
                               KeyValue(node.node_key),
                               OptionalKeyValue(node.disco_key),
                               node.hostname,
                               node.given_name,
                               node.os,
                               ipv4,
                               ipv6,
                               ListValue(node.endpoints),
                               int64_t{node.home_derp_region},
                               node.last_seen_ms,
                               node.key_expiry_ms,
                               Bool(node.expiry_disabled),
                               Bool(node.ephemeral),
                               ListValue(node.tags),
                               auth_key_id == 0 ? SqlValue{} : SqlValue{Id(auth_key_id)},
                               NowMs()};
    absl::StatusOr<SqlRows> rows = connection_->Query(
        Sql("INSERT INTO nodes (user_id, machine_key, node_key, disco_key, hostname, given_name,"
            " os, ipv4, ipv6, endpoints, home_derp_region, last_seen_ms, key_expiry_ms,"
            " expiry_disabled, ephemeral, tags, auth_key_id, created_ms) VALUES ($1, $2, $3, $4,"
            " $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) RETURNING ",
            kNodeColumns),
        params);
    if (!rows.ok()) {
      // An address another server took between our look and our insert: look again.
      const std::optional<std::string> constraint = ViolatedConstraint(rows.status());
      if (constraint == "nodes_ipv4_key" || constraint == "nodes_ipv6_key") {
        return RetryableConflictError(
            absl::StrCat("address taken concurrently (", *constraint, ")"));
      }
      return rows.status();
    }
    registered = NodeFrom(rows->at(0));
    return absl::OkStatus();
  });
  if (!status.ok()) return Annotate("RegisterNode", status);
  return registered;
}

absl::StatusOr<NodeRecord> SqlStore::UpdateNode(const NodeRecord& node) {
  if (node.node_key.IsZero()) return absl::InvalidArgumentError("UpdateNode: no node key");
  if (node.given_name.empty()) return absl::InvalidArgumentError("UpdateNode: no given_name");
  std::lock_guard lock(mutex_);
  const SqlValue params[] = {Id(node.id),
                             Id(node.user_id),
                             KeyValue(node.node_key),
                             OptionalKeyValue(node.disco_key),
                             node.hostname,
                             node.given_name,
                             node.os,
                             ListValue(node.endpoints),
                             int64_t{node.home_derp_region},
                             node.last_seen_ms,
                             node.key_expiry_ms,
                             Bool(node.expiry_disabled),
                             Bool(node.ephemeral),
                             ListValue(node.tags),
                             node.auth_key_id == 0 ? SqlValue{} : SqlValue{Id(node.auth_key_id)}};
  NodeRecord updated;
  absl::Status status = Transact([&]() -> absl::Status {
    MESHVPN_ASSIGN_OR_RETURN(
        const SqlRows rows,
        connection_->Query(
            Sql("UPDATE nodes SET user_id = $2, node_key = $3, disco_key = $4, hostname = $5,"
                " given_name = $6, os = $7, endpoints = $8, home_derp_region = $9,"
                " last_seen_ms = $10, key_expiry_ms = $11, expiry_disabled = $12,"
                " ephemeral = $13, tags = $14, auth_key_id = $15 WHERE id = $1 RETURNING ",
                kNodeColumns),
            params));
    if (rows.empty()) return absl::NotFoundError(absl::StrCat("node ", node.id, " not found"));
    updated = NodeFrom(rows[0]);
    return absl::OkStatus();
  });
  if (!status.ok()) return Annotate("UpdateNode", status);
  return updated;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Store>> OpenSqlStore(std::unique_ptr<SqlConnection> connection,
                                                    const StoreOptions& options) {
  MESHVPN_ASSIGN_OR_RETURN(AddressPool ipv4, AddressPool::Parse(options.ipam.ipv4_prefix));
  MESHVPN_ASSIGN_OR_RETURN(AddressPool ipv6, AddressPool::Parse(options.ipam.ipv6_prefix));
  if (ipv4.family() != IpFamily::kIpv4 || ipv6.family() != IpFamily::kIpv6) {
    return absl::InvalidArgumentError(
        "store: ipam.ipv4_prefix must be an IPv4 prefix and ipam.ipv6_prefix an IPv6 one");
  }
  const Clock* clock = options.clock != nullptr ? options.clock : &RealClock::Instance();
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock->WallNow().time_since_epoch())
          .count();
  MESHVPN_RETURN_IF_ERROR(
      Migrate(*connection, MigrationsFor(connection->backend()), now_ms, options.max_attempts));
  return std::unique_ptr<Store>(
      new SqlStore(std::move(connection), options, std::move(ipv4), std::move(ipv6)));
}

}  // namespace meshvpn::control::internal
