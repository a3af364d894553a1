// The SQL connection the store's two backends implement: values, rows, transactions, and errors
// classified the same way for SQLite and PostgreSQL, so that one SqlStore runs on both.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "meshvpn/control/store.h"

namespace meshvpn::control::internal {

// Bytes stored as BLOB (SQLite) or BYTEA (PostgreSQL).
struct SqlBlob {
  std::string bytes;
};

// NULL, an integer (booleans are 0/1), text, or bytes. Parameters are written $1, $2, ... in
// the SQL on both backends.
using SqlValue = std::variant<std::monostate, int64_t, std::string, SqlBlob>;

struct SqlRow {
  std::vector<SqlValue> values;

  bool IsNull(size_t column) const;
  // NULL reads as 0, "" and "" (the schema's NOT NULL columns never are).
  int64_t Int(size_t column) const;
  std::string Text(size_t column) const;
  std::string Blob(size_t column) const;
};
using SqlRows = std::vector<SqlRow>;

// Which transaction Begin() opens. kSerializable is every write of the store: SQLite's BEGIN
// IMMEDIATE (one writer at a time across processes, waiting up to the busy timeout), PostgreSQL's
// SERIALIZABLE (conflicts fail with a retryable error). kReadCommitted is for the migrator, which
// serializes itself with a lock and must see what the migrator before it committed.
enum class SqlTransaction { kSerializable, kReadCommitted };

class SqlConnection {
 public:
  virtual ~SqlConnection() = default;
  virtual std::string_view backend() const = 0;  // "sqlite" | "postgres"

  // One statement with parameters $1..$n; its rows (none for a statement that returns none).
  virtual absl::StatusOr<SqlRows> Query(std::string_view sql,
                                        std::span<const SqlValue> params = {}) = 0;
  // Statements separated by ';', without parameters (migrations).
  virtual absl::Status ExecScript(std::string_view sql) = 0;

  virtual absl::Status Begin(SqlTransaction kind) = 0;
  virtual absl::Status Commit() = 0;
  // Never fails in a way the caller can act on; a broken connection is reset on next use.
  virtual void Rollback() = 0;
  // Inside a transaction: waits until no other migrator (any process) holds the lock, which is
  // released at commit or rollback. PostgreSQL: pg_advisory_xact_lock. SQLite: nothing, BEGIN
  // IMMEDIATE already excludes every other writer.
  virtual absl::Status LockForMigration() = 0;
};

// Opens the connection for `location` (creating a SQLite file 0600 if missing). Pragmas and
// session settings from `options` are applied; the schema is not touched.
absl::StatusOr<std::unique_ptr<SqlConnection>> OpenSqliteConnection(const std::string& path,
                                                                    const StoreOptions& options);
absl::StatusOr<std::unique_ptr<SqlConnection>> OpenPostgresConnection(const std::string& conninfo,
                                                                      const StoreOptions& options);
absl::StatusOr<std::unique_ptr<SqlConnection>> OpenSqlConnection(const StoreLocation& location,
                                                                 const StoreOptions& options);

// The Store over an open connection (sql_store.cc): applies the migrations, then serves every
// call in transactions on `connection`.
absl::StatusOr<std::unique_ptr<Store>> OpenSqlStore(std::unique_ptr<SqlConnection> connection,
                                                    const StoreOptions& options);

// Errors, classified by the backends:
//   a UNIQUE violation     -> AlreadyExists, naming the constraint as "<table>_<column>_key"
//                             (PostgreSQL's default name; SQLite's "table.column" is mapped)
//   a serialization failure or deadlock (PostgreSQL 40001, 40P01) -> Aborted, retryable
//   a foreign key violation -> FailedPrecondition; a CHECK violation -> InvalidArgument
//   busy / lock timeout / connection lost -> Unavailable
absl::Status UniqueViolationError(std::string_view constraint, std::string_view message);
// The constraint a UNIQUE violation names; nullopt for any other status.
std::optional<std::string> ViolatedConstraint(const absl::Status& status);
absl::Status RetryableConflictError(std::string_view message);
// True for a conflict that running the transaction again can resolve.
bool IsRetryableConflict(const absl::Status& status);

}  // namespace meshvpn::control::internal
