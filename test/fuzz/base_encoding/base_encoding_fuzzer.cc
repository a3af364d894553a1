// Fuzzes base's hex and base64 decoders: no crash, no overread, and whatever decodes re-encodes
// to the canonical input (the decoders are strict, so decode-then-encode is the identity).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "meshvpn/base/bytes.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto decoded = meshvpn::Base64Decode(text); decoded.ok()) {
    if (meshvpn::Base64Encode(*decoded) != text) std::abort();
  }
  if (auto decoded = meshvpn::HexDecode(text); decoded.ok()) {
    // Hex accepts upper case, so compare case-insensitively via a second decode.
    if (*meshvpn::HexDecode(meshvpn::HexEncode(*decoded)) != *decoded) std::abort();
  }
  uint8_t key[32];
  (void)meshvpn::Base64DecodeInto(text, key);
  return 0;
}
