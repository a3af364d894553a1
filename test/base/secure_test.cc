#include "meshvpn/base/secure.h"

#include <catch2/catch.hpp>

#include "meshvpn/base/crypto_backend.h"

namespace meshvpn {
namespace {

TEST_CASE("SecureWipe zeroes bytes") {
  uint8_t secret[16];
  for (int i = 0; i < 16; ++i) secret[i] = static_cast<uint8_t>(i + 1);
  SecureWipe(secret);
  for (uint8_t b : secret) CHECK(b == 0);
}

TEST_CASE("ConstantTimeEqual compares length and content") {
  const Bytes a = {1, 2, 3}, b = {1, 2, 3}, c = {1, 2, 4}, d = {1, 2};
  CHECK(ConstantTimeEqual(a, b));
  CHECK_FALSE(ConstantTimeEqual(a, c));
  CHECK_FALSE(ConstantTimeEqual(a, d));
  CHECK(ConstantTimeEqual(ByteSpan{}, ByteSpan{}));
}

TEST_CASE("FillRandom fills distinct buffers") {
  uint8_t x[32] = {}, y[32] = {};
  REQUIRE(FillRandom(x).ok());
  REQUIRE(FillRandom(y).ok());
  CHECK_FALSE(ConstantTimeEqual(x, y));
}

TEST_CASE("crypto backend names parse and print") {
  CHECK(*ParseCryptoBackend("openssl") == CryptoBackend::kOpenSsl);
  CHECK(*ParseCryptoBackend("ref") == CryptoBackend::kReference);
  CHECK(ToString(CryptoBackend::kReference) == "ref");
  auto bad = ParseCryptoBackend("sodium");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() == "unknown crypto backend 'sodium' (want 'openssl' or 'ref')");
}

}  // namespace
}  // namespace meshvpn
