#include "meshvpn/base/bytes.h"

#include <catch2/catch.hpp>
#include <random>

namespace meshvpn {
namespace {

TEST_CASE("hex round-trips and accepts both cases") {
  const Bytes data = {0x00, 0x01, 0xab, 0xff, 0x7e};
  CHECK(HexEncode(data) == "0001abff7e");
  CHECK(*HexDecode("0001ABFF7e") == data);
  CHECK(HexEncode({}).empty());
  CHECK(HexDecode("")->empty());
}

TEST_CASE("hex rejects odd length and bad characters without echoing input") {
  auto odd = HexDecode("abc");
  REQUIRE_FALSE(odd.ok());
  CHECK(odd.status().message() == "hex: odd length 3 (two characters per byte)");

  auto bad = HexDecode("00zq");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() == "hex: invalid character at offset 2");
  CHECK(bad.status().message().find("zq") == std::string::npos);
}

TEST_CASE("HexDecodeInto demands the exact length and zeroes output on error") {
  uint8_t out[4] = {9, 9, 9, 9};
  CHECK(HexDecodeInto("01020304", out).ok());
  CHECK(out[3] == 4);
  auto s = HexDecodeInto("010203", out);
  CHECK(s.message() == "hex: 6 characters decode to 3 bytes, want 4");
  CHECK(out[0] == 0);
  CHECK_FALSE(HexDecodeInto("0102030g", out).ok());
  CHECK(out[0] == 0);
}

// RFC 4648 section 10 test vectors.
TEST_CASE("base64 matches RFC 4648 test vectors") {
  const std::pair<std::string_view, std::string_view> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    CHECK(Base64Encode(AsBytes(plain)) == encoded);
    auto decoded = Base64Decode(encoded);
    REQUIRE(decoded.ok());
    CHECK(ToString(*decoded) == plain);
  }
}

TEST_CASE("base64 uses the full alphabet including + and /") {
  const Bytes data = {0xfb, 0xff, 0xbf};
  CHECK(Base64Encode(data) == "+/+/");
  CHECK(*Base64Decode("+/+/") == data);
}

TEST_CASE("base64 decoding is strict") {
  CHECK(Base64Decode("Zg=").status().message() == "base64: length 3 is not a multiple of 4");
  CHECK(Base64Decode("Z===").status().message() == "base64: invalid character at offset 1");
  CHECK(Base64Decode("Zm9v!A==").status().message() == "base64: invalid character at offset 4");
  CHECK(Base64Decode("Z=g=").status().message() == "base64: invalid character at offset 1");
  CHECK(Base64Decode("Zh==").status().message() ==
        "base64: non-canonical encoding (unused bits set)");
  CHECK(Base64Decode("Zm9=").status().message() ==
        "base64: non-canonical encoding (unused bits set)");
  CHECK(Base64Decode("Zm9v YmFy").status().message() == "base64: length 9 is not a multiple of 4");
}

TEST_CASE("Base64DecodeInto checks the decoded length (a WireGuard key is 32 bytes)") {
  uint8_t key[32];
  const std::string k44(43, 'A');
  CHECK(Base64DecodeInto(k44 + "=", key).ok());
  CHECK(Base64DecodeInto("AAAA", key).message() == "base64: decodes to 3 bytes, want 32");
}

TEST_CASE("hex and base64 round-trip random data") {
  std::mt19937 rng(42);
  for (int len = 0; len < 200; ++len) {
    Bytes data(len);
    for (auto& b : data) b = static_cast<uint8_t>(rng());
    CHECK(*HexDecode(HexEncode(data)) == data);
    CHECK(*Base64Decode(Base64Encode(data)) == data);
  }
}

TEST_CASE("every single-character substitution outside the alphabet is rejected") {
  for (int c = 0; c < 256; ++c) {
    std::string text = "Zm9vYmFy";
    text[3] = static_cast<char>(c);
    const bool valid = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                       c == '+' || c == '/';
    CHECK(Base64Decode(text).ok() == valid);
    std::string hex = "00ff";
    hex[1] = static_cast<char>(c);
    const bool hex_valid =
        (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    CHECK(HexDecode(hex).ok() == hex_valid);
  }
}

}  // namespace
}  // namespace meshvpn
