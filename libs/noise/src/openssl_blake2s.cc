#include "openssl_blake2s.h"

#include <openssl/core_names.h>
#include <openssl/params.h>

#include <atomic>

#include "absl/strings/str_format.h"
#include "meshvpn/noise/blake2s.h"

namespace meshvpn::noise::internal {
namespace {

std::atomic<uint64_t> g_fallbacks{0};

OpenSslAlgorithms Fetch() {
  OpenSslAlgorithms a;
  a.blake2s256 = EVP_MD_fetch(nullptr, "BLAKE2S-256", nullptr);
  a.blake2s_mac = EVP_MAC_fetch(nullptr, "BLAKE2SMAC", nullptr);
  a.hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  return a;
}

// One thread's contexts. The destructor runs when the thread exits (thread_local).
struct ThreadContexts {
  EVP_MD_CTX* digest = nullptr;
  EVP_MAC_CTX* blake2s_mac = nullptr;
  EVP_MAC_CTX* hmac = nullptr;

  ThreadContexts() = default;
  ThreadContexts(const ThreadContexts&) = delete;
  ThreadContexts& operator=(const ThreadContexts&) = delete;
  ~ThreadContexts() {
    EVP_MD_CTX_free(digest);  // both free functions cleanse the provider state
    EVP_MAC_CTX_free(blake2s_mac);
    EVP_MAC_CTX_free(hmac);
  }
};

ThreadContexts& Tls() {
  thread_local ThreadContexts contexts;
  return contexts;
}

// A public, all-zero dummy key that replaces a caller's key inside a reused context.
constexpr uint8_t kDummyKey[1] = {0};

}  // namespace

const OpenSslAlgorithms& Algorithms() {
  static const OpenSslAlgorithms algorithms = Fetch();  // thread-safe one-time initialisation
  return algorithms;
}

absl::Status CheckAlgorithms() {
  const OpenSslAlgorithms& a = Algorithms();
  const char* missing = a.blake2s256 == nullptr    ? "EVP_MD BLAKE2S-256"
                        : a.blake2s_mac == nullptr ? "EVP_MAC BLAKE2SMAC"
                        : a.hmac == nullptr        ? "EVP_MAC HMAC"
                                                   : nullptr;
  if (missing != nullptr) {
    return absl::UnavailableError(absl::StrFormat(
        "OpenSSL does not provide %s (is the default provider loaded?); the openssl crypto "
        "backend cannot be used for noise",
        missing));
  }
  if (ThreadHmacCtx() == nullptr) {
    return absl::InternalError("OpenSSL could not set up HMAC with digest BLAKE2S-256");
  }
  return absl::OkStatus();
}

EVP_MD_CTX* ThreadDigestCtx() {
  ThreadContexts& t = Tls();
  if (t.digest == nullptr && Algorithms().blake2s256 != nullptr) t.digest = EVP_MD_CTX_new();
  return t.digest;
}

EVP_MAC_CTX* ThreadBlake2sMacCtx() {
  ThreadContexts& t = Tls();
  if (t.blake2s_mac == nullptr && Algorithms().blake2s_mac != nullptr) {
    t.blake2s_mac = EVP_MAC_CTX_new(Algorithms().blake2s_mac);
  }
  return t.blake2s_mac;
}

EVP_MAC_CTX* ThreadHmacCtx() {
  ThreadContexts& t = Tls();
  if (t.hmac == nullptr && Algorithms().hmac != nullptr) {
    EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(Algorithms().hmac);
    if (ctx == nullptr) return nullptr;
    // The digest is chosen once per context; every later EVP_MAC_init only changes the key.
    char digest_name[] = "BLAKE2S-256";
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
        OSSL_PARAM_construct_end()};
    if (EVP_MAC_CTX_set_params(ctx, params) != 1) {
      EVP_MAC_CTX_free(ctx);
      return nullptr;
    }
    t.hmac = ctx;
  }
  return t.hmac;
}

void ScrubThreadBlake2sMacCtx() {
  // BLAKE2SMAC keeps a copy of the key (to re-initialise); setting the key parameter overwrites
  // it. Its hash state was already cleansed by OpenSSL's final step.
  EVP_MAC_CTX* ctx = Tls().blake2s_mac;
  if (ctx == nullptr) return;
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, const_cast<uint8_t*>(kDummyKey),
                                        sizeof(kDummyKey)),
      OSSL_PARAM_construct_end()};
  (void)EVP_MAC_CTX_set_params(ctx, params);
}

void ScrubThreadHmacCtx() {
  // HMAC keeps a copy of the key and the key-derived inner/outer digest states (the pads, already
  // compressed). Re-keying with the empty key frees (and cleanses) all of them. The key pointer
  // must not be null: EVP_MAC_init with a null key re-uses the previous key.
  EVP_MAC_CTX* ctx = Tls().hmac;
  if (ctx == nullptr) return;
  (void)EVP_MAC_init(ctx, kDummyKey, 0, nullptr);
}

void CountFallback() { g_fallbacks.fetch_add(1, std::memory_order_relaxed); }

}  // namespace meshvpn::noise::internal

namespace meshvpn::noise {

absl::Status CheckOpenSslBlake2s() { return internal::CheckAlgorithms(); }

uint64_t OpenSslFallbackCount() { return internal::g_fallbacks.load(std::memory_order_relaxed); }

}  // namespace meshvpn::noise
