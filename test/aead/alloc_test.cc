// Proves the per-packet calls allocate nothing, in both backends, after warm-up.
//
// Two counters: operator new is counted for the whole test binary (common/alloc_counter.h: C++
// allocations), and this file installs counting malloc/realloc/free hooks in OpenSSL before it
// allocates anything (CRYPTO_set_mem_functions), which catches allocations inside OpenSSL's
// EVP calls. Counting is switched on only around the calls under test: Catch2's own assertions
// allocate, so the counts are read into locals before any CHECK.
//
// Under AddressSanitizer this still works: the replaced operator new takes precedence over the
// sanitizer's, and forwards to malloc, which ASan intercepts as usual. ASan's own bookkeeping
// does not go through operator new or OpenSSL's hooks, so it cannot inflate the counts.
#include <openssl/crypto.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <vector>

#include "common/alloc_counter.h"
#include "meshvpn/aead/chacha20_poly1305.h"
#include "meshvpn/aead/xchacha20_poly1305.h"
#include "test_util.h"

namespace {

std::atomic<bool> g_counting{false};
std::atomic<size_t> g_openssl_allocations{0};

void* OpenSslMalloc(size_t size, const char*, int) {
  if (g_counting.load(std::memory_order_relaxed)) g_openssl_allocations.fetch_add(1);
  return std::malloc(size);
}
void* OpenSslRealloc(void* p, size_t size, const char*, int) {
  if (g_counting.load(std::memory_order_relaxed)) g_openssl_allocations.fetch_add(1);
  return std::realloc(p, size);
}
void OpenSslFree(void* p, const char*, int) { std::free(p); }

// Runs at static initialisation, before main and before OpenSSL's first allocation.
const bool g_openssl_hooked = CRYPTO_set_mem_functions(OpenSslMalloc, OpenSslRealloc, OpenSslFree);

}  // namespace

namespace meshvpn::aead {
namespace {

struct Counts {
  size_t cpp = 0;
  size_t openssl = 0;
};

// Runs `fn` with counting on and returns what it allocated.
template <typename Fn>
Counts Count(Fn&& fn) {
  g_openssl_allocations = 0;
  const uint64_t cpp_before = meshvpn::test::ProcessNewCount();
  g_counting = true;
  fn();
  g_counting = false;
  const uint64_t cpp_after = meshvpn::test::ProcessNewCount();
  return {static_cast<size_t>(cpp_after - cpp_before), g_openssl_allocations.load()};
}

TEST_CASE("the allocation counters see allocations (self-test)") {
  REQUIRE(g_openssl_hooked);
  const Counts c = Count([] {
    auto* p = new std::vector<int>(100);
    delete p;
    OPENSSL_free(OPENSSL_malloc(32));
  });
  CHECK(c.cpp >= 1);
  CHECK(c.openssl >= 1);
}

TEST_CASE("per-packet Seal/Open and the batch calls allocate nothing (both backends)") {
  REQUIRE(g_openssl_hooked);
  for (CryptoBackend backend : kAllCryptoBackends) {
    INFO(ToString(backend));
    auto created = ChaCha20Poly1305::Create(Bytes(32, 0x11), backend);
    auto xcreated = XChaCha20Poly1305::Create(Bytes(32, 0x22), backend);
    REQUIRE(created.ok());
    REQUIRE(xcreated.ok());
    ChaCha20Poly1305& key = *created;
    XChaCha20Poly1305& xkey = *xcreated;

    // Buffers and the batch are set up outside the counted region.
    constexpr size_t kSize = 1420;
    const Bytes aad(16, 0xaa);
    const Bytes xnonce(24, 0x33);
    Bytes packet(kSize + kTagSize, 0x5a);
    Bytes forged(kSize + kTagSize, 0);
    std::vector<Bytes> storage(8, Bytes(kSize + kTagSize, 0x6b));
    std::vector<AeadPacket> batch(storage.size());
    auto run = [&](uint64_t base) {
      bool ok = true;
      for (uint64_t i = 0; i < 32; ++i) {
        ok &= key.SealCounter(base + i, aad, packet, kSize) == AeadResult::kOk;
        ok &= key.OpenCounter(base + i, aad, packet) == AeadResult::kOk;
        ok &= key.SealCounter(base + i, {}, MutableByteSpan(packet).first(kTagSize + 1), 1) ==
              AeadResult::kOk;
        ok &= key.OpenCounter(base + i, aad, forged) == AeadResult::kAuthenticationFailed;
        ok &= key.Seal(ByteSpan(xnonce).first(7), aad, packet, kSize) ==
              AeadResult::kInvalidNonceSize;
        ok &= xkey.Seal(xnonce, aad, packet, kSize) == AeadResult::kOk;
        ok &= xkey.Open(xnonce, aad, packet) == AeadResult::kOk;
      }
      for (size_t i = 0; i < batch.size(); ++i) {
        batch[i] = {.counter = base + i, .aad = aad, .buffer = storage[i], .length = kSize};
      }
      ok &= key.SealBatch(batch) == batch.size();
      for (AeadPacket& p : batch) p.length = kSize + kTagSize;
      ok &= key.OpenBatch(batch) == batch.size();
      return ok;
    };

    REQUIRE(run(0));  // warm-up: lazy OpenSSL state (error queue, provider caches) is built here
    bool ok = false;
    const Counts c = Count([&] { ok = run(1000); });
    CHECK(ok);
    CHECK(c.cpp == 0);
    CHECK(c.openssl == 0);
  }
}

}  // namespace
}  // namespace meshvpn::aead
