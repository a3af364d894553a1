// XChaCha20-Poly1305 key objects (24-byte random-safe nonces; WireGuard's cookie reply uses it).
//
// XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha) = HChaCha20(key, nonce[0..16]) as a per-message
// subkey, then ChaCha20-Poly1305 with that subkey and nonce 0x00000000 || nonce[16..24]. A 24-byte
// nonce is long enough to pick at random without fear of a repeat. OpenSSL has no XChaCha20, so
// the OpenSSL backend computes HChaCha20 with this library's constant-time code and reloads its
// reusable context with the subkey. Not thread-safe: one object per thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"
#include "meshvpn/aead/aead_result.h"
#include "meshvpn/aead/messages.h"
#include "meshvpn/aead/openssl_backend.h"
#include "meshvpn/base/bytes.h"
#include "meshvpn/base/crypto_backend.h"

namespace meshvpn::aead {

class XChaCha20Poly1305 {
 public:
  // Loads a 32-byte key; InvalidArgument if it is another length.
  static absl::StatusOr<XChaCha20Poly1305> Create(ByteSpan key,
                                                  CryptoBackend backend = CryptoBackend::kOpenSsl);

  XChaCha20Poly1305() = default;  // empty: every call returns kNoKey
  ~XChaCha20Poly1305();           // wipes the key
  XChaCha20Poly1305(XChaCha20Poly1305&& other) noexcept;
  XChaCha20Poly1305& operator=(XChaCha20Poly1305&& other) noexcept;
  XChaCha20Poly1305(const XChaCha20Poly1305&) = delete;
  XChaCha20Poly1305& operator=(const XChaCha20Poly1305&) = delete;

  CryptoBackend backend() const { return backend_; }
  bool has_key() const { return has_key_; }

  // As ChaCha20Poly1305::Seal / Open, with a 24-byte nonce (kInvalidNonceSize otherwise).
  [[nodiscard]] AeadResult Seal(ByteSpan nonce, ByteSpan aad, MutableByteSpan buffer,
                                size_t plaintext_size);
  [[nodiscard]] AeadResult Open(ByteSpan nonce, ByteSpan aad, MutableByteSpan sealed);

 private:
  CryptoBackend backend_ = CryptoBackend::kOpenSsl;
  bool has_key_ = false;
  std::array<uint8_t, kKeySize> key_{};  // both backends need it for HChaCha20
  internal::OpenSslChaChaPoly openssl_;  // loaded with each message's subkey
};

}  // namespace meshvpn::aead
