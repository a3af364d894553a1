// HChaCha20 (draft-irtf-cfrg-xchacha section 2.2): derives a subkey from a key and 16 nonce bytes.
//
// It is the step that turns ChaCha20-Poly1305 into XChaCha20-Poly1305 with its 24-byte nonce.
//
// Both crypto backends use this one implementation: OpenSSL has no HChaCha20, and this code is
// constant-time (only ARX operations on 32-bit words).
#pragma once

#include <cstdint>
#include <span>

#include "meshvpn/aead/messages.h"

namespace meshvpn::aead {

inline constexpr size_t kHChaChaOutputSize = 32;

// Sets up the ChaCha state as for a block, but with the 16 input bytes where the counter and
// nonce go; runs the 20 rounds; and outputs words 0-3 and 12-15 with NO feed-forward addition
// (those are the words an attacker could otherwise subtract the known constants and input from).
void HChaCha20(std::span<const uint8_t, kKeySize> key,
               std::span<const uint8_t, kHChaChaInputSize> input,
               std::span<uint8_t, kHChaChaOutputSize> subkey);

}  // namespace meshvpn::aead
