// X25519 Diffie-Hellman and public-key derivation per second: meshvpn's two backends, libsodium,
// and two OpenSSL baselines measured in the same run (see docs/x25519.md for how to read them).
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <sodium.h>

#include <array>
#include <cstdlib>

#include "meshvpn/base/crypto_backend.h"
#include "meshvpn/x25519/x25519.h"

namespace meshvpn::x25519 {
namespace {

// Fixed, arbitrary inputs (the work does not depend on the values).
std::array<uint8_t, kKeySize> Scalar() {
  std::array<uint8_t, kKeySize> k{};
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(i * 29 + 3);
  return k;
}
std::array<uint8_t, kKeySize> PeerPublic() {
  // RFC 7748 section 6.1, Bob's public key.
  return {0xde, 0x9e, 0xdb, 0x7d, 0x7b, 0x7d, 0xc1, 0xb4, 0xd3, 0x5b, 0x61,
          0xc2, 0xec, 0xe4, 0x35, 0x37, 0x3f, 0x83, 0x43, 0xc8, 0x5b, 0x78,
          0x67, 0x4d, 0xad, 0xfc, 0x7e, 0x14, 0x6f, 0x88, 0x2b, 0x4f};
}

void BM_X25519Dh(benchmark::State& state, CryptoBackend backend) {
  const PrivateKey key(Scalar());
  const PublicKey peer(PeerPublic());
  for (auto _ : state) {
    auto secret = ComputeSharedSecret(key, peer, backend);
    if (!secret.ok()) state.SkipWithError("ComputeSharedSecret failed");
    benchmark::DoNotOptimize(secret);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_CAPTURE(BM_X25519Dh, openssl, CryptoBackend::kOpenSsl);
BENCHMARK_CAPTURE(BM_X25519Dh, ref, CryptoBackend::kReference);

void BM_X25519DhLibsodium(benchmark::State& state) {
  if (sodium_init() < 0) state.SkipWithError("sodium_init failed");
  const auto scalar = Scalar();
  const auto peer = PeerPublic();
  std::array<uint8_t, kKeySize> out{};
  for (auto _ : state) {
    if (crypto_scalarmult(out.data(), scalar.data(), peer.data()) != 0) {
      state.SkipWithError("crypto_scalarmult failed");
    }
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_X25519DhLibsodium)->Name("BM_X25519Dh/libsodium");

// Baseline: only EVP_PKEY_derive on a context prepared once, which is what
// `openssl speed ecdhx25519` times. Our openssl backend also imports both keys and builds a
// context per call; the gap between the two is that per-call cost.
void BM_X25519DhOpenSslDeriveOnly(benchmark::State& state) {
  const auto scalar = Scalar();
  const auto peer = PeerPublic();
  EVP_PKEY* mine = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, scalar.data(), 32);
  EVP_PKEY* theirs = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, peer.data(), 32);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(mine, nullptr);
  if (mine == nullptr || theirs == nullptr || ctx == nullptr || EVP_PKEY_derive_init(ctx) != 1 ||
      EVP_PKEY_derive_set_peer(ctx, theirs) != 1) {
    state.SkipWithError("OpenSSL setup failed");
  }
  std::array<uint8_t, kKeySize> out{};
  for (auto _ : state) {
    size_t len = out.size();
    if (EVP_PKEY_derive(ctx, out.data(), &len) != 1) state.SkipWithError("derive failed");
    benchmark::DoNotOptimize(out);
  }
  EVP_PKEY_CTX_free(ctx);
  EVP_PKEY_free(theirs);
  EVP_PKEY_free(mine);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_X25519DhOpenSslDeriveOnly)->Name("BM_X25519Dh/openssl_derive_only");

// Baseline: the textbook per-call EVP sequence (EVP_PKEY_new_raw_private_key etc.). Importing a
// private key this way makes OpenSSL compute its public key too: two scalar multiplications.
void BM_X25519DhOpenSslNaive(benchmark::State& state) {
  const auto scalar = Scalar();
  const auto peer = PeerPublic();
  std::array<uint8_t, kKeySize> out{};
  for (auto _ : state) {
    EVP_PKEY* mine = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, scalar.data(), 32);
    EVP_PKEY* theirs = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, peer.data(), 32);
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(mine, nullptr);
    size_t len = out.size();
    if (ctx == nullptr || EVP_PKEY_derive_init(ctx) != 1 ||
        EVP_PKEY_derive_set_peer(ctx, theirs) != 1 || EVP_PKEY_derive(ctx, out.data(), &len) != 1) {
      state.SkipWithError("OpenSSL failed");
    }
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(theirs);
    EVP_PKEY_free(mine);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_X25519DhOpenSslNaive)->Name("BM_X25519Dh/openssl_naive_evp");

void BM_X25519DerivePublicKey(benchmark::State& state, CryptoBackend backend) {
  const PrivateKey key(Scalar());
  for (auto _ : state) {
    auto pub = DerivePublicKey(key, backend);
    if (!pub.ok()) state.SkipWithError("DerivePublicKey failed");
    benchmark::DoNotOptimize(pub);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_CAPTURE(BM_X25519DerivePublicKey, openssl, CryptoBackend::kOpenSsl);
BENCHMARK_CAPTURE(BM_X25519DerivePublicKey, ref, CryptoBackend::kReference);

void BM_X25519DerivePublicKeyLibsodium(benchmark::State& state) {
  if (sodium_init() < 0) state.SkipWithError("sodium_init failed");
  const auto scalar = Scalar();
  std::array<uint8_t, kKeySize> out{};
  for (auto _ : state) {
    if (crypto_scalarmult_base(out.data(), scalar.data()) != 0) {
      state.SkipWithError("crypto_scalarmult_base failed");
    }
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_X25519DerivePublicKeyLibsodium)->Name("BM_X25519DerivePublicKey/libsodium");

void BM_X25519GenerateKeyPair(benchmark::State& state, CryptoBackend backend) {
  for (auto _ : state) {
    auto pair = GenerateKeyPair(backend);
    if (!pair.ok()) state.SkipWithError("GenerateKeyPair failed");
    benchmark::DoNotOptimize(pair);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_CAPTURE(BM_X25519GenerateKeyPair, openssl, CryptoBackend::kOpenSsl);
BENCHMARK_CAPTURE(BM_X25519GenerateKeyPair, ref, CryptoBackend::kReference);

}  // namespace
}  // namespace meshvpn::x25519
