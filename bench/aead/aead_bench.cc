// ChaCha20-Poly1305 throughput: our two backends, libsodium, and the loops `openssl speed` runs.
//
//   (bytes: 64, 1024, 1420 = a full-MTU WireGuard payload, 8192)
//   BM_ChaChaPolySeal/<openssl|ref|sodium>/<bytes>   one packet sealed in place per iteration
//   BM_ChaChaPolyOpen/<openssl|ref|sodium>/<bytes>   one packet opened in place per iteration;
//                                                    includes a memcpy restoring the sealed packet
//                                                    (BM_Memcpy/<bytes> shows what that costs)
//   BM_ChaChaPolySealBatch/<backend>/1420x64         SealBatch of 64 packets of 1420 bytes
//   BM_ChaChaPolyOpenBatch/<backend>/1420x64         OpenBatch of the same (with the restore copy)
//   BM_XChaChaPolySeal/<backend>/1420                XChaCha20-Poly1305 (HChaCha20 per message)
//   BM_OpenSslSpeedEvp/<bytes>      what `openssl speed -evp chacha20-poly1305` times: only
//                                   EVP_EncryptUpdate on one long-running stream (no per-message
//                                   nonce, AAD, tag)
//   BM_OpenSslSpeedAead/<bytes>     what `openssl speed -aead -evp chacha20-poly1305` times: the
//                                   full per-message init + AAD + update + final
//
// Ratios between these lines are the numbers to quote: absolute speeds drift on shared machines.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <sodium.h>

#include <cstring>
#include <string>
#include <vector>

#include "meshvpn/aead/chacha20_poly1305.h"
#include "meshvpn/aead/xchacha20_poly1305.h"
#include "meshvpn/base/crypto_backend.h"

namespace meshvpn::aead {
namespace {

constexpr size_t kBatch = 64;
constexpr size_t kBatchPacket = 1420;
const Bytes kKey(32, 0x42);
const Bytes kAad(16, 0xa5);  // about a WireGuard-sized header; WireGuard data packets use none

ChaCha20Poly1305 MakeKey(CryptoBackend backend) {
  auto key = ChaCha20Poly1305::Create(kKey, backend);
  if (!key.ok()) std::abort();
  return *std::move(key);
}

void Seal(benchmark::State& state, CryptoBackend backend) {
  const size_t n = static_cast<size_t>(state.range(0));
  ChaCha20Poly1305 key = MakeKey(backend);
  Bytes buffer(n + kTagSize, 0x5a);
  uint64_t counter = 0;
  for (auto _ : state) {
    if (key.SealCounter(counter++, kAad, buffer, n) != AeadResult::kOk) {
      state.SkipWithError("seal failed");
      break;
    }
    benchmark::DoNotOptimize(buffer.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n));
}

void Open(benchmark::State& state, CryptoBackend backend) {
  const size_t n = static_cast<size_t>(state.range(0));
  ChaCha20Poly1305 key = MakeKey(backend);
  Bytes sealed(n + kTagSize, 0x5a);
  if (key.SealCounter(7, kAad, sealed, n) != AeadResult::kOk) std::abort();
  Bytes buffer(sealed.size());
  for (auto _ : state) {
    std::memcpy(buffer.data(), sealed.data(), sealed.size());
    if (key.OpenCounter(7, kAad, buffer) != AeadResult::kOk) {
      state.SkipWithError("open failed");
      break;
    }
    benchmark::DoNotOptimize(buffer.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n));
}

void SodiumSeal(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  Bytes buffer(n + kTagSize, 0x5a);
  uint64_t counter = 0;
  for (auto _ : state) {
    const auto nonce = CounterNonce(counter++);
    unsigned long long mac_len = 0;  // NOLINT(runtime/int): libsodium's type
    crypto_aead_chacha20poly1305_ietf_encrypt_detached(buffer.data(), buffer.data() + n, &mac_len,
                                                       buffer.data(), n, kAad.data(), kAad.size(),
                                                       nullptr, nonce.data(), kKey.data());
    benchmark::DoNotOptimize(buffer.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n));
}

void SodiumOpen(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  Bytes sealed(n + kTagSize, 0x5a);
  const auto nonce = CounterNonce(7);
  unsigned long long mac_len = 0;  // NOLINT(runtime/int)
  crypto_aead_chacha20poly1305_ietf_encrypt_detached(sealed.data(), sealed.data() + n, &mac_len,
                                                     sealed.data(), n, kAad.data(), kAad.size(),
                                                     nullptr, nonce.data(), kKey.data());
  Bytes buffer(sealed.size());
  for (auto _ : state) {
    std::memcpy(buffer.data(), sealed.data(), sealed.size());
    if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(
            buffer.data(), nullptr, buffer.data(), n, buffer.data() + n, kAad.data(), kAad.size(),
            nonce.data(), kKey.data()) != 0) {
      state.SkipWithError("sodium open failed");
      break;
    }
    benchmark::DoNotOptimize(buffer.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n));
}

void Memcpy(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  Bytes from(n + kTagSize, 1), to(n + kTagSize);
  for (auto _ : state) {
    std::memcpy(to.data(), from.data(), from.size());
    benchmark::DoNotOptimize(to.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n));
}

struct Batch {
  std::vector<Bytes> storage;
  std::vector<AeadPacket> packets;
  Batch() : storage(kBatch, Bytes(kBatchPacket + kTagSize, 0x5a)), packets(kBatch) {}
};

void SealBatch(benchmark::State& state, CryptoBackend backend) {
  ChaCha20Poly1305 key = MakeKey(backend);
  Batch batch;
  uint64_t counter = 0;
  for (auto _ : state) {
    for (size_t i = 0; i < kBatch; ++i) {
      batch.packets[i] = {counter++, {}, batch.storage[i], kBatchPacket, AeadResult::kOk};
    }
    if (key.SealBatch(batch.packets) != kBatch) {
      state.SkipWithError("batch seal failed");
      break;
    }
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kBatch * kBatchPacket));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatch));
}

void OpenBatch(benchmark::State& state, CryptoBackend backend) {
  ChaCha20Poly1305 key = MakeKey(backend);
  Batch sealed, work;
  for (size_t i = 0; i < kBatch; ++i) {
    sealed.packets[i] = {i, {}, sealed.storage[i], kBatchPacket, AeadResult::kOk};
  }
  if (key.SealBatch(sealed.packets) != kBatch) std::abort();
  for (auto _ : state) {
    for (size_t i = 0; i < kBatch; ++i) {
      std::memcpy(work.storage[i].data(), sealed.storage[i].data(), sealed.storage[i].size());
      work.packets[i] = {i, {}, work.storage[i], kBatchPacket + kTagSize, AeadResult::kOk};
    }
    if (key.OpenBatch(work.packets) != kBatch) {
      state.SkipWithError("batch open failed");
      break;
    }
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kBatch * kBatchPacket));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatch));
}

void XSeal(benchmark::State& state, CryptoBackend backend) {
  const size_t n = static_cast<size_t>(state.range(0));
  auto key = XChaCha20Poly1305::Create(kKey, backend);
  if (!key.ok()) std::abort();
  Bytes buffer(n + kTagSize, 0x5a);
  Bytes nonce(kXNonceSize, 0x11);
  uint64_t counter = 0;
  for (auto _ : state) {
    std::memcpy(nonce.data(), &counter, sizeof(counter));
    ++counter;
    if (key->Seal(nonce, kAad, buffer, n) != AeadResult::kOk) {
      state.SkipWithError("xchacha seal failed");
      break;
    }
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n));
}

// `openssl speed -evp chacha20-poly1305`: EVP_EncryptUpdate only, on one context whose message
// never ends.
void OpenSslSpeedEvp(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  const uint8_t iv[12] = {};
  EVP_EncryptInit_ex(ctx, EVP_chacha20_poly1305(), nullptr, kKey.data(), iv);
  Bytes buffer(n, 0x5a);
  int outl = 0;
  for (auto _ : state) {
    EVP_EncryptUpdate(ctx, buffer.data(), &outl, buffer.data(), static_cast<int>(n));
    benchmark::ClobberMemory();
  }
  EVP_CIPHER_CTX_free(ctx);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n));
}

// `openssl speed -aead -evp chacha20-poly1305`: a whole AEAD message per iteration (its loop sets
// the nonce, 13 bytes of AAD, encrypts, finalises; it does not fetch the tag).
void OpenSslSpeedAead(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  const uint8_t iv[12] = {};
  const uint8_t aad[13] = {};
  EVP_EncryptInit_ex(ctx, EVP_chacha20_poly1305(), nullptr, kKey.data(), iv);
  Bytes buffer(n + kTagSize, 0x5a);
  int outl = 0;
  for (auto _ : state) {
    EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, iv);
    EVP_EncryptUpdate(ctx, nullptr, &outl, aad, sizeof(aad));
    EVP_EncryptUpdate(ctx, buffer.data(), &outl, buffer.data(), static_cast<int>(n));
    EVP_EncryptFinal_ex(ctx, buffer.data() + outl, &outl);
    benchmark::ClobberMemory();
  }
  EVP_CIPHER_CTX_free(ctx);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n));
}

// Registers every benchmark under a BM_<Op>/<backend> name before benchmark_main runs.
const bool registered = [] {
  if (sodium_init() < 0) std::abort();
  for (CryptoBackend backend : kAllCryptoBackends) {
    const std::string name(ToString(backend));
    benchmark::RegisterBenchmark(("BM_ChaChaPolySeal/" + name).c_str(), Seal, backend)
        ->Arg(64)
        ->Arg(1024)
        ->Arg(1420)
        ->Arg(8192);
    benchmark::RegisterBenchmark(("BM_ChaChaPolyOpen/" + name).c_str(), Open, backend)
        ->Arg(64)
        ->Arg(1024)
        ->Arg(1420)
        ->Arg(8192);
  }
  benchmark::RegisterBenchmark("BM_ChaChaPolySeal/sodium", SodiumSeal)
      ->Arg(64)
      ->Arg(1024)
      ->Arg(1420)
      ->Arg(8192);
  benchmark::RegisterBenchmark("BM_ChaChaPolyOpen/sodium", SodiumOpen)
      ->Arg(64)
      ->Arg(1024)
      ->Arg(1420)
      ->Arg(8192);
  benchmark::RegisterBenchmark("BM_Memcpy", Memcpy)->Arg(64)->Arg(1024)->Arg(1420)->Arg(8192);
  for (CryptoBackend backend : kAllCryptoBackends) {
    const std::string name(ToString(backend));
    benchmark::RegisterBenchmark(("BM_ChaChaPolySealBatch/" + name + "/1420x64").c_str(), SealBatch,
                                 backend);
    benchmark::RegisterBenchmark(("BM_ChaChaPolyOpenBatch/" + name + "/1420x64").c_str(), OpenBatch,
                                 backend);
    benchmark::RegisterBenchmark(("BM_XChaChaPolySeal/" + name).c_str(), XSeal, backend)->Arg(1420);
  }
  benchmark::RegisterBenchmark("BM_OpenSslSpeedEvp", OpenSslSpeedEvp)->Arg(1024)->Arg(1420);
  benchmark::RegisterBenchmark("BM_OpenSslSpeedAead", OpenSslSpeedAead)->Arg(1024)->Arg(1420);
  return true;
}();

}  // namespace
}  // namespace meshvpn::aead
