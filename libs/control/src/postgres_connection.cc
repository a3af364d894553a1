// The PostgreSQL backend of store_sql.h over libpq: SERIALIZABLE transactions, prepared statements
// (parameters $1..), errors classified by SQLSTATE, the password never in a message.
#include <libpq-fe.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "meshvpn/base/status.h"
#include "store_sql.h"

namespace meshvpn::control::internal {
namespace {

// Type OIDs (catalog/pg_type_d.h, a server header libpq-dev does not ship).
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;

// The advisory lock migrations take (any constant: it only has to be the same in every process).
constexpr int64_t kMigrationLock = 0x6d6573687670'6e;  // "meshvpn"

struct ResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

// The password of a connection string, to be cut out of any message that might echo it.
absl::StatusOr<std::string> PasswordOf(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (options == nullptr) {
    PQfreemem(error);
    // libpq's message may quote the string (and so the password): never pass it on.
    return absl::InvalidArgumentError("postgres: the connection string is malformed");
  }
  std::string password;
  for (PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
    if (std::string_view(option->keyword) == "password" && option->val != nullptr) {
      password = option->val;
    }
  }
  PQconninfoFree(options);
  return password;
}

class PostgresConnection final : public SqlConnection {
 public:
  PostgresConnection(std::string conninfo, std::string password, const StoreOptions& options)
      : conninfo_(std::move(conninfo)), password_(std::move(password)), options_(options) {}
  ~PostgresConnection() override {
    if (conn_ != nullptr) PQfinish(conn_);
  }

  std::string_view backend() const override { return "postgres"; }

  absl::Status Connect() {
    if (conn_ != nullptr) PQfinish(conn_);
    prepared_.clear();
    conn_ = PQconnectdb(conninfo_.c_str());
    if (conn_ == nullptr) return absl::UnavailableError("postgres: out of memory");
    if (PQstatus(conn_) != CONNECTION_OK) {
      return absl::UnavailableError(
          absl::StrCat("postgres: cannot connect: ", Redact(PQerrorMessage(conn_))));
    }
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
    // Every commit waits for its WAL flush whatever the server's default, and a call waits for
    // another writer's row lock at most busy_timeout_ms.
    return ExecScript(
        absl::StrCat("SET synchronous_commit = on; SET lock_timeout = ", options_.busy_timeout_ms,
                     "; SET client_min_messages = warning"));
  }

  absl::StatusOr<SqlRows> Query(std::string_view sql, std::span<const SqlValue> params) override {
    absl::StatusOr<SqlRows> rows = QueryOnce(sql, params);
    // A read outside a transaction on a connection the server dropped (a restart, an idle
    // timeout) is safe to run again on a new connection; anything else is reported.
    if (!rows.ok() && !in_transaction_ && Lost() && sql.substr(0, 7) == "SELECT ") {
      MESHVPN_RETURN_IF_ERROR(Connect());
      rows = QueryOnce(sql, params);
    }
    return rows;
  }

  absl::StatusOr<SqlRows> QueryOnce(std::string_view sql, std::span<const SqlValue> params) {
    MESHVPN_RETURN_IF_ERROR(EnsureConnected());
    MESHVPN_ASSIGN_OR_RETURN(const std::string name, Prepare(sql));
    std::vector<std::string> texts(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    std::vector<int> lengths(params.size(), 0);
    std::vector<int> formats(params.size(), 0);
    for (size_t i = 0; i < params.size(); ++i) {
      const SqlValue& value = params[i];
      if (const auto* number = std::get_if<int64_t>(&value)) {
        texts[i] = std::to_string(*number);
        values[i] = texts[i].c_str();
      } else if (const auto* text = std::get_if<std::string>(&value)) {
        values[i] = text->c_str();
      } else if (const auto* blob = std::get_if<SqlBlob>(&value)) {
        values[i] = blob->bytes.data();
        lengths[i] = static_cast<int>(blob->bytes.size());
        formats[i] = 1;  // bytea's binary form is the bytes themselves
      }
    }
    Result result(PQexecPrepared(conn_, name.c_str(), static_cast<int>(params.size()),
                                 values.data(), lengths.data(), formats.data(), 0));
    MESHVPN_RETURN_IF_ERROR(Check(result.get(), "statement"));
    SqlRows rows;
    const int tuples = PQntuples(result.get());
    const int fields = PQnfields(result.get());
    rows.reserve(tuples);
    for (int t = 0; t < tuples; ++t) {
      SqlRow row;
      row.values.reserve(fields);
      for (int f = 0; f < fields; ++f) {
        if (PQgetisnull(result.get(), t, f)) {
          row.values.emplace_back(std::monostate{});
          continue;
        }
        const char* text = PQgetvalue(result.get(), t, f);
        switch (PQftype(result.get(), f)) {
          case kBoolOid:
            row.values.emplace_back(int64_t{text[0] == 't' ? 1 : 0});
            break;
          case kInt2Oid:
          case kInt4Oid:
          case kInt8Oid:
            row.values.emplace_back(int64_t{std::strtoll(text, nullptr, 10)});
            break;
          case kByteaOid: {
            size_t size = 0;
            unsigned char* bytes =
                PQunescapeBytea(reinterpret_cast<const unsigned char*>(text), &size);
            if (bytes == nullptr) return absl::InternalError("postgres: bad bytea value");
            row.values.emplace_back(SqlBlob{std::string(reinterpret_cast<char*>(bytes), size)});
            PQfreemem(bytes);
            break;
          }
          default:
            row.values.emplace_back(
                std::string(text, static_cast<size_t>(PQgetlength(result.get(), t, f))));
        }
      }
      rows.push_back(std::move(row));
    }
    return rows;
  }

  absl::Status ExecScript(std::string_view sql) override {
    if (conn_ == nullptr) return absl::UnavailableError("postgres: not connected");
    const std::string copy(sql);
    Result result(PQexec(conn_, copy.c_str()));
    return Check(result.get(), "script");
  }

  absl::Status Begin(SqlTransaction kind) override {
    MESHVPN_RETURN_IF_ERROR(EnsureConnected());
    const char* begin = kind == SqlTransaction::kSerializable
                            ? "BEGIN ISOLATION LEVEL SERIALIZABLE"
                            : "BEGIN ISOLATION LEVEL READ COMMITTED";
    absl::Status status = ExecScript(begin);
    // Nothing of the transaction was sent yet: a connection found dropped here is reopened.
    if (!status.ok() && Lost()) {
      MESHVPN_RETURN_IF_ERROR(Connect());
      status = ExecScript(begin);
    }
    MESHVPN_RETURN_IF_ERROR(status);
    in_transaction_ = true;
    return absl::OkStatus();
  }

  absl::Status Commit() override {
    if (conn_ == nullptr) return absl::UnavailableError("postgres: not connected");
    if (PQtransactionStatus(conn_) == PQTRANS_INERROR) {
      Rollback();  // clears in_transaction_
      return absl::InternalError("postgres: commit of a failed transaction");
    }
    // A commit whose outcome is unknown (the connection lost) is reported as Unavailable, never
    // as OK: the caller must not act on it as stored.
    in_transaction_ = false;
    return ExecScript("COMMIT");
  }

  void Rollback() override {
    in_transaction_ = false;
    if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) return;
    if (PQtransactionStatus(conn_) == PQTRANS_IDLE) return;
    Result result(PQexec(conn_, "ROLLBACK"));
  }

  absl::Status LockForMigration() override {
    return ExecScript(absl::StrCat("SELECT pg_advisory_xact_lock(", kMigrationLock, ")"));
  }

 private:
  // A connection found broken is opened again before the next statement outside a transaction.
  bool Lost() const { return conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK; }

  // Never inside a transaction: the statements after a reconnect would run outside it.
  absl::Status EnsureConnected() {
    if (conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK) return absl::OkStatus();
    if (in_transaction_) {
      return absl::UnavailableError("postgres: the connection was lost inside a transaction");
    }
    return Connect();
  }

  absl::StatusOr<std::string> Prepare(std::string_view sql) {
    std::string key(sql);
    auto it = prepared_.find(key);
    if (it != prepared_.end()) return it->second;
    std::string name = absl::StrCat("meshvpn_", prepared_.size() + 1);
    Result result(PQprepare(conn_, name.c_str(), key.c_str(), 0, nullptr));
    MESHVPN_RETURN_IF_ERROR(Check(result.get(), "prepare"));
    prepared_.emplace(std::move(key), name);
    return name;
  }

  std::string Redact(std::string_view message) const {
    std::string text(message);
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    if (!password_.empty()) text = absl::StrReplaceAll(text, {{password_, "***"}});
    return text;
  }

  // Classifies a failed result by its SQLSTATE (PostgreSQL's appendix A).
  absl::Status Check(PGresult* result, std::string_view what) {
    const ExecStatusType status = result == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(result);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return absl::OkStatus();
    if (result == nullptr || PQstatus(conn_) != CONNECTION_OK) {
      return absl::UnavailableError(absl::StrCat(
          "postgres: ", std::string(what), ": connection lost: ", Redact(PQerrorMessage(conn_))));
    }
    const char* state_field = PQresultErrorField(result, PG_DIAG_SQLSTATE);
    const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
    const std::string state = state_field != nullptr ? state_field : "";
    // Only the primary message: DETAIL repeats the row's values.
    const std::string text =
        absl::StrCat("postgres: ", std::string(what), ": ",
                     Redact(primary != nullptr ? primary : PQresultErrorMessage(result)),
                     " (SQLSTATE ", state, ")");
    if (state == "23505") {
      const char* constraint = PQresultErrorField(result, PG_DIAG_CONSTRAINT_NAME);
      return UniqueViolationError(constraint != nullptr ? constraint : "unique", text);
    }
    if (state == "40001" || state == "40P01") return RetryableConflictError(text);
    if (state == "23503") return absl::FailedPreconditionError(text);
    if (state == "23514" || state == "23502" || state.rfind("22", 0) == 0) {
      return absl::InvalidArgumentError(text);
    }
    if (state == "55P03" || state == "57014" || state.rfind("08", 0) == 0 ||
        state.rfind("53", 0) == 0 || state.rfind("57P", 0) == 0) {
      return absl::UnavailableError(text);
    }
    return absl::InternalError(text);
  }

  std::string conninfo_;
  std::string password_;
  StoreOptions options_;
  PGconn* conn_ = nullptr;
  bool in_transaction_ = false;
  std::unordered_map<std::string, std::string> prepared_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<SqlConnection>> OpenPostgresConnection(const std::string& conninfo,
                                                                      const StoreOptions& options) {
  MESHVPN_ASSIGN_OR_RETURN(std::string password, PasswordOf(conninfo));
  auto connection = std::make_unique<PostgresConnection>(conninfo, std::move(password), options);
  MESHVPN_RETURN_IF_ERROR(connection->Connect());
  return std::unique_ptr<SqlConnection>(std::move(connection));
}

}  // namespace meshvpn::control::internal
