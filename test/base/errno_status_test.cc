#include "meshvpn/base/errno_status.h"

#include <uv.h>

#include <catch2/catch.hpp>
#include <cerrno>

#include "meshvpn/base/uv_status.h"

namespace meshvpn {
namespace {

TEST_CASE("errno values map to status codes with the context in the message") {
  auto s = ErrnoToStatus(EADDRINUSE, "bind 127.0.0.1:4000");
  CHECK(s.code() == absl::StatusCode::kAlreadyExists);
  CHECK(s.message() == "bind 127.0.0.1:4000: Address already in use");
  CHECK(ErrnoToStatus(EACCES, "x").code() == absl::StatusCode::kPermissionDenied);
  CHECK(ErrnoToStatus(ENOENT, "x").code() == absl::StatusCode::kNotFound);
  CHECK(ErrnoToStatus(EIO, "x").code() == absl::StatusCode::kInternal);
}

TEST_CASE("libuv codes map like errno and name the libuv error") {
  CHECK(UvToStatus(0, "x").ok());
  CHECK(UvToStatus(5, "x").ok());
  auto s = UvToStatus(UV_EADDRINUSE, "bind [::1]:53");
  CHECK(s.code() == absl::StatusCode::kAlreadyExists);
  CHECK(s.message() == "bind [::1]:53: address already in use (EADDRINUSE)");
  CHECK(UvToStatus(UV_EOF, "read").code() == absl::StatusCode::kOutOfRange);
}

}  // namespace
}  // namespace meshvpn
