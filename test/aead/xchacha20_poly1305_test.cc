#include "meshvpn/aead/xchacha20_poly1305.h"

#include <catch2/catch.hpp>
#include <type_traits>

#include "meshvpn/aead/chacha20_poly1305.h"
#include "meshvpn/aead/hchacha20.h"
#include "test_util.h"

namespace meshvpn::aead {
namespace {

using testing::AllZero;
using testing::Fixed;
using testing::Hex;
using testing::LoadJson;
using testing::Unhex;

static_assert(!std::is_copy_constructible_v<XChaCha20Poly1305>);
static_assert(!std::equality_comparable<XChaCha20Poly1305>);

XChaCha20Poly1305 MakeKey(const Bytes& key, CryptoBackend backend) {
  auto k = XChaCha20Poly1305::Create(key, backend);
  REQUIRE(k.ok());
  return *std::move(k);
}

TEST_CASE("XChaCha20-Poly1305 matches draft-irtf-cfrg-xchacha A.3.1 in both backends") {
  const auto vectors = LoadJson("xchacha_draft_vectors.json");
  for (CryptoBackend backend : kAllCryptoBackends) {
    for (const auto& v : vectors.at("aead").AsArray()) {
      INFO(ToString(backend) << " " << v.at("section").AsString());
      XChaCha20Poly1305 key = MakeKey(Unhex(v.at("key").AsString()), backend);
      const Bytes nonce = Unhex(v.at("nonce").AsString());
      const Bytes aad = Unhex(v.at("aad").AsString());
      const Bytes plaintext = Unhex(v.at("plaintext").AsString());
      Bytes buffer = plaintext;
      buffer.resize(plaintext.size() + kTagSize);
      REQUIRE(key.Seal(nonce, aad, buffer, plaintext.size()) == AeadResult::kOk);
      CHECK(Hex(buffer) == v.at("ciphertext").AsString() + v.at("tag").AsString());
      REQUIRE(key.Open(nonce, aad, buffer) == AeadResult::kOk);
      CHECK(Hex(ByteSpan(buffer).first(plaintext.size())) == Hex(plaintext));
      buffer[3] ^= 0x10;
      CHECK(key.Open(nonce, aad, buffer) == AeadResult::kAuthenticationFailed);
      CHECK(AllZero(buffer));
    }
  }
}

TEST_CASE("XChaCha20-Poly1305 is ChaCha20-Poly1305 under the HChaCha20 subkey") {
  Bytes key_bytes(32), xnonce(24);
  for (size_t i = 0; i < 32; ++i) key_bytes[i] = static_cast<uint8_t>(i * 13 + 1);
  for (size_t i = 0; i < 24; ++i) xnonce[i] = static_cast<uint8_t>(i * 29 + 2);
  const Bytes aad = {9, 8, 7};
  for (CryptoBackend backend : kAllCryptoBackends) {
    INFO(ToString(backend));
    XChaCha20Poly1305 x = MakeKey(key_bytes, backend);
    Bytes expected(100 + kTagSize, 0x61), got = expected;
    REQUIRE(x.Seal(xnonce, aad, got, 100) == AeadResult::kOk);

    uint8_t subkey[32];
    HChaCha20(Fixed<32>(key_bytes), std::span<const uint8_t, 16>(xnonce.data(), 16), subkey);
    Bytes nonce(12, 0);
    std::copy(xnonce.begin() + 16, xnonce.end(), nonce.begin() + 4);
    auto inner = ChaCha20Poly1305::Create(subkey, backend);
    REQUIRE(inner.ok());
    REQUIRE(inner->Seal(nonce, aad, expected, 100) == AeadResult::kOk);
    CHECK(got == expected);
  }
}

TEST_CASE("XChaCha20-Poly1305 rejects other nonce sizes, short buffers and empty keys") {
  for (CryptoBackend backend : kAllCryptoBackends) {
    INFO(ToString(backend));
    XChaCha20Poly1305 key = MakeKey(Bytes(32, 3), backend);
    const Bytes original(48, 0x44);
    for (size_t nonce_size : {0, 12, 16, 23, 25, 32}) {
      Bytes nonce(nonce_size, 1), buffer = original;
      CHECK(key.Seal(nonce, {}, buffer, 16) == AeadResult::kInvalidNonceSize);
      CHECK(key.Open(nonce, {}, buffer) == AeadResult::kInvalidNonceSize);
      CHECK(buffer == original);
    }
    const Bytes nonce(24, 1);
    Bytes buffer = original;
    CHECK(key.Seal(nonce, {}, buffer, 33) == AeadResult::kBufferTooSmall);
    CHECK(key.Open(nonce, {}, MutableByteSpan(buffer).first(15)) == AeadResult::kBufferTooSmall);
    CHECK(buffer == original);
    XChaCha20Poly1305 moved = std::move(key);
    CHECK(key.Seal(nonce, {}, buffer, 16) ==
          AeadResult::kNoKey);  // NOLINT(bugprone-use-after-move)
    CHECK(moved.Seal(nonce, {}, buffer, 16) == AeadResult::kOk);
  }
  auto bad = XChaCha20Poly1305::Create(Bytes(16, 0));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() == "XChaCha20-Poly1305 key must be 32 bytes, got 16");
}

}  // namespace
}  // namespace meshvpn::aead
