// Fuzzes ParseHuJson: any bytes give a value or an InvalidArgument "line L, column C: ..." error
// of bounded length; a value written by ToJson parses again, to a value that ToJson writes the
// same (the round trip through plain JSON loses nothing).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "meshvpn/acl/hujson.h"

namespace {
void Check(bool ok) {
  if (!ok) std::abort();
}

// Every position in the tree is a real place in a document.
void CheckPositions(const meshvpn::acl::JsonValue& value) {
  Check(value.position().line >= 1 && value.position().column >= 1);
  for (const auto& element : value.elements()) CheckPositions(element);
  for (const auto& [key, member] : value.members()) CheckPositions(member);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using meshvpn::acl::ParseHuJson;
  using meshvpn::acl::ToJson;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto value = ParseHuJson(text);
  if (!value.ok()) {
    Check(value.status().code() == absl::StatusCode::kInvalidArgument);
    const std::string message(value.status().message());
    Check(message.rfind("line ", 0) == 0);
    Check(message.size() < 400);  // a short token of the input at most
    return 0;
  }
  CheckPositions(*value);
  const std::string json = ToJson(*value);
  auto again = ParseHuJson(json);
  Check(again.ok());
  Check(ToJson(*again) == json);
  return 0;
}
