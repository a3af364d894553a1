#include "store_migrations.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "meshvpn/base/status.h"

namespace meshvpn::control::internal {
namespace {

// Constraint names follow PostgreSQL's defaults (<table>_<column>_key), written out so both
// backends report the same names (store_sql.h) and docs/control-storage.md can cite them.
constexpr Migration kSqlite[] = {
    {1, "users, nodes, pre-auth keys, API keys, IPAM cursors",
     R"sql(
CREATE TABLE users (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  name          TEXT    NOT NULL CONSTRAINT users_name_key UNIQUE CHECK (name <> ''),
  display_name  TEXT    NOT NULL,
  created_ms    INTEGER NOT NULL
);
CREATE TABLE pre_auth_keys (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  prefix        TEXT    NOT NULL CONSTRAINT pre_auth_keys_prefix_key UNIQUE CHECK (prefix <> ''),
  key_hash      TEXT    NOT NULL
                        CHECK (length(key_hash) = 64 AND key_hash NOT GLOB '*[^0-9a-f]*'),
  reusable      INTEGER NOT NULL CHECK (reusable IN (0, 1)),
  ephemeral     INTEGER NOT NULL CHECK (ephemeral IN (0, 1)),
  expiration_ms INTEGER NOT NULL,
  used          INTEGER NOT NULL CHECK (used IN (0, 1)),
  tags          TEXT    NOT NULL,
  created_ms    INTEGER NOT NULL
);
CREATE TABLE nodes (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id          INTEGER NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
  machine_key      BLOB    NOT NULL CONSTRAINT nodes_machine_key_key UNIQUE
                           CHECK (length(machine_key) = 32),
  node_key         BLOB    NOT NULL CONSTRAINT nodes_node_key_key UNIQUE
                           CHECK (length(node_key) = 32),
  disco_key        BLOB    CHECK (disco_key IS NULL OR length(disco_key) = 32),
  hostname         TEXT    NOT NULL,
  given_name       TEXT    NOT NULL CONSTRAINT nodes_given_name_key UNIQUE
                           CHECK (given_name <> ''),
  os               TEXT    NOT NULL,
  ipv4             TEXT    NOT NULL CONSTRAINT nodes_ipv4_key UNIQUE,
  ipv6             TEXT    NOT NULL CONSTRAINT nodes_ipv6_key UNIQUE,
  endpoints        TEXT    NOT NULL,
  home_derp_region INTEGER NOT NULL,
  last_seen_ms     INTEGER NOT NULL,
  key_expiry_ms    INTEGER NOT NULL,
  expiry_disabled  INTEGER NOT NULL CHECK (expiry_disabled IN (0, 1)),
  ephemeral        INTEGER NOT NULL CHECK (ephemeral IN (0, 1)),
  tags             TEXT    NOT NULL,
  auth_key_id      INTEGER REFERENCES pre_auth_keys (id) ON DELETE SET NULL,
  created_ms       INTEGER NOT NULL
);
CREATE TABLE api_keys (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  prefix        TEXT    NOT NULL CONSTRAINT api_keys_prefix_key UNIQUE CHECK (prefix <> ''),
  key_hash      TEXT    NOT NULL
                        CHECK (length(key_hash) = 64 AND key_hash NOT GLOB '*[^0-9a-f]*'),
  expiration_ms INTEGER NOT NULL,
  created_ms    INTEGER NOT NULL,
  last_used_ms  INTEGER NOT NULL
);
CREATE TABLE ipam_cursors (
  prefix      TEXT    NOT NULL CONSTRAINT ipam_cursors_prefix_key PRIMARY KEY,
  next_offset INTEGER NOT NULL
)
)sql"},
    {2, "indexes for a user's nodes and pre-auth keys",
     R"sql(
CREATE INDEX nodes_user_id_idx ON nodes (user_id);
CREATE INDEX pre_auth_keys_user_id_idx ON pre_auth_keys (user_id)
)sql"},
};

constexpr Migration kPostgres[] = {
    {1, "users, nodes, pre-auth keys, API keys, IPAM cursors",
     R"sql(
CREATE TABLE users (
  id            BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name          TEXT    NOT NULL CONSTRAINT users_name_key UNIQUE CHECK (name <> ''),
  display_name  TEXT    NOT NULL,
  created_ms    BIGINT  NOT NULL
);
CREATE TABLE pre_auth_keys (
  id            BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id       BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  prefix        TEXT    NOT NULL CONSTRAINT pre_auth_keys_prefix_key UNIQUE CHECK (prefix <> ''),
  key_hash      TEXT    NOT NULL CHECK (key_hash ~ '^[0-9a-f]{64}$'),
  reusable      BOOLEAN NOT NULL,
  ephemeral     BOOLEAN NOT NULL,
  expiration_ms BIGINT  NOT NULL,
  used          BOOLEAN NOT NULL,
  tags          TEXT    NOT NULL,
  created_ms    BIGINT  NOT NULL
);
CREATE TABLE nodes (
  id               BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id          BIGINT  NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
  machine_key      BYTEA   NOT NULL CONSTRAINT nodes_machine_key_key UNIQUE
                           CHECK (octet_length(machine_key) = 32),
  node_key         BYTEA   NOT NULL CONSTRAINT nodes_node_key_key UNIQUE
                           CHECK (octet_length(node_key) = 32),
  disco_key        BYTEA   CHECK (disco_key IS NULL OR octet_length(disco_key) = 32),
  hostname         TEXT    NOT NULL,
  given_name       TEXT    NOT NULL CONSTRAINT nodes_given_name_key UNIQUE
                           CHECK (given_name <> ''),
  os               TEXT    NOT NULL,
  ipv4             TEXT    NOT NULL CONSTRAINT nodes_ipv4_key UNIQUE,
  ipv6             TEXT    NOT NULL CONSTRAINT nodes_ipv6_key UNIQUE,
  endpoints        TEXT    NOT NULL,
  home_derp_region INTEGER NOT NULL,
  last_seen_ms     BIGINT  NOT NULL,
  key_expiry_ms    BIGINT  NOT NULL,
  expiry_disabled  BOOLEAN NOT NULL,
  ephemeral        BOOLEAN NOT NULL,
  tags             TEXT    NOT NULL,
  auth_key_id      BIGINT  REFERENCES pre_auth_keys (id) ON DELETE SET NULL,
  created_ms       BIGINT  NOT NULL
);
CREATE TABLE api_keys (
  id            BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  prefix        TEXT    NOT NULL CONSTRAINT api_keys_prefix_key UNIQUE CHECK (prefix <> ''),
  key_hash      TEXT    NOT NULL CHECK (key_hash ~ '^[0-9a-f]{64}$'),
  expiration_ms BIGINT  NOT NULL,
  created_ms    BIGINT  NOT NULL,
  last_used_ms  BIGINT  NOT NULL
);
CREATE TABLE ipam_cursors (
  prefix      TEXT   NOT NULL CONSTRAINT ipam_cursors_prefix_key PRIMARY KEY,
  next_offset BIGINT NOT NULL
)
)sql"},
    {2, "indexes for a user's nodes and pre-auth keys",
     R"sql(
CREATE INDEX nodes_user_id_idx ON nodes (user_id);
CREATE INDEX pre_auth_keys_user_id_idx ON pre_auth_keys (user_id)
)sql"},
};

constexpr std::string_view kCreateSchemaVersion =
    "CREATE TABLE IF NOT EXISTS schema_version ("
    " version INTEGER NOT NULL PRIMARY KEY,"
    " description TEXT NOT NULL,"
    " applied_ms BIGINT NOT NULL)";

absl::Status MigrateOnce(SqlConnection& connection, std::span<const Migration> migrations,
                         int64_t now_ms) {
  MESHVPN_RETURN_IF_ERROR(connection.Begin(SqlTransaction::kReadCommitted));
  absl::Status status = [&]() -> absl::Status {
    MESHVPN_RETURN_IF_ERROR(connection.LockForMigration());
    MESHVPN_RETURN_IF_ERROR(connection.ExecScript(kCreateSchemaVersion));
    MESHVPN_ASSIGN_OR_RETURN(const int current, ReadSchemaVersion(connection));
    MESHVPN_ASSIGN_OR_RETURN(const auto plan, PlanMigrations(current, migrations));
    for (const Migration* migration : plan) {
      absl::Status applied = connection.ExecScript(migration->sql);
      if (!applied.ok()) {
        return absl::Status(applied.code(), absl::StrCat("schema migration ", migration->version,
                                                         " (", std::string(migration->description),
                                                         "): ", applied.message()));
      }
      const SqlValue params[] = {int64_t{migration->version}, std::string(migration->description),
                                 now_ms};
      MESHVPN_RETURN_IF_ERROR(
          connection
              .Query("INSERT INTO schema_version (version, description, applied_ms)"
                     " VALUES ($1, $2, $3)",
                     params)
              .status());
    }
    return connection.Commit();
  }();
  if (!status.ok()) connection.Rollback();
  return status;
}

}  // namespace

std::span<const Migration> SqliteMigrations() { return kSqlite; }
std::span<const Migration> PostgresMigrations() { return kPostgres; }
std::span<const Migration> MigrationsFor(std::string_view backend) {
  return backend == "postgres" ? PostgresMigrations() : SqliteMigrations();
}

absl::StatusOr<std::vector<const Migration*>> PlanMigrations(
    int current_version, std::span<const Migration> migrations) {
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("schema migrations must be numbered 1, 2, 3, ... in order: entry ", i + 1,
                       " has version ", migrations[i].version));
    }
    if (migrations[i].sql.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("schema migration ", migrations[i].version, " has no SQL"));
    }
  }
  const int newest = static_cast<int>(migrations.size());
  if (current_version < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("the database reports schema version ", current_version));
  }
  if (current_version > newest) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the database is at schema version ", current_version, ", newer than this build knows (",
        newest, "): it was written by a newer meshvpn; upgrade meshvpn or use another database"));
  }
  std::vector<const Migration*> plan;
  for (int version = current_version + 1; version <= newest; ++version) {
    plan.push_back(&migrations[version - 1]);
  }
  return plan;
}

absl::StatusOr<int> ReadSchemaVersion(SqlConnection& connection) {
  const std::string_view exists =
      connection.backend() == "postgres"
          ? "SELECT count(*) FROM pg_catalog.pg_tables"
            " WHERE schemaname = current_schema() AND tablename = 'schema_version'"
          : "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'";
  MESHVPN_ASSIGN_OR_RETURN(const SqlRows tables, connection.Query(exists));
  if (tables.empty() || tables[0].Int(0) == 0) return 0;
  MESHVPN_ASSIGN_OR_RETURN(
      const SqlRows rows, connection.Query("SELECT COALESCE(MAX(version), 0) FROM schema_version"));
  if (rows.empty()) return 0;
  return static_cast<int>(rows[0].Int(0));
}

absl::Status Migrate(SqlConnection& connection, std::span<const Migration> migrations,
                     int64_t now_ms, int max_attempts) {
  // Validate the list itself before touching the database.
  MESHVPN_RETURN_IF_ERROR(PlanMigrations(0, migrations).status());
  absl::Status status;
  for (int attempt = 0; attempt < std::max(1, max_attempts); ++attempt) {
    status = MigrateOnce(connection, migrations, now_ms);
    if (!IsRetryableConflict(status)) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(2 * (attempt + 1)));
  }
  return status;
}

}  // namespace meshvpn::control::internal
