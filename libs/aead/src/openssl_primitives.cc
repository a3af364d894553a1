// ChaCha20 and Poly1305 on their own through OpenSSL's EVP interfaces. Not a per-packet path: each
// call builds and frees its context.
#include "openssl_primitives.h"

#include <openssl/evp.h>
#include <openssl/params.h>

#include <climits>
#include <memory>

#include "le_bytes.h"
#include "meshvpn/base/secure.h"

namespace meshvpn::aead::internal {

namespace {

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
struct MacFree {
  void operator()(EVP_MAC* mac) const { EVP_MAC_free(mac); }
};
struct MacCtxFree {
  void operator()(EVP_MAC_CTX* ctx) const { EVP_MAC_CTX_free(ctx); }
};

}  // namespace

absl::Status OpenSslChaCha20Xor(std::span<const uint8_t, kKeySize> key, uint32_t counter,
                                std::span<const uint8_t, kNonceSize> nonce, MutableByteSpan data) {
  const uint64_t blocks = (uint64_t{data.size()} + kBlockSize - 1) / kBlockSize;
  if (data.size() > INT_MAX || uint64_t{counter} + blocks > (uint64_t{1} << 32)) {
    return absl::InvalidArgumentError("ChaCha20: the 32-bit block counter would wrap");
  }
  std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree> ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return absl::ResourceExhaustedError("EVP_CIPHER_CTX_new failed");
  uint8_t iv[16];
  StoreLe32(iv, counter);
  for (size_t i = 0; i < kNonceSize; ++i) iv[4 + i] = nonce[i];
  int outl = 0;
  if (EVP_EncryptInit_ex(ctx.get(), EVP_chacha20(), nullptr, key.data(), iv) != 1 ||
      (!data.empty() && EVP_EncryptUpdate(ctx.get(), data.data(), &outl, data.data(),
                                          static_cast<int>(data.size())) != 1)) {
    return absl::InternalError("OpenSSL ChaCha20 failed");
  }
  return absl::OkStatus();
}

absl::Status OpenSslPoly1305(std::span<const uint8_t, 32> key, ByteSpan message,
                             std::span<uint8_t, kTagSize> tag) {
  std::unique_ptr<EVP_MAC, MacFree> mac(EVP_MAC_fetch(nullptr, "POLY1305", nullptr));
  if (!mac) return absl::UnavailableError("OpenSSL has no POLY1305 MAC");
  std::unique_ptr<EVP_MAC_CTX, MacCtxFree> ctx(EVP_MAC_CTX_new(mac.get()));
  if (!ctx) return absl::ResourceExhaustedError("EVP_MAC_CTX_new failed");
  size_t outl = 0;
  if (EVP_MAC_init(ctx.get(), key.data(), key.size(), nullptr) != 1 ||
      EVP_MAC_update(ctx.get(), message.data(), message.size()) != 1 ||
      EVP_MAC_final(ctx.get(), tag.data(), &outl, tag.size()) != 1 || outl != kTagSize) {
    return absl::InternalError("OpenSSL Poly1305 failed");
  }
  return absl::OkStatus();
}

}  // namespace meshvpn::aead::internal
