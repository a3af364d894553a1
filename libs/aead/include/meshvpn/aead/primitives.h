// The RFC 8439 building blocks (ChaCha20, Poly1305, the one-time key) through either backend.
//
// For known-answer tests, cross-checks between the backends and teaching; real traffic uses the
// key objects in chacha20_poly1305.h. Each call may allocate (the OpenSSL backend builds a context
// per call): not for the per-packet path.
#pragma once

#include <cstdint>
#include <span>

#include "absl/status/status.h"
#include "meshvpn/aead/messages.h"
#include "meshvpn/base/bytes.h"
#include "meshvpn/base/crypto_backend.h"

namespace meshvpn::aead {

// XORs `data` in place with the ChaCha20 keystream from block `counter` on (RFC 8439 2.4).
// InvalidArgument if the 32-bit block counter would wrap.
absl::Status ChaCha20Xor(CryptoBackend backend, std::span<const uint8_t, kKeySize> key,
                         uint32_t counter, std::span<const uint8_t, kNonceSize> nonce,
                         MutableByteSpan data);

// The 64-byte keystream block `counter` (RFC 8439 2.3): the block function's serialised output.
absl::Status ChaCha20Block(CryptoBackend backend, std::span<const uint8_t, kKeySize> key,
                           uint32_t counter, std::span<const uint8_t, kNonceSize> nonce,
                           std::span<uint8_t, kBlockSize> out);

// tag = Poly1305(one_time_key, message) (RFC 8439 2.5).
absl::Status Poly1305Mac(CryptoBackend backend, std::span<const uint8_t, 32> one_time_key,
                         ByteSpan message, std::span<uint8_t, kTagSize> tag);

// The AEAD's one-time Poly1305 key: the first 32 bytes of ChaCha20 block 0 (RFC 8439 2.6).
absl::Status Poly1305KeyGen(CryptoBackend backend, std::span<const uint8_t, kKeySize> key,
                            std::span<const uint8_t, kNonceSize> nonce,
                            std::span<uint8_t, 32> one_time_key);

}  // namespace meshvpn::aead
