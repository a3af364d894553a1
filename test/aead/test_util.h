// Helpers shared by the aead tests: test data paths, hex, vector files, fixed-size span views.
#pragma once

#include <catch2/catch.hpp>
#include <span>
#include <string>
#include <string_view>

#include "absl/strings/str_format.h"
#include "common/json.h"
#include "meshvpn/base/bytes.h"

namespace meshvpn::aead::testing {

// (StrFormat rather than operator+: GCC 12 gives a false -Warray-bounds on the latter.)
inline std::string TestDataPath(std::string_view name) {
  return absl::StrFormat("%s/%s", MESHVPN_AEAD_TESTDATA, name);
}

// Decodes hex from a vector file; the test fails (REQUIRE) on malformed data.
inline Bytes Unhex(std::string_view hex) {
  auto bytes = HexDecode(hex);
  REQUIRE(bytes.ok());
  return *std::move(bytes);
}

inline std::string Hex(ByteSpan bytes) { return HexEncode(bytes); }

inline meshvpn::test::JsonValue LoadJson(std::string_view name) {
  auto json = meshvpn::test::ReadJsonFile(TestDataPath(name));
  INFO(json.status().ToString());
  REQUIRE(json.ok());
  return *std::move(json);
}

// A fixed-extent view of `bytes`, which must have exactly N bytes (REQUIRE).
template <size_t N>
std::span<const uint8_t, N> Fixed(const Bytes& bytes) {
  REQUIRE(bytes.size() == N);
  return std::span<const uint8_t, N>(bytes.data(), N);
}

// True if every byte is zero.
inline bool AllZero(ByteSpan bytes) {
  for (uint8_t b : bytes) {
    if (b != 0) return false;
  }
  return true;
}

}  // namespace meshvpn::aead::testing
