// The reference ChaCha20 stream cipher (RFC 8439 section 2.1-2.4), written to be read in a course.
//
// ChaCha20 turns a 256-bit key, a 96-bit nonce and a 32-bit block counter into 64 bytes of
// keystream; encryption is plaintext XOR keystream. Everything here is additions, rotations and
// XORs on 32-bit words ("ARX"), with no table look-ups and no branches on secret data, so it runs
// in constant time by construction. The fast path (CryptoBackend::kOpenSsl) is OpenSSL's
// vectorised assembly; this is the readable one.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <span>

#include "meshvpn/aead/messages.h"
#include "meshvpn/base/bytes.h"

namespace meshvpn::aead::ref {

// The 16-word ChaCha state, seen as a 4x4 matrix:
//
//   +------------+------------+------------+------------+
//   | "expa"  c0 | "nd 3"  c1 | "2-by"  c2 | "te k"  c3 |   constants
//   +------------+------------+------------+------------+
//   | key[0]     | key[1]     | key[2]     | key[3]     |   256-bit key,
//   +------------+------------+------------+------------+   8 little-endian
//   | key[4]     | key[5]     | key[6]     | key[7]     |   words
//   +------------+------------+------------+------------+
//   | counter    | nonce[0]   | nonce[1]   | nonce[2]   |   block counter, 96-bit nonce
//   +------------+------------+------------+------------+
using ChaChaState = std::array<uint32_t, 16>;

// "expand 32-byte k" as four little-endian words.
inline constexpr std::array<uint32_t, 4> kSigma = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574};

// The quarter round (RFC 8439 section 2.1): mixes four words with add, xor, rotate.
//   a += b; d ^= a; d <<<= 16;
//   c += d; b ^= c; b <<<= 12;
//   a += b; d ^= a; d <<<= 8;
//   c += d; b ^= c; b <<<= 7;
// Defined here so the compiler can inline it into the rounds (std::rotl is a single rotate
// instruction: no data-dependent timing).
constexpr void QuarterRound(uint32_t& a, uint32_t& b, uint32_t& c, uint32_t& d) {
  a += b;
  d ^= a;
  d = std::rotl(d, 16);
  c += d;
  b ^= c;
  b = std::rotl(b, 12);
  a += b;
  d ^= a;
  d = std::rotl(d, 8);
  c += d;
  b ^= c;
  b = std::rotl(b, 7);
}

// Builds the initial state above from a key, a block counter and a nonce.
ChaChaState InitialState(std::span<const uint8_t, kKeySize> key, uint32_t counter,
                         std::span<const uint8_t, kNonceSize> nonce);

// Applies the 20 rounds (10 "double rounds": a column round then a diagonal round) in place,
// without the final feed-forward addition. HChaCha20 shares this.
void ChaCha20Rounds(ChaChaState& state);

// The block function (RFC 8439 section 2.3): rounds, add the initial state back in, and write the
// 16 words little-endian. The 64 bytes are the keystream for block `counter`.
void ChaCha20Block(std::span<const uint8_t, kKeySize> key, uint32_t counter,
                   std::span<const uint8_t, kNonceSize> nonce, std::span<uint8_t, kBlockSize> out);

// Encrypts or decrypts (it is the same operation) `data` in place: XORs it with the keystream of
// blocks counter, counter+1, ... (RFC 8439 section 2.4). The 32-bit counter must not wrap:
// data.size() <= (2^32 - counter) * 64. Callers in this library guarantee that.
void ChaCha20Xor(std::span<const uint8_t, kKeySize> key, uint32_t counter,
                 std::span<const uint8_t, kNonceSize> nonce, MutableByteSpan data);

}  // namespace meshvpn::aead::ref
