// Internal: the OpenSSL 3 objects behind the kOpenSsl backend (fetched once, per-thread contexts).
#pragma once

#include <openssl/evp.h>

#include <atomic>
#include <cstdint>

#include "absl/status/status.h"

namespace meshvpn::noise::internal {

// The three algorithms, fetched from the default library context once per process (the first
// call) and kept for its lifetime. A pointer is null if OpenSSL could not provide it.
struct OpenSslAlgorithms {
  EVP_MD* blake2s256 = nullptr;    // EVP_MD "BLAKE2S-256": unkeyed, 32-byte output only
  EVP_MAC* blake2s_mac = nullptr;  // EVP_MAC "BLAKE2SMAC": key 1..32 bytes, "size" 1..32
  EVP_MAC* hmac = nullptr;         // EVP_MAC "HMAC", used with digest BLAKE2S-256
};
const OpenSslAlgorithms& Algorithms();

// OK if all three were fetched; otherwise says which one is missing.
absl::Status CheckAlgorithms();

// Contexts owned by the calling thread, created on its first use and reused by every later call
// on that thread (so a call allocates nothing of ours; see docs/noise.md for what OpenSSL 3.0
// itself allocates). Null if OpenSSL could not create one. They are freed when the thread exits.
// A caller must finish with a context before it returns (no nesting across calls).
EVP_MD_CTX* ThreadDigestCtx();
EVP_MAC_CTX* ThreadBlake2sMacCtx();  // digest size and key are set on every EVP_MAC_init
EVP_MAC_CTX* ThreadHmacCtx();        // digest BLAKE2S-256 already set

// After a keyed call: overwrite the key copies that OpenSSL keeps inside the thread's MAC
// contexts with a public dummy key, so no caller's secret lingers there between calls.
void ScrubThreadBlake2sMacCtx();
void ScrubThreadHmacCtx();

// Counts one-shot calls where OpenSSL failed and the reference code computed the (identical)
// answer instead.
void CountFallback();

}  // namespace meshvpn::noise::internal
