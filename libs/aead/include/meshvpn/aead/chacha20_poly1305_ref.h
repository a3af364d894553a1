// The reference ChaCha20-Poly1305 AEAD construction (RFC 8439 sections 2.6 and 2.8).
//
// Built from the reference ChaCha20 and Poly1305 and written to be read in a course.
//
// Most code should use the key object in chacha20_poly1305.h, which picks a backend; these free
// functions are the construction itself, step by step.
#pragma once

#include <cstdint>
#include <span>

#include "meshvpn/aead/messages.h"
#include "meshvpn/base/bytes.h"

namespace meshvpn::aead::ref {

// RFC 8439 section 2.6: the one-time Poly1305 key for (key, nonce) is the first 32 bytes of
// ChaCha20 block 0. That is why encryption itself starts at block 1.
void Poly1305KeyGen(std::span<const uint8_t, kKeySize> key,
                    std::span<const uint8_t, kNonceSize> nonce,
                    std::span<uint8_t, 32> one_time_key);

// Encrypts `data` in place and writes the tag over (aad, ciphertext). `data` must be at most
// kMaxPlaintextSize bytes (the caller checks).
void SealDetached(std::span<const uint8_t, kKeySize> key,
                  std::span<const uint8_t, kNonceSize> nonce, ByteSpan aad, MutableByteSpan data,
                  std::span<uint8_t, kTagSize> tag);

// Verifies `tag` over (aad, ciphertext) FIRST, in constant time, and only then decrypts `data` in
// place. On a mismatch `data` is zeroed and false is returned: no plaintext is ever released.
[[nodiscard]] bool OpenDetached(std::span<const uint8_t, kKeySize> key,
                                std::span<const uint8_t, kNonceSize> nonce, ByteSpan aad,
                                MutableByteSpan data, std::span<const uint8_t, kTagSize> tag);

}  // namespace meshvpn::aead::ref
