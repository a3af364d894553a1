// Status propagation macros over absl::Status / absl::StatusOr (the installed abseil has none).
#pragma once

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define MESHVPN_STATUS_CONCAT_INNER_(a, b) a##b
#define MESHVPN_STATUS_CONCAT_(a, b) MESHVPN_STATUS_CONCAT_INNER_(a, b)

// Evaluates `expr` (an absl::Status) once and returns it from the enclosing function if not ok.
#define MESHVPN_RETURN_IF_ERROR(expr)                                     \
  do {                                                                    \
    if (::absl::Status meshvpn_status_ = (expr); !meshvpn_status_.ok()) { \
      return meshvpn_status_;                                             \
    }                                                                     \
  } while (false)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status, otherwise moves the value
// into `lhs`, which may be a declaration (`auto key`) or an existing variable. `lhs` must not
// contain unparenthesised commas.
#define MESHVPN_ASSIGN_OR_RETURN(lhs, rexpr) \
  MESHVPN_ASSIGN_OR_RETURN_IMPL_(MESHVPN_STATUS_CONCAT_(meshvpn_statusor_, __LINE__), lhs, rexpr)

#define MESHVPN_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                   \
  if (!statusor.ok()) {                                      \
    return std::move(statusor).status();                     \
  }                                                          \
  lhs = std::move(statusor).value()
