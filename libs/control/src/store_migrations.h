// The store's versioned schema: the migrations of each backend, the plan that picks which to
// apply to a database, and the migrator that applies them in one transaction at open.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "store_sql.h"

namespace meshvpn::control::internal {

struct Migration {
  int version;  // 1, 2, 3, ...: each list holds every version from 1 up, in order
  std::string_view description;
  std::string_view sql;  // statements separated by ';'
};

// The schema, step by step; both lists have the same versions and mean the same tables.
std::span<const Migration> SqliteMigrations();
std::span<const Migration> PostgresMigrations();
std::span<const Migration> MigrationsFor(std::string_view backend);

// The migrations to apply to a database at `current_version` (0: empty), in order.
// InvalidArgument if `migrations` is not 1, 2, ..., n; FailedPrecondition if the database is
// newer than the code (current_version > n): the code must not write a schema it does not know.
absl::StatusOr<std::vector<const Migration*>> PlanMigrations(int current_version,
                                                             std::span<const Migration> migrations);

// The newest version recorded in schema_version (0 if the table is missing or empty).
absl::StatusOr<int> ReadSchemaVersion(SqlConnection& connection);

// Brings the database up to date: in one transaction, under the migration lock, reads the
// version, applies the planned migrations and records each in schema_version. Two processes
// opening one new database at once: the second waits, then finds nothing to do.
absl::Status Migrate(SqlConnection& connection, std::span<const Migration> migrations,
                     int64_t now_ms, int max_attempts);

}  // namespace meshvpn::control::internal
