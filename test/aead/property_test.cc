// Property tests on random inputs (fixed seeds, so failures reproduce): round trips, tampering,
// and byte-for-byte agreement between the OpenSSL and reference backends.
#include <catch2/catch.hpp>
#include <random>

#include "meshvpn/aead/chacha20_poly1305.h"
#include "meshvpn/aead/xchacha20_poly1305.h"
#include "test_util.h"

namespace meshvpn::aead {
namespace {

using testing::AllZero;

Bytes RandomBytes(std::mt19937_64& rng, size_t n) {
  Bytes out(n);
  for (uint8_t& b : out) b = static_cast<uint8_t>(rng());
  return out;
}

struct Keys {
  ChaCha20Poly1305 openssl;
  ChaCha20Poly1305 ref;
};

Keys MakeKeys(const Bytes& key) {
  auto a = ChaCha20Poly1305::Create(key, CryptoBackend::kOpenSsl);
  auto b = ChaCha20Poly1305::Create(key, CryptoBackend::kReference);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  return {*std::move(a), *std::move(b)};
}

TEST_CASE("seal/open round-trips at random lengths 0..2000 and both backends agree") {
  std::mt19937_64 rng(20261122);
  std::uniform_int_distribution<size_t> length(0, 2000);
  std::uniform_int_distribution<size_t> aad_length(0, 64);
  for (int round = 0; round < 300; ++round) {
    const Bytes key = RandomBytes(rng, 32);
    Keys keys = MakeKeys(key);
    const size_t n = round < 80 ? static_cast<size_t>(round) : length(rng);  // all of 0..79 too
    const Bytes plaintext = RandomBytes(rng, n);
    const Bytes aad = RandomBytes(rng, aad_length(rng));
    const uint64_t counter = rng();
    INFO("round " << round << " length " << n << " aad " << aad.size());

    Bytes a = plaintext, b = plaintext;
    a.resize(n + kTagSize);
    b.resize(n + kTagSize);
    REQUIRE(keys.openssl.SealCounter(counter, aad, a, n) == AeadResult::kOk);
    REQUIRE(keys.ref.SealCounter(counter, aad, b, n) == AeadResult::kOk);
    REQUIRE(a == b);                     // identical bytes from both backends
    if (n >= 16) CHECK(a != plaintext);  // it did encrypt

    // Each backend opens what the other sealed.
    REQUIRE(keys.ref.OpenCounter(counter, aad, a) == AeadResult::kOk);
    REQUIRE(keys.openssl.OpenCounter(counter, aad, b) == AeadResult::kOk);
    CHECK(Bytes(a.begin(), a.begin() + n) == plaintext);
    CHECK(Bytes(b.begin(), b.begin() + n) == plaintext);
  }
}

TEST_CASE("XChaCha20-Poly1305 round-trips and both backends agree") {
  std::mt19937_64 rng(8439);
  std::uniform_int_distribution<size_t> length(0, 2000);
  for (int round = 0; round < 100; ++round) {
    const Bytes key = RandomBytes(rng, 32);
    auto x1 = XChaCha20Poly1305::Create(key, CryptoBackend::kOpenSsl);
    auto x2 = XChaCha20Poly1305::Create(key, CryptoBackend::kReference);
    REQUIRE(x1.ok());
    REQUIRE(x2.ok());
    const size_t n = length(rng);
    const Bytes plaintext = RandomBytes(rng, n);
    const Bytes nonce = RandomBytes(rng, 24);
    const Bytes aad = RandomBytes(rng, round % 40);
    Bytes a = plaintext, b = plaintext;
    a.resize(n + kTagSize);
    b.resize(n + kTagSize);
    REQUIRE(x1->Seal(nonce, aad, a, n) == AeadResult::kOk);
    REQUIRE(x2->Seal(nonce, aad, b, n) == AeadResult::kOk);
    REQUIRE(a == b);
    REQUIRE(x2->Open(nonce, aad, a) == AeadResult::kOk);
    REQUIRE(x1->Open(nonce, aad, b) == AeadResult::kOk);
    CHECK(Bytes(a.begin(), a.begin() + n) == plaintext);
    CHECK(Bytes(b.begin(), b.begin() + n) == plaintext);
  }
}

TEST_CASE("tampering with any byte of ciphertext, tag or AAD fails open and releases nothing") {
  std::mt19937_64 rng(7539);
  for (CryptoBackend backend : kAllCryptoBackends) {
    for (size_t n : {0, 1, 15, 16, 17, 63, 64, 65, 200}) {
      const Bytes key = RandomBytes(rng, 32);
      auto k = ChaCha20Poly1305::Create(key, backend);
      REQUIRE(k.ok());
      const Bytes plaintext = RandomBytes(rng, n);
      const Bytes aad = RandomBytes(rng, 21);
      Bytes sealed = plaintext;
      sealed.resize(n + kTagSize);
      REQUIRE(k->SealCounter(42, aad, sealed, n) == AeadResult::kOk);

      // Every byte of ciphertext || tag, each with a random non-zero flip.
      for (size_t i = 0; i < sealed.size(); ++i) {
        Bytes forged = sealed;
        forged[i] ^= static_cast<uint8_t>(1 + rng() % 255);
        INFO(ToString(backend) << " length " << n << " flipped sealed byte " << i);
        REQUIRE(k->OpenCounter(42, aad, forged) == AeadResult::kAuthenticationFailed);
        REQUIRE(AllZero(forged));
      }
      // Every byte of the AAD, and a missing or extra AAD byte.
      for (size_t i = 0; i < aad.size(); ++i) {
        Bytes bad_aad = aad;
        bad_aad[i] ^= 0x01;
        Bytes copy = sealed;
        INFO(ToString(backend) << " length " << n << " flipped AAD byte " << i);
        REQUIRE(k->OpenCounter(42, bad_aad, copy) == AeadResult::kAuthenticationFailed);
        REQUIRE(AllZero(copy));
      }
      Bytes longer_aad = aad;
      longer_aad.push_back(0);
      Bytes copy = sealed;
      CHECK(k->OpenCounter(42, longer_aad, copy) == AeadResult::kAuthenticationFailed);
      copy = sealed;
      CHECK(k->OpenCounter(42, ByteSpan(aad).first(20), copy) == AeadResult::kAuthenticationFailed);
      // A truncated message (one byte shorter) and a wrong nonce fail too.
      if (n > 0) {
        copy = sealed;
        CHECK(k->OpenCounter(42, aad, MutableByteSpan(copy).subspan(1)) ==
              AeadResult::kAuthenticationFailed);
      }
      copy = sealed;
      CHECK(k->OpenCounter(43, aad, copy) == AeadResult::kAuthenticationFailed);
      // And the untouched message still opens.
      copy = sealed;
      REQUIRE(k->OpenCounter(42, aad, copy) == AeadResult::kOk);
      CHECK(Bytes(copy.begin(), copy.begin() + n) == plaintext);
    }
  }
}

}  // namespace
}  // namespace meshvpn::aead
