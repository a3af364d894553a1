// Reference backend: GF(2^255 - 19) arithmetic in radix 2^51 (see ref_field.h for the layout).
#include "ref_field.h"

namespace meshvpn::x25519::ref {
namespace {

using u128 = unsigned __int128;

// Carries each limb's bits above 51 into the next limb, and the top limb's overflow back into
// limb 0 times 19 (since 2^255 = 19 mod p). Accepts limbs up to 2^63; returns loosely reduced
// limbs: v[1..4] < 2^51 and v[0] < 2^51 + 19 * 2^12 < 2^52.
FieldElement Carry(FieldElement a) {
  a.v[1] += a.v[0] >> 51;
  a.v[0] &= kLimbMask;
  a.v[2] += a.v[1] >> 51;
  a.v[1] &= kLimbMask;
  a.v[3] += a.v[2] >> 51;
  a.v[2] &= kLimbMask;
  a.v[4] += a.v[3] >> 51;
  a.v[3] &= kLimbMask;
  a.v[0] += 19 * (a.v[4] >> 51);
  a.v[4] &= kLimbMask;
  return a;
}

// Reduces five 128-bit column sums (each < 2^115) to a loosely reduced element. Same idea as
// Carry(), but the carry out of the top limb can be ~2^64, so 19 times it needs 128 bits.
FieldElement CarryWide(u128 c0, u128 c1, u128 c2, u128 c3, u128 c4) {
  FieldElement r;
  c1 += c0 >> 51;
  r.v[0] = static_cast<uint64_t>(c0) & kLimbMask;
  c2 += c1 >> 51;
  r.v[1] = static_cast<uint64_t>(c1) & kLimbMask;
  c3 += c2 >> 51;
  r.v[2] = static_cast<uint64_t>(c2) & kLimbMask;
  c4 += c3 >> 51;
  r.v[3] = static_cast<uint64_t>(c3) & kLimbMask;
  r.v[4] = static_cast<uint64_t>(c4) & kLimbMask;
  // Fold the part above 2^255 back in: (c4 >> 51) * 2^255 = (c4 >> 51) * 19 (mod p).
  const u128 low = u128{r.v[0]} + (c4 >> 51) * 19;
  r.v[0] = static_cast<uint64_t>(low) & kLimbMask;
  r.v[1] += static_cast<uint64_t>(low >> 51);  // at most ~2^18: v[1] stays < 2^52
  return r;
}

uint64_t Load64LittleEndian(const uint8_t* p) {
  uint64_t x = 0;
  for (int i = 7; i >= 0; --i) x = (x << 8) | p[i];
  return x;
}

void Store64LittleEndian(uint64_t x, uint8_t* p) {
  for (int i = 0; i < 8; ++i) {
    p[i] = static_cast<uint8_t>(x);
    x >>= 8;
  }
}

// Hides a value from the optimizer, so that it cannot prove a mask is "really" a boolean and turn
// our branch-free selection back into a branch on a secret.
uint64_t ValueBarrier(uint64_t x) {
#if defined(__GNUC__) || defined(__clang__)
  __asm__("" : "+r"(x));
#endif
  return x;
}

}  // namespace

FieldElement FieldZero() { return FieldElement{{0, 0, 0, 0, 0}}; }
FieldElement FieldOne() { return FieldElement{{1, 0, 0, 0, 0}}; }
FieldElement FieldFromSmall(uint32_t n) { return FieldElement{{n, 0, 0, 0, 0}}; }

FieldElement FromBytes(std::span<const uint8_t, 32> in) {
  // Read four 64-bit little-endian words w0..w3 (bits 0..255), then cut them at multiples of 51:
  // limb i holds bits [51*i, 51*i + 51). Limb 4 gets bits 204..254; bit 255 is masked away.
  const uint64_t w0 = Load64LittleEndian(in.data());
  const uint64_t w1 = Load64LittleEndian(in.data() + 8);
  const uint64_t w2 = Load64LittleEndian(in.data() + 16);
  const uint64_t w3 = Load64LittleEndian(in.data() + 24);
  FieldElement r;
  r.v[0] = w0 & kLimbMask;                         // bits   0..50
  r.v[1] = ((w0 >> 51) | (w1 << 13)) & kLimbMask;  // bits  51..101
  r.v[2] = ((w1 >> 38) | (w2 << 26)) & kLimbMask;  // bits 102..152
  r.v[3] = ((w2 >> 25) | (w3 << 39)) & kLimbMask;  // bits 153..203
  r.v[4] = (w3 >> 12) & kLimbMask;                 // bits 204..254
  return r;
}

void ToBytes(const FieldElement& a, std::span<uint8_t, 32> out) {
  // Step 1: two carry passes. After the first, limbs 1..4 are < 2^51 and limb 0 is < 2^51 + 38;
  // after the second every limb is < 2^51. (A carry out of the top limb in the second pass can
  // only happen when the lower limbs just carried into it, which left limb 0 tiny, so adding 19
  // to it cannot overflow.) Now the value x satisfies 0 <= x < 2^255 = p + 19.
  FieldElement t = Carry(Carry(a));

  // Step 2: x is canonical unless p <= x < p + 19. Test that without a branch: x >= p exactly
  // when x + 19 >= 2^255, i.e. when adding 19 carries out of bit 255. Run that carry through
  // the limbs and keep only the final carry bit q (0 or 1).
  uint64_t q = (t.v[0] + 19) >> 51;
  q = (t.v[1] + q) >> 51;
  q = (t.v[2] + q) >> 51;
  q = (t.v[3] + q) >> 51;
  q = (t.v[4] + q) >> 51;

  // Step 3: subtract q * p, written as "add 19*q, then drop bit 255".
  t.v[0] += 19 * q;
  t.v[1] += t.v[0] >> 51;
  t.v[0] &= kLimbMask;
  t.v[2] += t.v[1] >> 51;
  t.v[1] &= kLimbMask;
  t.v[3] += t.v[2] >> 51;
  t.v[2] &= kLimbMask;
  t.v[4] += t.v[3] >> 51;
  t.v[3] &= kLimbMask;
  t.v[4] &= kLimbMask;  // this drops the 2^255 (if q was 1)

  // Step 4: pack the 5 x 51 bits back into four 64-bit words, little-endian.
  Store64LittleEndian(t.v[0] | (t.v[1] << 51), out.data());
  Store64LittleEndian((t.v[1] >> 13) | (t.v[2] << 38), out.data() + 8);
  Store64LittleEndian((t.v[2] >> 26) | (t.v[3] << 25), out.data() + 16);
  Store64LittleEndian((t.v[3] >> 39) | (t.v[4] << 12), out.data() + 24);
}

FieldElement Add(const FieldElement& a, const FieldElement& b) {
  // Limbs < 2^52 + 2^52 = 2^53: no overflow; carry to restore the invariant.
  FieldElement r;
  for (int i = 0; i < 5; ++i) r.v[i] = a.v[i] + b.v[i];
  return Carry(r);
}

FieldElement Sub(const FieldElement& a, const FieldElement& b) {
  // Unsigned limbs cannot go negative, so compute a + 4p - b instead (4p = 0 mod p). In limbs,
  //   4p = (2^53 - 76, 2^53 - 4, 2^53 - 4, 2^53 - 4, 2^53 - 4),
  // and every limb of 4p is larger than any limb of b (< 2^52), so no limb underflows.
  constexpr uint64_t kFourP0 = (uint64_t{1} << 53) - 76;
  constexpr uint64_t kFourPi = (uint64_t{1} << 53) - 4;
  FieldElement r;
  r.v[0] = a.v[0] + kFourP0 - b.v[0];
  for (int i = 1; i < 5; ++i) r.v[i] = a.v[i] + kFourPi - b.v[i];
  return Carry(r);
}

FieldElement Mul(const FieldElement& a, const FieldElement& b) {
  // Schoolbook multiplication: (sum a_i 2^(51i)) * (sum b_j 2^(51j)) has terms a_i*b_j at
  // 2^(51(i+j)). A term with i + j >= 5 sits at 2^255 * 2^(51(i+j-5)) = 19 * 2^(51(i+j-5)), so
  // it moves down five columns and gets multiplied by 19. Column k therefore collects
  //
  //   c_k = sum_{i+j=k} a_i b_j  +  19 * sum_{i+j=k+5} a_i b_j.
  //
  // Size check: each product is < 2^104 and a column has at most 1 + 4*19 = 77 such terms, so
  // c_k < 2^111: plenty of room in 128 bits. Precomputing 19*b_j (< 2^57) saves multiplications.
  const uint64_t b1_19 = 19 * b.v[1];
  const uint64_t b2_19 = 19 * b.v[2];
  const uint64_t b3_19 = 19 * b.v[3];
  const uint64_t b4_19 = 19 * b.v[4];
  auto m = [](uint64_t x, uint64_t y) { return u128{x} * y; };

  const u128 c0 =
      m(a.v[0], b.v[0]) + m(a.v[1], b4_19) + m(a.v[2], b3_19) + m(a.v[3], b2_19) + m(a.v[4], b1_19);
  const u128 c1 = m(a.v[0], b.v[1]) + m(a.v[1], b.v[0]) + m(a.v[2], b4_19) + m(a.v[3], b3_19) +
                  m(a.v[4], b2_19);
  const u128 c2 = m(a.v[0], b.v[2]) + m(a.v[1], b.v[1]) + m(a.v[2], b.v[0]) + m(a.v[3], b4_19) +
                  m(a.v[4], b3_19);
  const u128 c3 = m(a.v[0], b.v[3]) + m(a.v[1], b.v[2]) + m(a.v[2], b.v[1]) + m(a.v[3], b.v[0]) +
                  m(a.v[4], b4_19);
  const u128 c4 = m(a.v[0], b.v[4]) + m(a.v[1], b.v[3]) + m(a.v[2], b.v[2]) + m(a.v[3], b.v[1]) +
                  m(a.v[4], b.v[0]);
  return CarryWide(c0, c1, c2, c3, c4);
}

FieldElement Square(const FieldElement& a) {
  // Squaring is multiplication by itself, but a_i*a_j and a_j*a_i are the same product, so each
  // off-diagonal product is computed once and doubled: 15 multiplications instead of 25.
  const uint64_t a0_2 = 2 * a.v[0];
  const uint64_t a1_2 = 2 * a.v[1];
  const uint64_t a3_19 = 19 * a.v[3];
  const uint64_t a4_19 = 19 * a.v[4];
  auto m = [](uint64_t x, uint64_t y) { return u128{x} * y; };

  const u128 c0 = m(a.v[0], a.v[0]) + m(2 * a.v[1], a4_19) + m(2 * a.v[2], a3_19);
  const u128 c1 = m(a0_2, a.v[1]) + m(2 * a.v[2], a4_19) + m(a.v[3], a3_19);
  const u128 c2 = m(a0_2, a.v[2]) + m(a.v[1], a.v[1]) + m(2 * a.v[3], a4_19);
  const u128 c3 = m(a0_2, a.v[3]) + m(a1_2, a.v[2]) + m(a.v[4], a4_19);
  const u128 c4 = m(a0_2, a.v[4]) + m(a1_2, a.v[3]) + m(a.v[2], a.v[2]);
  return CarryWide(c0, c1, c2, c3, c4);
}

FieldElement MulSmall(const FieldElement& a, uint32_t n) {
  // Each limb times n is < 2^52 * 2^32 = 2^84: 128-bit columns again, no cross terms.
  return CarryWide(u128{a.v[0]} * n, u128{a.v[1]} * n, u128{a.v[2]} * n, u128{a.v[3]} * n,
                   u128{a.v[4]} * n);
}

namespace {

// a^(2^n): n successive squarings.
FieldElement SquareTimes(FieldElement a, int n) {
  for (int i = 0; i < n; ++i) a = Square(a);
  return a;
}

}  // namespace

FieldElement Invert(const FieldElement& z) {
  // Fermat's little theorem: for z != 0, z^(p-1) = 1, so z^(p-2) = 1/z. (And 0^(p-2) = 0.)
  //
  // p - 2 = 2^255 - 21. Instead of ~254 squarings plus ~253 multiplications (plain
  // square-and-multiply over the bits of the exponent), build the exponent up with a fixed
  // "addition chain": 254 squarings and only 11 multiplications. Comments give each exponent.
  // The chain is the same for every input, so the running time is constant.
  const FieldElement z2 = Square(z);                                     // z^2
  const FieldElement z9 = Mul(SquareTimes(z2, 2), z);                    // z^8 * z = z^9
  const FieldElement z11 = Mul(z9, z2);                                  // z^11
  const FieldElement z_5_0 = Mul(Square(z11), z9);                       // z^22 * z^9 = z^(2^5 - 1)
  const FieldElement z_10_0 = Mul(SquareTimes(z_5_0, 5), z_5_0);         // z^(2^10 - 1)
  const FieldElement z_20_0 = Mul(SquareTimes(z_10_0, 10), z_10_0);      // z^(2^20 - 1)
  const FieldElement z_40_0 = Mul(SquareTimes(z_20_0, 20), z_20_0);      // z^(2^40 - 1)
  const FieldElement z_50_0 = Mul(SquareTimes(z_40_0, 10), z_10_0);      // z^(2^50 - 1)
  const FieldElement z_100_0 = Mul(SquareTimes(z_50_0, 50), z_50_0);     // z^(2^100 - 1)
  const FieldElement z_200_0 = Mul(SquareTimes(z_100_0, 100), z_100_0);  // z^(2^200 - 1)
  const FieldElement z_250_0 = Mul(SquareTimes(z_200_0, 50), z_50_0);    // z^(2^250 - 1)
  // (2^250 - 1) * 2^5 + 11 = 2^255 - 32 + 11 = 2^255 - 21 = p - 2.
  return Mul(SquareTimes(z_250_0, 5), z11);
}

void ConditionalSwap(FieldElement& a, FieldElement& b, uint64_t swap) {
  // mask is all ones when swap == 1 and all zeros when swap == 0. Then for each limb,
  // t = (a ^ b) & mask is either a ^ b or 0, and a ^= t, b ^= t either swaps or does nothing.
  const uint64_t mask = ValueBarrier(0 - swap);
  for (int i = 0; i < 5; ++i) {
    const uint64_t t = mask & (a.v[i] ^ b.v[i]);
    a.v[i] ^= t;
    b.v[i] ^= t;
  }
}

}  // namespace meshvpn::x25519::ref
