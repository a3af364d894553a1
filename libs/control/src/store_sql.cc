// What both SQL backends share: row accessors, the error classification of store_sql.h, the
// store URL, and OpenStore.
#include "store_sql.h"

#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "meshvpn/base/status.h"
#include "meshvpn/control/store.h"
#include "store_migrations.h"

namespace meshvpn::control {
namespace internal {
namespace {

// Payloads that mark a status as a classified database error.
constexpr char kConstraintPayload[] = "meshvpn.control.store/constraint";
constexpr char kRetryablePayload[] = "meshvpn.control.store/retryable";

}  // namespace

bool SqlRow::IsNull(size_t column) const {
  return column >= values.size() || std::holds_alternative<std::monostate>(values[column]);
}

int64_t SqlRow::Int(size_t column) const {
  if (column >= values.size()) return 0;
  if (const auto* value = std::get_if<int64_t>(&values[column])) return *value;
  return 0;
}

std::string SqlRow::Text(size_t column) const {
  if (column >= values.size()) return "";
  if (const auto* value = std::get_if<std::string>(&values[column])) return *value;
  return "";
}

std::string SqlRow::Blob(size_t column) const {
  if (column >= values.size()) return "";
  if (const auto* value = std::get_if<SqlBlob>(&values[column])) return value->bytes;
  if (const auto* value = std::get_if<std::string>(&values[column])) return *value;
  return "";
}

absl::Status UniqueViolationError(std::string_view constraint, std::string_view message) {
  absl::Status status = absl::AlreadyExistsError(
      absl::StrCat(std::string(message), " (constraint ", std::string(constraint), ")"));
  status.SetPayload(kConstraintPayload, absl::Cord(std::string(constraint)));
  return status;
}

std::optional<std::string> ViolatedConstraint(const absl::Status& status) {
  if (status.code() != absl::StatusCode::kAlreadyExists) return std::nullopt;
  auto payload = status.GetPayload(kConstraintPayload);
  if (!payload.has_value()) return std::nullopt;
  return std::string(*payload);
}

absl::Status RetryableConflictError(std::string_view message) {
  absl::Status status = absl::AbortedError(std::string(message));
  status.SetPayload(kRetryablePayload, absl::Cord("1"));
  return status;
}

bool IsRetryableConflict(const absl::Status& status) {
  return status.code() == absl::StatusCode::kAborted &&
         status.GetPayload(kRetryablePayload).has_value();
}

absl::StatusOr<std::unique_ptr<SqlConnection>> OpenSqlConnection(const StoreLocation& location,
                                                                 const StoreOptions& options) {
  if (location.kind == StoreLocation::Kind::kPostgres) {
    return OpenPostgresConnection(location.target, options);
  }
  return OpenSqliteConnection(location.target, options);
}

}  // namespace internal

absl::StatusOr<StoreLocation> ParseStoreUrl(std::string_view url) {
  StoreLocation location;
  auto starts_with = [&](std::string_view prefix) {
    return url.substr(0, prefix.size()) == prefix;
  };
  if (starts_with("sqlite:")) {
    location.kind = StoreLocation::Kind::kSqlite;
    location.target = std::string(url.substr(7));
    if (starts_with("sqlite://")) location.target = std::string(url.substr(9));
    if (location.target.empty()) {
      return absl::InvalidArgumentError("store URL \"sqlite:\" has no file path");
    }
    return location;
  }
  if (starts_with("postgres://") || starts_with("postgresql://")) {
    location.kind = StoreLocation::Kind::kPostgres;
    location.target = std::string(url);
    return location;
  }
  if (starts_with("postgres:")) {
    location.kind = StoreLocation::Kind::kPostgres;
    location.target = std::string(url.substr(9));
    if (location.target.empty()) {
      return absl::InvalidArgumentError("store URL \"postgres:\" has no connection parameters");
    }
    return location;
  }
  // Never echo the URL: it may hold a password.
  return absl::InvalidArgumentError(
      "store URL must start with sqlite:, postgres:, postgres:// or postgresql://");
}

absl::StatusOr<std::unique_ptr<Store>> OpenStore(std::string_view url,
                                                 const StoreOptions& options) {
  MESHVPN_ASSIGN_OR_RETURN(const StoreLocation location, ParseStoreUrl(url));
  MESHVPN_ASSIGN_OR_RETURN(auto connection, internal::OpenSqlConnection(location, options));
  return internal::OpenSqlStore(std::move(connection), options);
}

}  // namespace meshvpn::control
