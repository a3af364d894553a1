// The SQLite backend of store_sql.h: one database file in WAL mode, synchronous=FULL, foreign keys
// on, BEGIN IMMEDIATE for every transaction, prepared statements cached per SQL text.
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "meshvpn/base/status.h"
#include "store_sql.h"

namespace meshvpn::control::internal {
namespace {

struct StatementDeleter {
  void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
};
using Statement = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

// "UNIQUE constraint failed: nodes.given_name" -> "nodes_given_name_key" (PostgreSQL's name).
std::string ConstraintFromMessage(std::string_view message) {
  const std::string_view marker = "failed: ";
  const size_t at = message.find(marker);
  if (at == std::string_view::npos) return "unique";
  std::string columns(message.substr(at + marker.size()));
  const size_t comma = columns.find(',');
  if (comma != std::string::npos) columns.resize(comma);
  for (char& c : columns) {
    if (c == '.') c = '_';
  }
  return columns + "_key";
}

// SQLite reads "$1" as a parameter *named* "$1", numbered by first appearance; "?1" is numbered.
// Rewrites every $N outside quotes to ?N so that "... = $2 WHERE id = $1" binds as written.
std::string NumberedParameters(std::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  char quote = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '$' && i + 1 < sql.size() && sql[i + 1] >= '0' && sql[i + 1] <= '9') {
      out.push_back('?');
      continue;
    }
    out.push_back(c);
  }
  return out;
}

class SqliteConnection final : public SqlConnection {
 public:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  ~SqliteConnection() override {
    statements_.clear();
    sqlite3_close_v2(db_);
  }

  std::string_view backend() const override { return "sqlite"; }

  // Maps the connection's last error (`rc` from a call on it) to a status.
  absl::Status Error(int rc, std::string_view what) {
    const int extended = sqlite3_extended_errcode(db_);
    const std::string message = sqlite3_errmsg(db_);
    const std::string text = absl::StrCat("sqlite: ", std::string(what), ": ", message);
    switch (rc & 0xff) {
      case SQLITE_BUSY:
      case SQLITE_LOCKED:
        return absl::UnavailableError(
            absl::StrCat(text, " (another writer held the database past the busy timeout)"));
      case SQLITE_CONSTRAINT:
        if (extended == SQLITE_CONSTRAINT_UNIQUE || extended == SQLITE_CONSTRAINT_PRIMARYKEY) {
          return UniqueViolationError(ConstraintFromMessage(message), text);
        }
        if (extended == SQLITE_CONSTRAINT_FOREIGNKEY) return absl::FailedPreconditionError(text);
        if (extended == SQLITE_CONSTRAINT_CHECK || extended == SQLITE_CONSTRAINT_NOTNULL) {
          return absl::InvalidArgumentError(text);
        }
        return absl::InternalError(text);
      case SQLITE_CANTOPEN:
      case SQLITE_IOERR:
      case SQLITE_FULL:
      case SQLITE_READONLY:
        return absl::UnavailableError(text);
      default:
        return absl::InternalError(text);
    }
  }

  absl::StatusOr<SqlRows> Query(std::string_view sql, std::span<const SqlValue> params) override {
    MESHVPN_ASSIGN_OR_RETURN(sqlite3_stmt * statement, Prepare(sql));
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
    for (size_t i = 0; i < params.size(); ++i) {
      const int index = static_cast<int>(i) + 1;
      int rc = SQLITE_OK;
      const SqlValue& value = params[i];
      if (std::holds_alternative<std::monostate>(value)) {
        rc = sqlite3_bind_null(statement, index);
      } else if (const auto* number = std::get_if<int64_t>(&value)) {
        rc = sqlite3_bind_int64(statement, index, *number);
      } else if (const auto* text = std::get_if<std::string>(&value)) {
        rc = sqlite3_bind_text64(statement, index, text->data(), text->size(), SQLITE_TRANSIENT,
                                 SQLITE_UTF8);
      } else if (const auto* blob = std::get_if<SqlBlob>(&value)) {
        rc = sqlite3_bind_blob64(statement, index, blob->bytes.data(), blob->bytes.size(),
                                 SQLITE_TRANSIENT);
      }
      if (rc != SQLITE_OK) return Error(rc, "bind");
    }
    SqlRows rows;
    while (true) {
      const int rc = sqlite3_step(statement);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) {
        absl::Status status = Error(rc, "statement");
        sqlite3_reset(statement);
        return status;
      }
      SqlRow row;
      const int columns = sqlite3_column_count(statement);
      row.values.reserve(columns);
      for (int c = 0; c < columns; ++c) {
        switch (sqlite3_column_type(statement, c)) {
          case SQLITE_INTEGER:
            row.values.emplace_back(int64_t{sqlite3_column_int64(statement, c)});
            break;
          case SQLITE_TEXT: {
            const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement, c));
            row.values.emplace_back(
                std::string(text, static_cast<size_t>(sqlite3_column_bytes(statement, c))));
            break;
          }
          case SQLITE_BLOB: {
            const auto* data = static_cast<const char*>(sqlite3_column_blob(statement, c));
            const auto size = static_cast<size_t>(sqlite3_column_bytes(statement, c));
            row.values.emplace_back(SqlBlob{std::string(data == nullptr ? "" : data, size)});
            break;
          }
          case SQLITE_NULL:
            row.values.emplace_back(std::monostate{});
            break;
          default:  // SQLITE_FLOAT: the schema has none
            row.values.emplace_back(int64_t{sqlite3_column_int64(statement, c)});
            break;
        }
      }
      rows.push_back(std::move(row));
    }
    sqlite3_reset(statement);
    return rows;
  }

  absl::Status ExecScript(std::string_view sql) override {
    const std::string copy(sql);
    char* error = nullptr;
    const int rc = sqlite3_exec(db_, copy.c_str(), nullptr, nullptr, &error);
    sqlite3_free(error);
    if (rc != SQLITE_OK) return Error(rc, "script");
    return absl::OkStatus();
  }

  absl::Status Begin(SqlTransaction) override {
    // One writer at a time, across processes: the write lock is taken now (waiting up to the
    // busy timeout), so what the transaction reads stays true until it commits.
    return ExecScript("BEGIN IMMEDIATE");
  }

  absl::Status Commit() override {
    absl::Status status = ExecScript("COMMIT");
    if (!status.ok()) Rollback();
    return status;
  }

  void Rollback() override {
    if (sqlite3_get_autocommit(db_) == 0) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }

  absl::Status LockForMigration() override { return absl::OkStatus(); }

 private:
  absl::StatusOr<sqlite3_stmt*> Prepare(std::string_view sql) {
    std::string key(sql);
    auto it = statements_.find(key);
    if (it != statements_.end()) return it->second.get();
    sqlite3_stmt* raw = nullptr;
    const std::string numbered = NumberedParameters(key);
    const int rc = sqlite3_prepare_v3(db_, numbered.data(), static_cast<int>(numbered.size()),
                                      SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
    if (rc != SQLITE_OK) return Error(rc, "prepare");
    Statement statement(raw);
    sqlite3_stmt* result = statement.get();
    statements_.emplace(std::move(key), std::move(statement));
    return result;
  }

  sqlite3* db_;
  std::unordered_map<std::string, Statement> statements_;
};

// Creates the file 0600 whatever the umask (SQLite gives its -wal and -shm files the database
// file's mode); an existing file keeps its mode.
absl::Status CreateDatabaseFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return absl::OkStatus();
    return absl::UnavailableError(
        absl::StrCat("sqlite: cannot create ", path, ": ", std::strerror(errno)));
  }
  const int rc = fchmod(fd, 0600);
  const int saved = errno;
  close(fd);
  if (rc != 0) {
    return absl::UnavailableError(
        absl::StrCat("sqlite: cannot chmod 0600 ", path, ": ", std::strerror(saved)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqlConnection>> OpenSqliteConnection(const std::string& path,
                                                                    const StoreOptions& options) {
  if (path.empty()) return absl::InvalidArgumentError("sqlite: no database path");
  MESHVPN_RETURN_IF_ERROR(CreateDatabaseFile(path));
  sqlite3* db = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    const std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return absl::UnavailableError(absl::StrCat("sqlite: cannot open ", path, ": ", message));
  }
  auto connection = std::make_unique<SqliteConnection>(db);
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, options.busy_timeout_ms);
  // WAL: readers never block the writer; a commit is one append to the -wal file, made durable
  // by synchronous=FULL (an fsync of the WAL at every commit).
  // Switching a new file to WAL needs it exclusively, and SQLite does not always wait for that
  // with the busy handler (two servers opening one new database at once): wait here instead.
  absl::StatusOr<SqlRows> switched = connection->Query("PRAGMA journal_mode = WAL", {});
  for (int waited_ms = 0; !switched.ok() && absl::IsUnavailable(switched.status()) &&
                          waited_ms < options.busy_timeout_ms;
       waited_ms += 10) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    switched = connection->Query("PRAGMA journal_mode = WAL", {});
  }
  MESHVPN_ASSIGN_OR_RETURN(const SqlRows mode, std::move(switched));
  if (mode.empty() || mode[0].Text(0) != "wal") {
    return absl::UnavailableError(absl::StrCat("sqlite: ", path, " cannot use WAL mode (got \"",
                                               mode.empty() ? "" : mode[0].Text(0), "\")"));
  }
  MESHVPN_RETURN_IF_ERROR(connection->ExecScript("PRAGMA synchronous = FULL"));
  MESHVPN_RETURN_IF_ERROR(connection->ExecScript("PRAGMA foreign_keys = ON"));
  return std::unique_ptr<SqlConnection>(std::move(connection));
}

}  // namespace meshvpn::control::internal
