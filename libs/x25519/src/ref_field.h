// Reference backend: arithmetic in the field GF(p), p = 2^255 - 19, in five 51-bit limbs.
//
// This file and ref_field.cc are written to be read. Every function is constant-time: the
// sequence of instructions and memory addresses never depends on the values being processed, only
// on their (fixed) sizes. That is what keeps a secret scalar from leaking through timing.
#pragma once

#include <cstdint>
#include <span>

namespace meshvpn::x25519::ref {

// An element of GF(p) as five unsigned 64-bit "limbs" in radix 2^51:
//
//   value = v[0] + v[1]*2^51 + v[2]*2^102 + v[3]*2^153 + v[4]*2^204      (mod p)
//
// Why 51 bits? 5 * 51 = 255, the size of p, and the 13 spare bits of each 64-bit word let us add
// a few elements without carrying after every step. The product of two limbs (< 2^52 each) is a
// 104-bit number, which fits comfortably in the compiler's 128-bit integer (unsigned __int128).
//
// Why is 2^255 - 19 convenient? Because 2^255 = 19 (mod p): whatever overflows past bit 255 can be
// folded back into the bottom limb by multiplying it by 19. That is the only "reduction" we need.
//
// Invariant ("loosely reduced"): every function below returns limbs < 2^52 and accepts inputs
// with limbs < 2^52. Such an element need not be the smallest representative of its value (it
// may be >= p); only ToBytes() produces the unique canonical form.
struct FieldElement {
  uint64_t v[5];
};

inline constexpr uint64_t kLimbMask = (uint64_t{1} << 51) - 1;  // the low 51 bits

FieldElement FieldZero();
FieldElement FieldOne();
FieldElement FieldFromSmall(uint32_t n);

// Decodes 32 little-endian bytes. Bit 255 is ignored (masked off), as RFC 7748 section 5 says for
// u-coordinates; a value in [p, 2^255) is accepted and simply means that value minus p.
FieldElement FromBytes(std::span<const uint8_t, 32> in);
// Encodes the canonical representative in [0, p) as 32 little-endian bytes (bit 255 is 0).
void ToBytes(const FieldElement& a, std::span<uint8_t, 32> out);

FieldElement Add(const FieldElement& a, const FieldElement& b);  // a + b
FieldElement Sub(const FieldElement& a, const FieldElement& b);  // a - b
FieldElement Mul(const FieldElement& a, const FieldElement& b);  // a * b
FieldElement Square(const FieldElement& a);                      // a * a
FieldElement MulSmall(const FieldElement& a, uint32_t n);        // a * n, n < 2^32
FieldElement Invert(const FieldElement& a);                      // a^(p-2) = 1/a; 0 -> 0

// If swap == 1, exchanges a and b; if swap == 0, leaves them. swap must be 0 or 1. Runs the same
// instructions either way (no branch on the secret bit).
void ConditionalSwap(FieldElement& a, FieldElement& b, uint64_t swap);

}  // namespace meshvpn::x25519::ref
