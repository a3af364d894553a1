// The OpenSSL backend of ChaCha20-Poly1305: EVP_chacha20_poly1305 with a context built once per
// key. Per message only the nonce is set (EVP_CipherInit_ex with no cipher and no key keeps both),
// then AAD, data and final: no allocation, no context rebuild.
#include "meshvpn/aead/openssl_backend.h"

#include <openssl/err.h>
#include <openssl/evp.h>

#include <utility>

#include "meshvpn/base/secure.h"

namespace meshvpn::aead::internal {

namespace {

// Direction argument of EVP_CipherInit_ex.
constexpr int kEncrypt = 1;
constexpr int kDecrypt = 0;

}  // namespace

OpenSslChaChaPoly::~OpenSslChaChaPoly() { EVP_CIPHER_CTX_free(ctx_); }

OpenSslChaChaPoly::OpenSslChaChaPoly(OpenSslChaChaPoly&& other) noexcept
    : ctx_(std::exchange(other.ctx_, nullptr)) {}

OpenSslChaChaPoly& OpenSslChaChaPoly::operator=(OpenSslChaChaPoly&& other) noexcept {
  if (this != &other) {
    EVP_CIPHER_CTX_free(ctx_);
    ctx_ = std::exchange(other.ctx_, nullptr);
  }
  return *this;
}

absl::Status OpenSslChaChaPoly::Init(const uint8_t* key) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx == nullptr) return absl::ResourceExhaustedError("EVP_CIPHER_CTX_new failed");
  // The 12-byte IV is ChaCha20-Poly1305's default length, so no EVP_CTRL_AEAD_SET_IVLEN.
  if (EVP_CipherInit_ex(ctx, EVP_chacha20_poly1305(), nullptr, key, nullptr, kEncrypt) != 1) {
    EVP_CIPHER_CTX_free(ctx);
    ERR_clear_error();
    return absl::InternalError("EVP_CipherInit_ex(chacha20-poly1305) failed");
  }
  EVP_CIPHER_CTX_free(ctx_);
  ctx_ = ctx;
  return absl::OkStatus();
}

AeadResult OpenSslChaChaPoly::Seal(const uint8_t* rekey, const uint8_t* nonce, ByteSpan aad,
                                   uint8_t* data, size_t len, uint8_t* tag) {
  int outl = 0;
  uint8_t no_output[kTagSize];  // EVP_CipherFinal_ex writes nothing for this stream cipher
  const bool ok =
      EVP_CipherInit_ex(ctx_, nullptr, nullptr, rekey, nonce, kEncrypt) == 1 &&
      (aad.empty() ||
       EVP_CipherUpdate(ctx_, nullptr, &outl, aad.data(), static_cast<int>(aad.size())) == 1) &&
      (len == 0 || EVP_CipherUpdate(ctx_, data, &outl, data, static_cast<int>(len)) == 1) &&
      EVP_CipherFinal_ex(ctx_, no_output, &outl) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_GET_TAG, static_cast<int>(kTagSize), tag) == 1;
  if (!ok) {
    ERR_clear_error();
    return AeadResult::kBackendFailure;
  }
  return AeadResult::kOk;
}

AeadResult OpenSslChaChaPoly::Open(const uint8_t* rekey, const uint8_t* nonce, ByteSpan aad,
                                   uint8_t* data, size_t len, const uint8_t* tag) {
  int outl = 0;
  uint8_t expected_tag[kTagSize];  // the ctrl takes a non-const pointer
  for (size_t i = 0; i < kTagSize; ++i) expected_tag[i] = tag[i];
  uint8_t no_output[kTagSize];
  const bool setup_ok = EVP_CipherInit_ex(ctx_, nullptr, nullptr, rekey, nonce, kDecrypt) == 1 &&
                        EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_SET_TAG, static_cast<int>(kTagSize),
                                            expected_tag) == 1 &&
                        (aad.empty() || EVP_CipherUpdate(ctx_, nullptr, &outl, aad.data(),
                                                         static_cast<int>(aad.size())) == 1);
  // Decrypts in place; the tag is compared (CRYPTO_memcmp) only in the final call, so on failure
  // the plaintext is already in `data` and must be wiped before anyone sees it.
  const bool decrypt_ok = setup_ok && (len == 0 || EVP_CipherUpdate(ctx_, data, &outl, data,
                                                                    static_cast<int>(len)) == 1);
  const bool tag_ok = decrypt_ok && EVP_CipherFinal_ex(ctx_, no_output, &outl) == 1;
  if (!tag_ok) {
    SecureWipe({data, len});
    ERR_clear_error();
    return decrypt_ok ? AeadResult::kAuthenticationFailed : AeadResult::kBackendFailure;
  }
  return AeadResult::kOk;
}

}  // namespace meshvpn::aead::internal
