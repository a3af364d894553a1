// Sizes and the sealed-message layout of ChaCha20-Poly1305 and XChaCha20-Poly1305 (RFC 8439).
#pragma once

#include <cstddef>
#include <cstdint>

namespace meshvpn::aead {

// A sealed message is the ciphertext (as long as the plaintext) followed by a 16-byte tag:
//
//   +---------------------------------+------------------+
//   | ciphertext (= plaintext length) | tag (16 bytes)   |
//   +---------------------------------+------------------+
//
// Associated data (AAD) is authenticated but not carried: both sides must already have it (for
// WireGuard it is empty on data packets and the handshake hash during the handshake).

inline constexpr size_t kKeySize = 32;           // 256-bit key
inline constexpr size_t kNonceSize = 12;         // ChaCha20-Poly1305 (RFC 8439): 96-bit nonce
inline constexpr size_t kXNonceSize = 24;        // XChaCha20-Poly1305: 192-bit nonce
inline constexpr size_t kTagSize = 16;           // Poly1305 tag
inline constexpr size_t kBlockSize = 64;         // one ChaCha20 keystream block
inline constexpr size_t kHChaChaInputSize = 16;  // HChaCha20 takes the first 16 nonce bytes

// The longest plaintext one call accepts. RFC 8439 allows up to 2^38 - 64 bytes per nonce; we
// stop below 2^31 so that lengths fit OpenSSL's `int` and both backends reject the same inputs.
inline constexpr size_t kMaxPlaintextSize = (size_t{1} << 31) - 64;

// Sealed size for a plaintext of `n` bytes, and the tailroom a buffer needs after it.
inline constexpr size_t SealedSize(size_t plaintext_size) { return plaintext_size + kTagSize; }

static_assert(kKeySize == 32 && kNonceSize == 12 && kXNonceSize == 24 && kTagSize == 16);
static_assert(kMaxPlaintextSize + kTagSize <= 0x7fffffff, "must fit in an int for OpenSSL");

}  // namespace meshvpn::aead
