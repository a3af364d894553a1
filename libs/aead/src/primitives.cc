// Dispatches the raw building blocks to the reference code or to OpenSSL.
#include "meshvpn/aead/primitives.h"

#include <array>

#include "meshvpn/aead/chacha20.h"
#include "meshvpn/aead/chacha20_poly1305_ref.h"
#include "meshvpn/aead/poly1305.h"
#include "meshvpn/base/secure.h"
#include "openssl_primitives.h"

namespace meshvpn::aead {

absl::Status ChaCha20Xor(CryptoBackend backend, std::span<const uint8_t, kKeySize> key,
                         uint32_t counter, std::span<const uint8_t, kNonceSize> nonce,
                         MutableByteSpan data) {
  if (backend == CryptoBackend::kOpenSsl) {
    return internal::OpenSslChaCha20Xor(key, counter, nonce, data);
  }
  const uint64_t blocks = (uint64_t{data.size()} + kBlockSize - 1) / kBlockSize;
  if (uint64_t{counter} + blocks > (uint64_t{1} << 32)) {
    return absl::InvalidArgumentError("ChaCha20: the 32-bit block counter would wrap");
  }
  ref::ChaCha20Xor(key, counter, nonce, data);
  return absl::OkStatus();
}

absl::Status ChaCha20Block(CryptoBackend backend, std::span<const uint8_t, kKeySize> key,
                           uint32_t counter, std::span<const uint8_t, kNonceSize> nonce,
                           std::span<uint8_t, kBlockSize> out) {
  if (backend == CryptoBackend::kOpenSsl) {
    // The keystream is what encrypting zeros yields.
    for (uint8_t& b : out) b = 0;
    return internal::OpenSslChaCha20Xor(key, counter, nonce, out);
  }
  ref::ChaCha20Block(key, counter, nonce, out);
  return absl::OkStatus();
}

absl::Status Poly1305Mac(CryptoBackend backend, std::span<const uint8_t, 32> one_time_key,
                         ByteSpan message, std::span<uint8_t, kTagSize> tag) {
  if (backend == CryptoBackend::kOpenSsl) {
    return internal::OpenSslPoly1305(one_time_key, message, tag);
  }
  ref::Poly1305::Mac(one_time_key, message, tag);
  return absl::OkStatus();
}

absl::Status Poly1305KeyGen(CryptoBackend backend, std::span<const uint8_t, kKeySize> key,
                            std::span<const uint8_t, kNonceSize> nonce,
                            std::span<uint8_t, 32> one_time_key) {
  if (backend == CryptoBackend::kOpenSsl) {
    for (uint8_t& b : one_time_key) b = 0;
    return internal::OpenSslChaCha20Xor(key, /*counter=*/0, nonce, one_time_key);
  }
  ref::Poly1305KeyGen(key, nonce, one_time_key);
  return absl::OkStatus();
}

}  // namespace meshvpn::aead
