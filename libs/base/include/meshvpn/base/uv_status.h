// Turns a negative libuv return code into an absl::Status that names what was tried.
#pragma once

#include <string_view>

#include "absl/status/status.h"

namespace meshvpn {

// OkStatus for rc >= 0; otherwise "<context>: <uv_strerror> (<uv_err_name>)" with a code chosen
// as ErrnoToStatus does (libuv codes are negated errno values on Linux).
absl::Status UvToStatus(int rc, std::string_view context);

}  // namespace meshvpn
