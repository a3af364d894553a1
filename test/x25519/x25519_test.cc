// Tests for X25519 Diffie-Hellman on both backends: RFC 7748 vectors, low-order rejection,
// agreement between the backends on random inputs.
#include "meshvpn/x25519/x25519.h"

#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "meshvpn/base/bytes.h"
#include "meshvpn/base/crypto_backend.h"

namespace meshvpn::x25519 {
namespace {

std::array<uint8_t, kKeySize> Bytes32(std::string_view hex) {
  std::array<uint8_t, kKeySize> out{};
  REQUIRE(HexDecodeInto(hex, out).ok());
  return out;
}

// X25519(scalar, u) through the public API, as hex; "error: ..." on failure.
std::string Dh(CryptoBackend backend, std::string_view scalar_hex, std::string_view u_hex) {
  auto secret =
      ComputeSharedSecret(PrivateKey(Bytes32(scalar_hex)), PublicKey(Bytes32(u_hex)), backend);
  if (!secret.ok()) return "error: " + std::string(secret.status().message());
  return HexEncode(secret->ExposeSecretBytes());
}

// RFC 7748 section 5.2, the iterated test: k = u = 9, then n times (k, u) = (X25519(k, u), k).
std::string Iterate(CryptoBackend backend, int n) {
  std::array<uint8_t, kKeySize> k = {9};
  std::array<uint8_t, kKeySize> u = {9};
  for (int i = 0; i < n; ++i) {
    auto r = ComputeSharedSecret(PrivateKey(k), PublicKey(u), backend);
    if (!r.ok()) return "error at iteration " + std::to_string(i);
    u = k;
    std::copy(r->ExposeSecretBytes().begin(), r->ExposeSecretBytes().end(), k.begin());
  }
  return HexEncode(k);
}

constexpr char kAfter1[] = "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079";
constexpr char kAfter1000[] = "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51";
constexpr char kAfter1000000[] = "7c3911e0ab2586fd864497297e575e6f3bc601c0883c30df5f4dd2d24f665424";

TEST_CASE("RFC 7748 section 5.2 test vectors") {
  for (CryptoBackend backend : kAllCryptoBackends) {
    INFO("backend " << std::string(ToString(backend)));
    // Note: both scalars are unclamped and the second u has bit 255 set, as the RFC gives them.
    CHECK(Dh(backend, "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
             "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c") ==
          "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
    CHECK(Dh(backend, "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
             "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493") ==
          "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957");
  }
}

TEST_CASE("RFC 7748 section 5.2 iterated, 1 and 1,000 iterations") {
  for (CryptoBackend backend : kAllCryptoBackends) {
    INFO("backend " << std::string(ToString(backend)));
    CHECK(Iterate(backend, 1) == kAfter1);
    CHECK(Iterate(backend, 1000) == kAfter1000);
  }
}

// Hidden from the default run (tag "[.slow]"): test/x25519/CMakeLists.txt registers these two
// as separate ctest tests labelled "slow" (about a minute each in a release build).
TEST_CASE("RFC 7748 section 5.2 iterated, 1,000,000 iterations, openssl", "[.slow][openssl]") {
  CHECK(Iterate(CryptoBackend::kOpenSsl, 1000000) == kAfter1000000);
}

TEST_CASE("RFC 7748 section 5.2 iterated, 1,000,000 iterations, ref", "[.slow][ref]") {
  CHECK(Iterate(CryptoBackend::kReference, 1000000) == kAfter1000000);
}

TEST_CASE("RFC 7748 section 6.1 Diffie-Hellman example") {
  const auto alice =
      PrivateKey(Bytes32("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
  const auto bob =
      PrivateKey(Bytes32("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"));
  constexpr char kAlicePublic[] =
      "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
  constexpr char kBobPublic[] = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
  constexpr char kShared[] = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
  for (CryptoBackend backend : kAllCryptoBackends) {
    INFO("backend " << std::string(ToString(backend)));
    auto alice_public = DerivePublicKey(alice, backend);
    auto bob_public = DerivePublicKey(bob, backend);
    REQUIRE(alice_public.ok());
    REQUIRE(bob_public.ok());
    CHECK(alice_public->ToHex() == kAlicePublic);
    CHECK(bob_public->ToHex() == kBobPublic);
    auto alice_shared = ComputeSharedSecret(alice, *bob_public, backend);
    auto bob_shared = ComputeSharedSecret(bob, *alice_public, backend);
    REQUIRE(alice_shared.ok());
    REQUIRE(bob_shared.ok());
    CHECK(HexEncode(alice_shared->ExposeSecretBytes()) == kShared);
    CHECK(bob_shared->ConstantTimeEquals(*alice_shared));
  }
}

// The u-coordinates of small order (1, 2, 4 or 8) with their non-canonical encodings (>= p);
// every clamped scalar maps them to 0.
constexpr const char* kLowOrderPoints[] = {
    "0000000000000000000000000000000000000000000000000000000000000000",  // 0
    "0100000000000000000000000000000000000000000000000000000000000000",  // 1
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",  // order 8
    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",  // order 8
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // p - 1
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // p     (= 0)
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // p + 1 (= 1)
};

TEST_CASE("low-order public keys are rejected with a clear error") {
  auto mine = PrivateKey::Generate();
  REQUIRE(mine.ok());
  for (CryptoBackend backend : kAllCryptoBackends) {
    for (const char* point : kLowOrderPoints) {
      for (uint8_t high_bit : {0x00, 0x80}) {
        auto u = Bytes32(point);
        u[31] |= high_bit;  // bit 255 is ignored, so this is the same point
        INFO("backend " << std::string(ToString(backend)) << " u " << HexEncode(u));
        auto r = ComputeSharedSecret(*mine, PublicKey(u), backend);
        REQUIRE_FALSE(r.ok());
        CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
        CHECK(r.status().message() == kLowOrderPublicKeyMessage);
      }
    }
  }
}

TEST_CASE("clamping clears the low 3 bits and bit 255, sets bit 254") {
  std::array<uint8_t, kKeySize> all_ones;
  all_ones.fill(0xff);
  ClampScalar(all_ones);
  CHECK(all_ones[0] == 0xf8);
  CHECK(all_ones[31] == 0x7f);
  std::array<uint8_t, kKeySize> zeros{};
  ClampScalar(zeros);
  CHECK(zeros[0] == 0);
  CHECK(zeros[31] == 0x40);
  for (size_t i = 1; i < 31; ++i) CHECK(all_ones[i] == 0xff);
  // Clamping is what X25519 does anyway: a clamped and an unclamped scalar agree.
  auto raw = Bytes32("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4");
  auto clamped = raw;
  ClampScalar(clamped);
  for (CryptoBackend backend : kAllCryptoBackends) {
    auto a = DerivePublicKey(PrivateKey(raw), backend);
    auto b = DerivePublicKey(PrivateKey(clamped), backend);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    CHECK(*a == *b);
  }
}

TEST_CASE("generated key pairs agree on a shared secret across backends") {
  for (CryptoBackend key_backend : kAllCryptoBackends) {
    auto alice = GenerateKeyPair(key_backend);
    auto bob = GenerateKeyPair(key_backend);
    REQUIRE(alice.ok());
    REQUIRE(bob.ok());
    CHECK(alice->public_key != bob->public_key);
    for (CryptoBackend backend : kAllCryptoBackends) {
      auto derived = DerivePublicKey(alice->private_key, backend);
      REQUIRE(derived.ok());
      CHECK(*derived == alice->public_key);
      auto ab = ComputeSharedSecret(alice->private_key, bob->public_key, backend);
      auto ba = ComputeSharedSecret(bob->private_key, alice->public_key, CryptoBackend::kOpenSsl);
      REQUIRE(ab.ok());
      REQUIRE(ba.ok());
      CHECK(ab->ConstantTimeEquals(*ba));
    }
  }
}

TEST_CASE("backends agree on random scalars and u-coordinates, including non-canonical u") {
  std::mt19937_64 rng(2025);
  for (int i = 0; i < 300; ++i) {
    std::array<uint8_t, kKeySize> k{};
    std::array<uint8_t, kKeySize> u{};
    for (auto& b : k) b = static_cast<uint8_t>(rng());
    for (auto& b : u) b = static_cast<uint8_t>(rng());
    if (i % 3 == 1) {
      // A u in [p, 2^255) (non-canonical) with a random bit 255: 0xed..ff + small random tail.
      for (size_t j = 1; j < 31; ++j) u[j] = 0xff;
      u[0] = static_cast<uint8_t>(0xed + (rng() % 0x13));
      u[31] = static_cast<uint8_t>(0x7f | (rng() & 0x80));
    }
    const PrivateKey key(k);
    const PublicKey peer(u);
    auto via_openssl = ComputeSharedSecret(key, peer, CryptoBackend::kOpenSsl);
    auto via_ref = ComputeSharedSecret(key, peer, CryptoBackend::kReference);
    INFO("k=" << HexEncode(k) << " u=" << HexEncode(u));
    REQUIRE(via_openssl.ok() == via_ref.ok());
    if (via_openssl.ok()) {
      CHECK(HexEncode(via_openssl->ExposeSecretBytes()) == HexEncode(via_ref->ExposeSecretBytes()));
    } else {
      CHECK(via_openssl.status() == via_ref.status());
    }
    auto pub_openssl = DerivePublicKey(key, CryptoBackend::kOpenSsl);
    auto pub_ref = DerivePublicKey(key, CryptoBackend::kReference);
    REQUIRE(pub_openssl.ok());
    REQUIRE(pub_ref.ok());
    CHECK(*pub_openssl == *pub_ref);
  }
}

TEST_CASE("all functions are safe to call from several threads") {
  // The OpenSSL backend keeps a per-thread import context; run it from fresh threads.
  std::vector<std::string> results(4);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < results.size(); ++t) {
    threads.emplace_back([&results, t] {
      results[t] = Iterate(t % 2 == 0 ? CryptoBackend::kOpenSsl : CryptoBackend::kReference, 50);
    });
  }
  for (auto& th : threads) th.join();
  for (const std::string& r : results) CHECK(r == results[0]);
  CHECK(results[0].size() == 64);
}

}  // namespace
}  // namespace meshvpn::x25519
