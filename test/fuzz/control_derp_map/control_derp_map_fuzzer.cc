// Fuzzes ParseDerpMapJson: any bytes give a map or an error; a map written back reads back the
// same.
#include <google/protobuf/util/message_differencer.h>

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "meshvpn/control/derp_map_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto map = meshvpn::control::ParseDerpMapJson(text);
  if (!map.ok()) return 0;
  auto again = meshvpn::control::ParseDerpMapJson(meshvpn::control::DerpMapToJson(*map));
  if (!again.ok() || !google::protobuf::util::MessageDifferencer::Equals(*map, *again)) {
    std::abort();
  }
  return 0;
}
