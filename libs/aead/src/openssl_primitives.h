// ChaCha20 and Poly1305 on their own through OpenSSL, to cross-check the reference code.
#pragma once

#include <cstdint>
#include <span>

#include "absl/status/status.h"
#include "meshvpn/aead/messages.h"
#include "meshvpn/base/bytes.h"

namespace meshvpn::aead::internal {

// EVP_chacha20 with its 16-byte IV = le32(counter) || nonce.
absl::Status OpenSslChaCha20Xor(std::span<const uint8_t, kKeySize> key, uint32_t counter,
                                std::span<const uint8_t, kNonceSize> nonce, MutableByteSpan data);
// EVP_MAC "POLY1305" (OpenSSL's default provider).
absl::Status OpenSslPoly1305(std::span<const uint8_t, 32> key, ByteSpan message,
                             std::span<uint8_t, kTagSize> tag);

}  // namespace meshvpn::aead::internal
