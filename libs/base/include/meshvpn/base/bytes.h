// Byte spans and strict, constant-time hex and base64 codecs (safe for secret keys).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace meshvpn {

using ByteSpan = std::span<const uint8_t>;
using MutableByteSpan = std::span<uint8_t>;
using Bytes = std::vector<uint8_t>;

// Views the characters of `s` as bytes (no copy).
inline ByteSpan AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
// Copies bytes into a std::string (for printing or comparing text payloads).
inline std::string ToString(ByteSpan b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// Lower-case hex, two characters per byte.
std::string HexEncode(ByteSpan data);
// Accepts upper or lower case; rejects odd lengths and non-hex characters. Errors name the
// offending offset, never the input's content (the input may be a secret).
absl::StatusOr<Bytes> HexDecode(std::string_view hex);
// Decodes exactly out.size() bytes into `out`; on error `out` is zeroed.
absl::Status HexDecodeInto(std::string_view hex, MutableByteSpan out);

// Standard base64 (RFC 4648 section 4) with '=' padding, the format WireGuard keys use.
std::string Base64Encode(ByteSpan data);
// Strict: the length must be a multiple of 4, padding only at the end, and unused bits zero
// (so every byte string has exactly one accepted encoding). Errors never echo the input.
absl::StatusOr<Bytes> Base64Decode(std::string_view text);
// Decodes into `out`, which must be exactly the decoded length; on error `out` is zeroed.
absl::Status Base64DecodeInto(std::string_view text, MutableByteSpan out);

}  // namespace meshvpn
