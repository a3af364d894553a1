#include "meshvpn/base/status.h"

#include <catch2/catch.hpp>
#include <memory>

namespace meshvpn {
namespace {

int g_calls = 0;

absl::Status Step(bool ok) {
  ++g_calls;
  return ok ? absl::OkStatus() : absl::InvalidArgumentError("step failed");
}

absl::Status TwoSteps(bool first, bool second) {
  MESHVPN_RETURN_IF_ERROR(Step(first));
  MESHVPN_RETURN_IF_ERROR(Step(second));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<int>> MakeInt(int v) {
  if (v < 0) return absl::OutOfRangeError("negative");
  return std::make_unique<int>(v);
}

absl::StatusOr<int> AddTwo(int a, int b) {
  MESHVPN_ASSIGN_OR_RETURN(auto x, MakeInt(a));  // move-only value
  std::unique_ptr<int> y;
  MESHVPN_ASSIGN_OR_RETURN(y, MakeInt(b));  // existing variable
  return *x + *y;
}

TEST_CASE("MESHVPN_RETURN_IF_ERROR stops at the first error and evaluates once") {
  g_calls = 0;
  CHECK(TwoSteps(true, true).ok());
  CHECK(g_calls == 2);
  g_calls = 0;
  auto s = TwoSteps(false, true);
  CHECK(s.message() == "step failed");
  CHECK(g_calls == 1);
}

TEST_CASE("MESHVPN_ASSIGN_OR_RETURN moves values and propagates errors") {
  CHECK(*AddTwo(2, 3) == 5);
  CHECK(AddTwo(-1, 3).status().code() == absl::StatusCode::kOutOfRange);
  CHECK(AddTwo(1, -3).status().message() == "negative");
}

}  // namespace
}  // namespace meshvpn
