// CipherState and SymmetricState: the nonce encoding, the no-key pass-through, the failure rule,
// Rekey, nonce exhaustion and the SymmetricState steps against HASH/HKDF written out.
#include "meshvpn/noise/cipher_state.h"

#include <catch2/catch.hpp>

#include "meshvpn/noise/hmac.h"
#include "meshvpn/noise/kdf.h"
#include "meshvpn/noise/symmetric_state.h"
#include "test_util.h"

namespace meshvpn::noise {
namespace {

using testing::Hex;

const std::array<uint8_t, 32> kKey = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                      12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                      23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

TEST_CASE("The nonce is 32 zero bits then n little-endian") {
  CHECK(Hex(NoiseNonce(0x0102030405060708)) == "000000000807060504030201");
  CHECK(Hex(NoiseNonce(1)) == "000000000100000000000000");
}

TEST_CASE("CipherState encrypts with the Noise nonce and counts") {
  for (CryptoBackend backend : kAllCryptoBackends) {
    CipherState cs(backend);
    REQUIRE(cs.InitializeKey(kKey).ok());
    auto direct = aead::ChaCha20Poly1305::Create(kKey, backend);
    REQUIRE(direct.ok());
    for (uint64_t n = 0; n < 3; ++n) {
      Bytes a(4 + 16, 0x41), b(4 + 16, 0x41);
      const uint8_t ad[] = {9, 9};
      auto size = cs.EncryptWithAd(ad, a, 4);
      REQUIRE(size.ok());
      CHECK(*size == 20);
      REQUIRE(direct->Seal(NoiseNonce(n), ad, b, 4) == aead::AeadResult::kOk);
      CHECK(a == b);
      CHECK(cs.nonce() == n + 1);
    }
  }
}

TEST_CASE("Without a key, CipherState passes bytes through") {
  CipherState cs;
  Bytes m = {1, 2, 3};
  auto n = cs.EncryptWithAd({}, m, 3);
  REQUIRE(n.ok());
  CHECK(*n == 3);
  CHECK(m == Bytes{1, 2, 3});
  CHECK(cs.DecryptWithAd({}, m).value() == 3);
  CHECK(cs.KeyId() == Blake2sHash{});
}

TEST_CASE("A failed decryption wipes the message and leaves the state unusable") {
  for (CryptoBackend backend : kAllCryptoBackends) {
    CipherState tx(backend), rx(backend);
    REQUIRE(tx.InitializeKey(kKey).ok());
    REQUIRE(rx.InitializeKey(kKey).ok());
    Bytes m(3 + 16);
    m[0] = 7;
    REQUIRE(tx.EncryptWithAd({}, m, 3).ok());
    Bytes good = m;
    m[1] ^= 0x80;
    auto r = rx.DecryptWithAd({}, m);
    CHECK(r.status().code() == absl::StatusCode::kUnauthenticated);
    CHECK(m == Bytes(19, 0));
    CHECK(rx.failed());
    CHECK_FALSE(rx.HasKey());
    // Even the genuine message is refused now.
    CHECK(rx.DecryptWithAd({}, good).status().code() == absl::StatusCode::kFailedPrecondition);
    CHECK(rx.EncryptWithAd({}, good, 3).status().code() == absl::StatusCode::kFailedPrecondition);
    // A short ciphertext fails too.
    CipherState rx2(backend);
    REQUIRE(rx2.InitializeKey(kKey).ok());
    Bytes tiny(15);
    CHECK(rx2.DecryptWithAd({}, tiny).status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(rx2.failed());
  }
}

TEST_CASE("Out-of-order messages open after SetNonce") {
  CipherState tx, rx;
  REQUIRE(tx.InitializeKey(kKey).ok());
  REQUIRE(rx.InitializeKey(kKey).ok());
  Bytes m0(16), m1(16);
  REQUIRE(tx.EncryptWithAd({}, m0, 0).ok());
  REQUIRE(tx.EncryptWithAd({}, m1, 0).ok());
  rx.SetNonce(1);
  CHECK(rx.DecryptWithAd({}, m1).ok());
  rx.SetNonce(0);
  CHECK(rx.DecryptWithAd({}, m0).ok());
}

TEST_CASE("Nonce 2^64-1 is reserved") {
  CipherState cs;
  REQUIRE(cs.InitializeKey(kKey).ok());
  cs.SetNonce(kNoiseMaxNonce - 1);
  Bytes m(16);
  CHECK(cs.EncryptWithAd({}, m, 0).ok());
  CHECK(cs.EncryptWithAd({}, m, 0).status().code() == absl::StatusCode::kResourceExhausted);
}

TEST_CASE("Rekey is the first 32 bytes of ENCRYPT(k, 2^64-1, empty, zeros)") {
  for (CryptoBackend backend : kAllCryptoBackends) {
    CipherState cs(backend);
    REQUIRE(cs.InitializeKey(kKey).ok());
    cs.SetNonce(5);
    auto direct = aead::ChaCha20Poly1305::Create(kKey, backend);
    Bytes block(48, 0);
    REQUIRE(direct->SealCounter(kNoiseMaxNonce, {}, block, 32) == aead::AeadResult::kOk);
    REQUIRE(cs.Rekey().ok());
    CHECK(cs.nonce() == 5);
    CipherState expected(backend);
    REQUIRE(expected.InitializeKey(std::span<const uint8_t, 32>(block.data(), 32)).ok());
    CHECK(cs.KeyId() == expected.KeyId());
    CipherState none(backend);
    CHECK_FALSE(none.Rekey().ok());
  }
}

TEST_CASE("SymmetricState steps are HASH and HKDF written out") {
  for (CryptoBackend backend : kAllCryptoBackends) {
    SymmetricState ss(backend);
    ss.InitializeSymmetric("Noise_NN_25519_ChaChaPoly_BLAKE2s");  // 33 bytes: hashed
    Blake2sHash h = Blake2s256(AsBytes("Noise_NN_25519_ChaChaPoly_BLAKE2s"), backend);
    Blake2sHash ck = h;
    CHECK(ss.handshake_hash() == h);
    SymmetricState short_name(backend);
    short_name.InitializeSymmetric("Noise_NN_448_AESGCM_SHA256");  // 26 bytes: padded
    CHECK(Hex(short_name.handshake_hash()).substr(0, 52) ==
          Hex(AsBytes("Noise_NN_448_AESGCM_SHA256")));
    CHECK(Hex(short_name.handshake_hash()).substr(52) == std::string(12, '0'));

    ss.MixHash(AsBytes("prologue"));
    h = Blake2s256({h, AsBytes("prologue")}, backend);
    CHECK(ss.handshake_hash() == h);
    CHECK_FALSE(ss.has_key());
    REQUIRE(ss.MixKey(AsBytes("dh")).ok());
    auto [ck1, k1] = Kdf2(ck, AsBytes("dh"), backend);
    ck = ck1;
    CHECK(ss.has_key());
    Bytes m(2 + 16, 0);
    m[0] = 'h';
    m[1] = 'i';
    auto n = ss.EncryptAndHash(m, 2);
    REQUIRE(n.ok());
    auto cipher = aead::ChaCha20Poly1305::Create(k1, backend);
    Bytes e = {'h', 'i'};
    e.resize(18);
    REQUIRE(cipher->SealCounter(0, h, e, 2) == aead::AeadResult::kOk);
    CHECK(m == e);
    h = Blake2s256({h, e}, backend);
    CHECK(ss.handshake_hash() == h);
    REQUIRE(ss.MixKeyAndHash(AsBytes("psk")).ok());
    auto [ck2, th, k2] = Kdf3(ck, AsBytes("psk"), backend);
    h = Blake2s256({h, th}, backend);
    CHECK(ss.handshake_hash() == h);
    auto pair = ss.Split();
    REQUIRE(pair.ok());
    auto [t1, t2] = Kdf2(ck2, ByteSpan(), backend);
    CipherState c1(backend), c2(backend);
    REQUIRE(c1.InitializeKey(t1).ok());
    REQUIRE(c2.InitializeKey(t2).ok());
    CHECK(pair->initiator_to_responder.KeyId() == c1.KeyId());
    CHECK(pair->responder_to_initiator.KeyId() == c2.KeyId());
    (void)k2;
  }
}

TEST_CASE("DecryptAndHash leaves h unchanged on failure") {
  SymmetricState ss;
  ss.InitializeSymmetric("x");
  REQUIRE(ss.MixKey(AsBytes("k")).ok());
  const Blake2sHash before = ss.handshake_hash();
  Bytes bogus(20, 1);
  CHECK(ss.DecryptAndHash(bogus).status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(ss.handshake_hash() == before);
  Bytes m(16);
  CHECK_FALSE(ss.EncryptAndHash(m, 0).ok());
}

}  // namespace
}  // namespace meshvpn::noise

namespace meshvpn::noise {
namespace {

TEST_CASE("TakeAead hands over the keyed AEAD and leaves the state keyless") {
  for (CryptoBackend backend : kAllCryptoBackends) {
    CipherState cs(backend);
    CHECK(cs.TakeAead().status().code() == absl::StatusCode::kFailedPrecondition);
    REQUIRE(cs.InitializeKey(kKey).ok());
    auto taken = cs.TakeAead();
    REQUIRE(taken.ok());
    CHECK_FALSE(cs.HasKey());
    CHECK(cs.failed());
    // The taken AEAD seals exactly as one keyed directly with the same key.
    auto direct = aead::ChaCha20Poly1305::Create(kKey, backend);
    REQUIRE(direct.ok());
    Bytes a(4 + 16, 7), b(4 + 16, 7);
    REQUIRE(taken->SealCounter(9, {}, a, 4) == aead::AeadResult::kOk);
    REQUIRE(direct->SealCounter(9, {}, b, 4) == aead::AeadResult::kOk);
    CHECK(a == b);
  }
}

}  // namespace
}  // namespace meshvpn::noise
