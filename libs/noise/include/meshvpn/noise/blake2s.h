// BLAKE2s (RFC 7693) as WireGuard uses it: HASH, the 16-byte keyed MAC, general keyed BLAKE2s, and
// an incremental hasher, each computed by the OpenSSL or the reference backend.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "meshvpn/base/bytes.h"
#include "meshvpn/base/crypto_backend.h"
#include "meshvpn/noise/blake2s_ref.h"

// Forward declarations of OpenSSL's context types, so this header does not include OpenSSL.
struct evp_md_ctx_st;
struct evp_mac_ctx_st;

namespace meshvpn::noise {

inline constexpr size_t kBlake2sBlockSize = 64;   // input block (also HMAC's block size)
inline constexpr size_t kBlake2sHashSize = 32;    // BLAKE2s-256: Noise's HASHLEN
inline constexpr size_t kBlake2sMaxKeySize = 32;  // keyed BLAKE2s takes 0..32 key bytes
inline constexpr size_t kBlake2sMaxOutSize = 32;  // and gives 1..32 output bytes
inline constexpr size_t kMac16Size = 16;          // WireGuard's mac1 and mac2

using Blake2sHash = std::array<uint8_t, kBlake2sHashSize>;
using Mac16 = std::array<uint8_t, kMac16Size>;

// Both backends compute exactly the same function, in time independent of secret bytes, and the
// one-shot functions below allocate nothing per call (see docs/noise.md for OpenSSL 3.0's own
// allocations). They are safe to call from any number of threads at once.
//
// kOpenSsl runs on contexts cached per thread. If OpenSSL ever fails at run time (it can only run
// out of memory), the one-shot functions compute the answer with the reference code instead and
// count it in OpenSslFallbackCount(); they never return a wrong or partial result.
// The one case OpenSSL 3.0 cannot express, unkeyed BLAKE2s with an output shorter than 32 bytes,
// always uses the reference code (not counted as a fallback).

// Checks, once at startup, that OpenSSL provides BLAKE2S-256, BLAKE2SMAC and HMAC (a FIPS-only
// configuration does not). Call it before choosing kOpenSsl for noise.
absl::Status CheckOpenSslBlake2s();

// How many one-shot calls fell back from OpenSSL to the reference code (process-wide).
uint64_t OpenSslFallbackCount();

// HASH(data) = BLAKE2s-256(data), no key.
Blake2sHash Blake2s256(ByteSpan data, CryptoBackend backend = CryptoBackend::kOpenSsl);
// HASH(part0 || part1 || ...): hashes the parts as one message without copying them together,
// e.g. Blake2s256({h, ephemeral_public}) for Noise's MixHash.
Blake2sHash Blake2s256(std::initializer_list<ByteSpan> parts,
                       CryptoBackend backend = CryptoBackend::kOpenSsl);

// MAC(key, data) = keyed BLAKE2s with a 16-byte output (WireGuard whitepaper section 5.4).
// mac1 is keyed with HASH(LABEL_MAC1 || receiver's static public key) (32 bytes); mac2 with the
// 16-byte cookie. The fixed key sizes make a wrong key length a compile error.
Mac16 Blake2sMac16(std::span<const uint8_t, 32> key, ByteSpan data,
                   CryptoBackend backend = CryptoBackend::kOpenSsl);
Mac16 Blake2sMac16(std::span<const uint8_t, 16> key, ByteSpan data,
                   CryptoBackend backend = CryptoBackend::kOpenSsl);

// General BLAKE2s: a key of 0..32 bytes (empty: unkeyed) and an output of out.size() = 1..32
// bytes. InvalidArgument for other sizes (then `out` is untouched).
absl::Status Blake2sKeyed(ByteSpan key, ByteSpan data, MutableByteSpan out,
                          CryptoBackend backend = CryptoBackend::kOpenSsl);

// Incremental BLAKE2s: Update any number of times, then Final once. One message per hasher;
// move-only; the destructor wipes the state. Constructing one with kOpenSsl allocates an OpenSSL
// context (free it by destroying the hasher): create hashers at setup, not per packet.
class Blake2sHasher {
 public:
  // Unkeyed BLAKE2s-256. With kOpenSsl, if OpenSSL cannot create its context, the hasher runs
  // on the reference code (and counts a fallback), as the one-shot functions do.
  explicit Blake2sHasher(CryptoBackend backend = CryptoBackend::kOpenSsl);
  // General: key of 0..32 bytes, out_len of 1..32; InvalidArgument for other sizes.
  static absl::StatusOr<Blake2sHasher> Create(ByteSpan key, size_t out_len,
                                              CryptoBackend backend = CryptoBackend::kOpenSsl);

  Blake2sHasher(Blake2sHasher&& other) noexcept;
  Blake2sHasher& operator=(Blake2sHasher&& other) noexcept;
  Blake2sHasher(const Blake2sHasher&) = delete;
  Blake2sHasher& operator=(const Blake2sHasher&) = delete;
  ~Blake2sHasher();

  // Absorbs more of the message. Ignored after Final (Final then reports the misuse).
  void Update(ByteSpan data);
  // Writes the digest. out.size() must equal out_len(). FailedPrecondition if Final was already
  // called or Update came after it, InvalidArgument for a wrong size, Internal if OpenSSL failed.
  [[nodiscard]] absl::Status Final(MutableByteSpan out);

  size_t out_len() const { return out_len_; }
  CryptoBackend backend() const { return backend_; }

 private:
  enum class Engine : uint8_t { kReference, kOpenSslDigest, kOpenSslMac };
  Blake2sHasher(CryptoBackend backend, Engine engine, size_t out_len);
  void Release();

  CryptoBackend backend_;
  Engine engine_;
  size_t out_len_;
  bool finished_ = false;
  bool misused_ = false;  // Update after Final
  bool openssl_failed_ = false;
  ref::Blake2sState state_;        // Engine::kReference
  evp_md_ctx_st* md_ = nullptr;    // Engine::kOpenSslDigest
  evp_mac_ctx_st* mac_ = nullptr;  // Engine::kOpenSslMac
};

}  // namespace meshvpn::noise
