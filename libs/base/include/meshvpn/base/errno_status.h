// Turns an errno value from a failed system call into an absl::Status that names what was tried.
#pragma once

#include <string_view>

#include "absl/status/status.h"

namespace meshvpn {

// The code follows the errno (EACCES/EPERM -> PermissionDenied, EADDRINUSE -> AlreadyExists,
// ENOENT -> NotFound, EINVAL -> InvalidArgument, ...); the message is "<context>: <strerror>".
absl::Status ErrnoToStatus(int error_number, std::string_view context);

}  // namespace meshvpn
