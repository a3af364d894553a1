// Helpers shared by the noise tests: test data paths, hex, and the file readers.
#pragma once

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "common/json.h"
#include "meshvpn/base/bytes.h"
#include "meshvpn/base/crypto_backend.h"

namespace meshvpn::noise::testing {

inline std::string TestDataPath(std::string_view name) {
  // (Appending instead of operator+ avoids a GCC 12 -Warray-bounds false positive.)
  std::string path = MESHVPN_NOISE_TESTDATA;
  path.append("/").append(name.data(), name.size());
  return path;
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

inline std::string ReadText(std::string_view name) {
  std::ifstream in(TestDataPath(name));
  REQUIRE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace meshvpn::noise::testing
