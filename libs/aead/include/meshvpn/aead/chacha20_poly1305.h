// ChaCha20-Poly1305 (RFC 8439) key objects that seal and open in place, one packet or a batch.
//
//   auto key = ChaCha20Poly1305::Create(key_bytes);            // setup: Status, may allocate
//   // buffer: plaintext in the first n bytes, then >= 16 bytes of tailroom for the tag
//   if (key->SealCounter(counter, aad, buffer, n) != AeadResult::kOk) ...
//   // sealed: ciphertext || tag; on kOk its first sealed.size() - 16 bytes are the plaintext
//   if (key->OpenCounter(counter, aad, sealed) != AeadResult::kOk) drop(...);
//
// Per-packet calls never allocate, never log and return a small AeadResult. A key object is NOT
// thread-safe (it owns one reusable cipher context): use one per thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "absl/status/statusor.h"
#include "meshvpn/aead/aead_result.h"
#include "meshvpn/aead/messages.h"
#include "meshvpn/aead/openssl_backend.h"
#include "meshvpn/base/bytes.h"
#include "meshvpn/base/crypto_backend.h"

namespace meshvpn::aead {

// WireGuard's nonce for a 64-bit message counter: 4 zero bytes, then the counter little-endian.
constexpr std::array<uint8_t, kNonceSize> CounterNonce(uint64_t counter) {
  std::array<uint8_t, kNonceSize> nonce{};
  for (int i = 0; i < 8; ++i) nonce[4 + i] = static_cast<uint8_t>(counter >> (8 * i));
  return nonce;
}

// One packet of a batch call. The call fills in `result`; everything else is input.
struct AeadPacket {
  uint64_t counter = 0;  // the nonce is CounterNonce(counter)
  ByteSpan aad;          // associated data (may be empty)
  // Seal: the plaintext in the first `length` bytes, with at least 16 bytes after them for the
  // tag. Open: the sealed message (ciphertext || tag) in the first `length` bytes.
  MutableByteSpan buffer;
  size_t length = 0;  // seal: plaintext length; open: sealed length (ciphertext + 16)
  AeadResult result = AeadResult::kOk;
};

class ChaCha20Poly1305 {
 public:
  // Loads a 32-byte key for `backend`. With kOpenSsl this builds the EVP context the object then
  // reuses for every message. InvalidArgument if the key is not 32 bytes (the error never shows
  // key bytes).
  static absl::StatusOr<ChaCha20Poly1305> Create(ByteSpan key,
                                                 CryptoBackend backend = CryptoBackend::kOpenSsl);

  // An empty object: every call returns kNoKey. Assign a Create()d one to use it.
  ChaCha20Poly1305() = default;
  // Wipes the key (SecureWipe) and frees the cipher context.
  ~ChaCha20Poly1305();
  ChaCha20Poly1305(ChaCha20Poly1305&& other) noexcept;
  ChaCha20Poly1305& operator=(ChaCha20Poly1305&& other) noexcept;
  // Keys are secrets: not copyable, not comparable, not printable.
  ChaCha20Poly1305(const ChaCha20Poly1305&) = delete;
  ChaCha20Poly1305& operator=(const ChaCha20Poly1305&) = delete;

  CryptoBackend backend() const { return backend_; }
  bool has_key() const { return has_key_; }

  // Encrypts buffer[0, plaintext_size) in place and writes the 16-byte tag right after it, so
  // buffer.size() must be at least plaintext_size + 16. `nonce` must be 12 bytes and must never
  // repeat under one key. Results: kOk, kInvalidNonceSize, kBufferTooSmall, kMessageTooLong,
  // kNoKey, kBackendFailure.
  [[nodiscard]] AeadResult Seal(ByteSpan nonce, ByteSpan aad, MutableByteSpan buffer,
                                size_t plaintext_size);
  // Seal with nonce = CounterNonce(counter).
  [[nodiscard]] AeadResult SealCounter(uint64_t counter, ByteSpan aad, MutableByteSpan buffer,
                                       size_t plaintext_size);

  // Checks and decrypts `sealed` = ciphertext || tag in place. On kOk the first
  // sealed.size() - 16 bytes hold the plaintext. On kAuthenticationFailed (or kBackendFailure)
  // all of `sealed` is zeroed: a forged message never yields plaintext. On the size checks
  // (kInvalidNonceSize, kBufferTooSmall, kMessageTooLong, kNoKey) `sealed` is left untouched.
  [[nodiscard]] AeadResult Open(ByteSpan nonce, ByteSpan aad, MutableByteSpan sealed);
  [[nodiscard]] AeadResult OpenCounter(uint64_t counter, ByteSpan aad, MutableByteSpan sealed);

  // Seals (or opens) every packet with the same key and cipher context, writing each packet's
  // `result`; returns how many are kOk. Nothing is allocated and the context is not rebuilt
  // between packets.
  size_t SealBatch(std::span<AeadPacket> packets);
  size_t OpenBatch(std::span<AeadPacket> packets);

 private:
  AeadResult SealWithNonce(const uint8_t* nonce, ByteSpan aad, MutableByteSpan buffer,
                           size_t plaintext_size);
  AeadResult OpenWithNonce(const uint8_t* nonce, ByteSpan aad, MutableByteSpan sealed);

  CryptoBackend backend_ = CryptoBackend::kOpenSsl;
  bool has_key_ = false;
  std::array<uint8_t, kKeySize> key_{};  // kept only by the reference backend
  internal::OpenSslChaChaPoly openssl_;  // the reusable EVP context (OpenSSL backend only)
};

}  // namespace meshvpn::aead
