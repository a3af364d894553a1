#include "meshvpn/base/uv_status.h"

#include <uv.h>

#include "absl/strings/str_format.h"
#include "meshvpn/base/errno_status.h"

namespace meshvpn {

absl::Status UvToStatus(int rc, std::string_view context) {
  if (rc >= 0) return absl::OkStatus();
  const absl::StatusCode code =
      rc == UV_EOF ? absl::StatusCode::kOutOfRange : ErrnoToStatus(-rc, "").code();
  return absl::Status(code,
                      absl::StrFormat("%s: %s (%s)", context, uv_strerror(rc), uv_err_name(rc)));
}

}  // namespace meshvpn
