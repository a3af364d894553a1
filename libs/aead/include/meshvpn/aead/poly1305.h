// The reference Poly1305 one-time authenticator (RFC 8439 section 2.5), written for a course.
//
// Poly1305 evaluates a polynomial whose coefficients are the message's 16-byte blocks at a secret
// point r, modulo the prime p = 2^130 - 5, and adds a secret s. A key must authenticate only ONE
// message: the AEAD derives a fresh key per nonce (RFC 8439 section 2.6). The arithmetic uses
// five 26-bit limbs and 64-bit products, with no branches or look-ups on secret data; poly1305.cc
// explains why every sum fits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "meshvpn/aead/messages.h"
#include "meshvpn/base/bytes.h"

namespace meshvpn::aead::ref {

class Poly1305 {
 public:
  static constexpr size_t kKeySize = 32;  // r (16 bytes, clamped) then s (16 bytes)
  static constexpr size_t kBlock = 16;

  explicit Poly1305(std::span<const uint8_t, kKeySize> one_time_key);
  // Wipes r, s, the accumulator and any buffered message bytes.
  ~Poly1305();
  Poly1305(const Poly1305&) = delete;
  Poly1305& operator=(const Poly1305&) = delete;

  // Absorbs message bytes; any split of a message into Update calls gives the same tag.
  void Update(ByteSpan data);
  // Absorbs zero bytes up to the next 16-byte boundary: the AEAD's "pad16" (RFC 8439 2.8).
  void PadToBlock();
  // Writes the tag. The object must not be used afterwards (its state is wiped).
  void Finish(std::span<uint8_t, kTagSize> tag);

  // One call: tag = Poly1305(key, message).
  static void Mac(std::span<const uint8_t, kKeySize> one_time_key, ByteSpan message,
                  std::span<uint8_t, kTagSize> tag);

 private:
  // Absorbs whole 16-byte blocks; `hibit` is 2^24 in limb 4 (the appended 0x01 byte at 2^128)
  // for full blocks, and 0 for the final partial block, which carries its 0x01 byte inline.
  void Blocks(const uint8_t* m, size_t bytes, uint32_t hibit);

  uint32_t r_[5];  // r in five 26-bit limbs
  uint32_t h_[5];  // the accumulator in five 26-bit limbs
  uint32_t s_[4];  // s as four 32-bit words
  uint8_t buffer_[kBlock];
  size_t buffered_ = 0;
};

}  // namespace meshvpn::aead::ref
