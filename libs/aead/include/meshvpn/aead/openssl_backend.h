// The OpenSSL backend's reusable EVP_chacha20_poly1305 context (an implementation detail).
//
// The key objects (chacha20_poly1305.h, xchacha20_poly1305.h) hold one each; use those instead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "absl/status/status.h"
#include "meshvpn/aead/aead_result.h"
#include "meshvpn/aead/messages.h"
#include "meshvpn/base/bytes.h"

struct evp_cipher_ctx_st;  // OpenSSL's EVP_CIPHER_CTX, kept out of this header

namespace meshvpn::aead::internal {

class OpenSslChaChaPoly {
 public:
  OpenSslChaChaPoly() = default;
  // Frees the context; OpenSSL cleanses the key schedule it holds.
  ~OpenSslChaChaPoly();
  OpenSslChaChaPoly(OpenSslChaChaPoly&& other) noexcept;
  OpenSslChaChaPoly& operator=(OpenSslChaChaPoly&& other) noexcept;
  OpenSslChaChaPoly(const OpenSslChaChaPoly&) = delete;
  OpenSslChaChaPoly& operator=(const OpenSslChaChaPoly&) = delete;

  // Creates the context and loads `key` (32 bytes, or null for a key given per message, as
  // XChaCha20 does). Called once per key object: setup, may allocate.
  absl::Status Init(const uint8_t* key);
  bool initialized() const { return ctx_ != nullptr; }

  // Per message: set the nonce (and, when `rekey` is not null, a new key: XChaCha20's subkey),
  // then AAD, data, final. `data` is encrypted in place and the tag written to `tag`.
  // Lengths are checked by the caller (<= kMaxPlaintextSize). No allocation.
  AeadResult Seal(const uint8_t* rekey, const uint8_t* nonce, ByteSpan aad, uint8_t* data,
                  size_t len, uint8_t* tag);
  // Decrypts in place and checks `tag` in OpenSSL's final step (CRYPTO_memcmp). On a mismatch the
  // decrypted bytes are wiped before returning kAuthenticationFailed.
  AeadResult Open(const uint8_t* rekey, const uint8_t* nonce, ByteSpan aad, uint8_t* data,
                  size_t len, const uint8_t* tag);

 private:
  evp_cipher_ctx_st* ctx_ = nullptr;
};

}  // namespace meshvpn::aead::internal
