// Proves the per-call paths allocate nothing of ours: operator new is counted for the whole test
// binary (common/alloc_counter.h), and OpenSSL's allocator is swapped for a counting one before
// OpenSSL's first use.
#include <openssl/crypto.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <new>

#include "common/alloc_counter.h"
#include "meshvpn/noise/blake2s.h"
#include "meshvpn/noise/hmac.h"
#include "meshvpn/noise/kdf.h"

namespace {

// Counted on the calling thread only, so Catch2 or other threads cannot disturb a measurement.
thread_local long t_openssl_mallocs = 0;
thread_local long t_openssl_frees = 0;

void* CountingMalloc(size_t n, const char*, int) {
  ++t_openssl_mallocs;
  return std::malloc(n);
}
void* CountingRealloc(void* p, size_t n, const char*, int) {
  if (p == nullptr) ++t_openssl_mallocs;
  return std::realloc(p, n);
}
void CountingFree(void* p, const char*, int) {
  if (p != nullptr) ++t_openssl_frees;
  std::free(p);
}

// Runs during static initialisation, before anything in this binary has used OpenSSL (OpenSSL
// refuses the swap once it has allocated).
const bool g_openssl_counting =
    CRYPTO_set_mem_functions(CountingMalloc, CountingRealloc, CountingFree) == 1;

}  // namespace

namespace meshvpn::noise {
namespace {

struct Counts {
  long news = 0, openssl_mallocs = 0, openssl_frees = 0;
};

template <typename F>
Counts Measure(F&& f) {
  f();  // warm up: the thread's OpenSSL contexts are created on first use
  const Counts before{meshvpn::test::ThreadNewCount(), t_openssl_mallocs, t_openssl_frees};
  for (int i = 0; i < 10; ++i) f();
  return {meshvpn::test::ThreadNewCount() - before.news, t_openssl_mallocs - before.openssl_mallocs,
          t_openssl_frees - before.openssl_frees};
}

TEST_CASE("per-call BLAKE2s, mac, HMAC and KDF allocate nothing of ours") {
  REQUIRE(g_openssl_counting);
  const std::array<uint8_t, 32> key{7};
  uint8_t msg[116] = {1};
  uint8_t sink = 0;
  auto hash = [&](CryptoBackend b) { sink ^= Blake2s256({key, msg}, b)[0]; };
  auto mac = [&](CryptoBackend b) { sink ^= Blake2sMac16(key, msg, b)[0]; };
  auto hmac = [&](CryptoBackend b) { sink ^= HmacBlake2s(key, msg, b)[0]; };
  auto kdf = [&](CryptoBackend b) { sink ^= Kdf3(key, msg, b)[2][0]; };

  SECTION("reference backend: no allocation at all") {
    const CryptoBackend ref = CryptoBackend::kReference;
    for (const Counts c : {Measure([&] { hash(ref); }), Measure([&] { mac(ref); }),
                           Measure([&] { hmac(ref); }), Measure([&] { kdf(ref); })}) {
      CHECK(c.news == 0);
      CHECK(c.openssl_mallocs == 0);
    }
  }
  SECTION("OpenSSL backend: mac1's keyed BLAKE2s allocates nothing, even inside OpenSSL") {
    const Counts c = Measure([&] { mac(CryptoBackend::kOpenSsl); });
    CHECK(c.news == 0);
    CHECK(c.openssl_mallocs == 0);
  }
  SECTION("OpenSSL backend: hash, HMAC and KDF allocate none of ours and keep nothing") {
    // OpenSSL 3.0 re-creates its digest's provider context on every EVP_DigestInit (and HMAC
    // inits three digests); we can only check that all of it is freed again before returning.
    const CryptoBackend ossl = CryptoBackend::kOpenSsl;
    for (const Counts c : {Measure([&] { hash(ossl); }), Measure([&] { hmac(ossl); }),
                           Measure([&] { kdf(ossl); })}) {
      CHECK(c.news == 0);
      CHECK(c.openssl_mallocs == c.openssl_frees);
    }
  }
  CHECK(OpenSslFallbackCount() == 0);
  (void)sink;
}

}  // namespace
}  // namespace meshvpn::noise
