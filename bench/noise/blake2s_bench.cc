// Speed of the noise primitives in both backends: BLAKE2s-256 on 64 / 1420 / 8192 bytes, the
// keyed 16-byte mac over a 116-byte message (WireGuard's mac1), HMAC-BLAKE2s and KDF_2.
//
// The outside comparison is libsodium. libsodium has no BLAKE2s at all: its crypto_generichash is
// BLAKE2b (64-bit words, 128-byte blocks, 12 rounds), the closest thing it offers, so
// BM_SodiumBlake2b is a neighbour to compare with, not the same function. On 64-bit machines
// BLAKE2b is usually faster per byte than BLAKE2s for long messages.
//
// Run: build-*/bench/bench_noise --benchmark_filter=Blake2s256  (label: openssl | ref)
#include <benchmark/benchmark.h>
#include <sodium.h>

#include "meshvpn/noise/blake2s.h"
#include "meshvpn/noise/hmac.h"
#include "meshvpn/noise/kdf.h"

namespace meshvpn::noise {
namespace {

Bytes Pattern(size_t n) {
  Bytes data(n);
  for (size_t i = 0; i < n; ++i) data[i] = static_cast<uint8_t>(i * 131 + 7);
  return data;
}

CryptoBackend Backend(const benchmark::State& state, int arg) {
  return state.range(arg) == 0 ? CryptoBackend::kOpenSsl : CryptoBackend::kReference;
}

void BM_Blake2s256(benchmark::State& state) {
  const Bytes data = Pattern(state.range(0));
  const CryptoBackend backend = Backend(state, 1);
  for (auto _ : state) benchmark::DoNotOptimize(Blake2s256(data, backend));
  state.SetBytesProcessed(state.iterations() * state.range(0));
  state.SetLabel(std::string(ToString(backend)));
}
BENCHMARK(BM_Blake2s256)->ArgsProduct({{64, 1420, 8192}, {0, 1}});

void BM_SodiumBlake2b(benchmark::State& state) {
  if (sodium_init() < 0) state.SkipWithError("sodium_init failed");
  const Bytes data = Pattern(state.range(0));
  uint8_t out[32];
  for (auto _ : state) {
    crypto_generichash(out, sizeof(out), data.data(), data.size(), nullptr, 0);
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
  state.SetLabel("libsodium BLAKE2b-256 (no BLAKE2s in libsodium)");
}
BENCHMARK(BM_SodiumBlake2b)->Arg(64)->Arg(1420)->Arg(8192);

// mac1 = MAC(HASH(LABEL_MAC1 || S_pub), initiation[0:116]): per packet under load.
void BM_Blake2sMac16(benchmark::State& state) {
  const Bytes msg = Pattern(116);
  std::array<uint8_t, 32> key;
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(i);
  const CryptoBackend backend = Backend(state, 0);
  for (auto _ : state) benchmark::DoNotOptimize(Blake2sMac16(key, msg, backend));
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * msg.size());
  state.SetLabel(std::string(ToString(backend)));
}
BENCHMARK(BM_Blake2sMac16)->Arg(0)->Arg(1);

void BM_SodiumBlake2bMac16(benchmark::State& state) {
  if (sodium_init() < 0) state.SkipWithError("sodium_init failed");
  const Bytes msg = Pattern(116);
  uint8_t key[32] = {1};
  uint8_t out[16];
  for (auto _ : state) {
    crypto_generichash(out, sizeof(out), msg.data(), msg.size(), key, sizeof(key));
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * msg.size());
  state.SetLabel("libsodium keyed BLAKE2b, 16-byte output");
}
BENCHMARK(BM_SodiumBlake2bMac16);

void BM_HmacBlake2s(benchmark::State& state) {
  const Bytes key = Pattern(32), msg = Pattern(32);
  const CryptoBackend backend = Backend(state, 0);
  for (auto _ : state) benchmark::DoNotOptimize(HmacBlake2s(key, msg, backend));
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(std::string(ToString(backend)));
}
BENCHMARK(BM_HmacBlake2s)->Arg(0)->Arg(1);

// KDF_2(chaining key, DH result): three HMACs, as in every DH step of the handshake.
void BM_Kdf2(benchmark::State& state) {
  const Bytes ck = Pattern(32), dh = Pattern(32);
  const CryptoBackend backend = Backend(state, 0);
  for (auto _ : state) benchmark::DoNotOptimize(Kdf2(ck, dh, backend));
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(std::string(ToString(backend)));
}
BENCHMARK(BM_Kdf2)->Arg(0)->Arg(1);

}  // namespace
}  // namespace meshvpn::noise
