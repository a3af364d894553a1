// Reference backend: X25519 (RFC 7748 section 5) with the Montgomery ladder.
//
// The curve. Curve25519 is the Montgomery curve  y^2 = x^3 + 486662 x^2 + x  over GF(p),
// p = 2^255 - 19. X25519 multiplies a point by a scalar k using only x-coordinates (RFC 7748
// calls them u): the y-coordinate is never needed, and both a point and its negative share the
// same u, which is why a public key is just 32 bytes.
//
// Projective coordinates. Dividing in GF(p) costs ~265 multiplications, so the ladder keeps each
// x as a fraction X/Z and divides only once, at the very end: x = X * Z^(p-2).
//
// The ladder. We walk the bits of k from the top. Two points are kept, P2 = [m]P and P3 = [m+1]P,
// where m is the number formed by the bits seen so far; so their difference is always P itself,
// whose u-coordinate (x1) we know. Each step does one "differential addition" and one "doubling":
//   bit 0:  (P2, P3) <- (2*P2,     P2 + P3)      i.e. m -> 2m
//   bit 1:  (P2, P3) <- (P2 + P3,  2*P3)         i.e. m -> 2m + 1
// Both cases run the same formulas if we first swap P2 and P3 when the bit is 1 (and swap back
// afterwards). The swap is a constant-time conditional swap, so the memory accesses and
// instructions are identical for every scalar: that is what makes X25519 resistant to timing
// attacks. As an optimisation RFC 7748 delays the swap-back and merges it with the next step's
// swap (swap only when the bit *changes*); we do the same.
//
// Clamping. Before use the scalar is "clamped": its 3 low bits are cleared (k becomes a multiple
// of the cofactor 8, killing any small-order component of a malicious u) and bit 254 is set with
// bit 255 cleared (every k has the same top bit, so the ladder always runs 255 steps).
#include "ref_ladder.h"

#include "meshvpn/base/secure.h"
#include "ref_field.h"

namespace meshvpn::x25519::ref {
namespace {

// a24 = (A - 2) / 4 = 121665 for Curve25519's A = 486662: the constant in the doubling formula
// as RFC 7748 writes it, Z2 = E * (AA + a24 * E). (Some texts use (A + 2) / 4 = 121666 with BB in
// place of AA; since AA = BB + E, the two are the same value.)
constexpr uint32_t kA24 = 121665;

void WipeElement(FieldElement& e) {
  SecureWipe(MutableByteSpan(reinterpret_cast<uint8_t*>(e.v), sizeof(e.v)));
}

}  // namespace

void X25519(std::span<const uint8_t, 32> scalar, std::span<const uint8_t, 32> u,
            std::span<uint8_t, 32> out) {
  // Clamp a private copy of the scalar (RFC 7748 decodeScalar25519).
  uint8_t k[32];
  for (int i = 0; i < 32; ++i) k[i] = scalar[i];
  k[0] &= 248;   // clear bits 0, 1, 2
  k[31] &= 127;  // clear bit 255
  k[31] |= 64;   // set bit 254

  // x1 is the input point's u-coordinate. P2 starts as the "point at infinity" (X:Z) = (1:0)
  // (the neutral element, [0]P) and P3 as P itself, (x1:1).
  FieldElement x1 = FromBytes(u);
  FieldElement x2 = FieldOne();
  FieldElement z2 = FieldZero();
  FieldElement x3 = x1;
  FieldElement z3 = FieldOne();
  uint64_t swap = 0;

  for (int t = 254; t >= 0; --t) {
    // The bit's position t is public; only its value is secret, and it is used only as data.
    const uint64_t bit = (k[t / 8] >> (t % 8)) & 1;
    swap ^= bit;  // swap if this bit differs from the previous one (see the note above)
    ConditionalSwap(x2, x3, swap);
    ConditionalSwap(z2, z3, swap);
    swap = bit;

    // One ladder step (RFC 7748 section 5): doubling of P2 and differential addition P2 + P3.
    const FieldElement a = Add(x2, z2);  // A  = X2 + Z2
    const FieldElement aa = Square(a);   // AA = A^2
    const FieldElement b = Sub(x2, z2);  // B  = X2 - Z2
    const FieldElement bb = Square(b);   // BB = B^2
    const FieldElement e = Sub(aa, bb);  // E  = AA - BB  (= 4 X2 Z2)
    const FieldElement c = Add(x3, z3);  // C  = X3 + Z3
    const FieldElement d = Sub(x3, z3);  // D  = X3 - Z3
    const FieldElement da = Mul(d, a);   // DA = D * A
    const FieldElement cb = Mul(c, b);   // CB = C * B
    // Differential addition: P2 + P3, knowing their difference P has u = x1 (and Z = 1).
    x3 = Square(Add(da, cb));           // X3 = (DA + CB)^2
    z3 = Mul(x1, Square(Sub(da, cb)));  // Z3 = x1 * (DA - CB)^2
    // Doubling of P2.
    x2 = Mul(aa, bb);                         // X2 = AA * BB
    z2 = Mul(e, Add(aa, MulSmall(e, kA24)));  // Z2 = E * (AA + a24 * E)
  }
  // Undo the last pending swap.
  ConditionalSwap(x2, x3, swap);
  ConditionalSwap(z2, z3, swap);

  // Back from the fraction X2/Z2 to an affine u-coordinate. If the input was a low-order point,
  // Z2 ends up 0, Invert(0) = 0, and the result is 0: the caller rejects it.
  FieldElement result = Mul(x2, Invert(z2));
  ToBytes(result, out);

  // Leave no copy of the secret (or values derived from it) on the stack.
  SecureWipe(k);
  WipeElement(x1);
  WipeElement(x2);
  WipeElement(z2);
  WipeElement(x3);
  WipeElement(z3);
  WipeElement(result);
}

}  // namespace meshvpn::x25519::ref
