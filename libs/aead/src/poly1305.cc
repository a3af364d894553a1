// The reference Poly1305 (RFC 8439 section 2.5) with 130-bit arithmetic in five 26-bit limbs.
//
// THE MATH
// --------
// Let p = 2^130 - 5 (a prime). The key is two 128-bit numbers: r (with some bits cleared, the
// "clamp") and s. Split the message into 16-byte blocks; read each block as a little-endian
// number and add 2^(8*len) (an extra 0x01 byte after it, so that trailing zeros matter). Then
//
//     acc = 0
//     for each block n_i:   acc = ((acc + n_i) * r) mod p
//     tag = (acc + s) mod 2^128          (16 bytes, little-endian)
//
// This is evaluating a polynomial with the blocks as coefficients at the secret point r.
//
// WHY LIMBS
// ---------
// acc and r are up to 130 bits; C++ has 64-bit integers. Write a number as five "limbs" of 26
// bits each:
//
//     h = h0 + h1*2^26 + h2*2^52 + h3*2^78 + h4*2^104      (each limb < 2^26, stored in 32 bits)
//
// A 26 x 26-bit product is 52 bits and fits in a uint64_t with room to add several of them.
//
// MULTIPLYING MODULO p
// --------------------
// h * r = sum over i, j of hi*rj*2^(26(i+j)). When i + j >= 5 the power is at least 2^130, and
//
//     2^130 = p + 5   so   2^130 = 5 (mod p)
//
// so hi*rj*2^(26(i+j)) = 5*hi*rj*2^(26(i+j-5)) (mod p): the term wraps around to limb i+j-5,
// multiplied by 5. With 5*rj precomputed, the product modulo p is five sums of five terms:
//
//     d0 = h0 r0 + 5(h1 r4 + h2 r3 + h3 r2 + h4 r1)
//     d1 = h0 r1 + h1 r0 + 5(h2 r4 + h3 r3 + h4 r2)
//     d2 = h0 r2 + h1 r1 + h2 r0 + 5(h3 r4 + h4 r3)
//     d3 = h0 r3 + h1 r2 + h2 r1 + h3 r0 + 5(h4 r4)
//     d4 = h0 r4 + h1 r3 + h2 r2 + h3 r1 + h4 r0
//
// BOUNDS (why nothing overflows)
// ------------------------------
// The clamp makes r < 2^124, so r0..r3 < 2^26 and r4 < 2^20; 5*rj < 2^29. Before the multiply,
// h = (carried accumulator) + (block): each limb is below 2^26 + 2^26 + a small carry < 2^28.
// Each product is then < 2^28 * 2^29 = 2^57 and a sum of five is < 2^60 < 2^64.
//
// CARRYING
// --------
// The di are 60-bit numbers; bring them back to 26-bit limbs by moving everything above bit 26
// into the next limb (d0 -> d1 -> ... -> d4). What spills out of d4 is worth 2^130 per unit,
// which is 5 (mod p), so it is multiplied by 5 and added to limb 0; one more carry from limb 0
// into limb 1 leaves every limb below 2^26 except h1, which may exceed it by at most 2^11. That
// is "almost" reduced, and enough for the next block (see BOUNDS); only Finish reduces fully.
//
// FINISHING
// ---------
// After one more carry pass acc is below 2^130 + 2^52, so below 2p. To get acc mod p exactly,
// compute g = acc + 5 - 2^130 (that is acc - p). If g is not negative, acc >= p and the answer
// is g; otherwise it is acc. The choice is made with a bit mask, not an if, so timing does not
// depend on the secret value. Finally add s modulo 2^128.
#include "meshvpn/aead/poly1305.h"

#include <cstring>

#include "le_bytes.h"
#include "meshvpn/base/secure.h"

namespace meshvpn::aead::ref {

namespace {

constexpr uint32_t kLimbMask = (1u << 26) - 1;  // 0x3ffffff

}  // namespace

Poly1305::Poly1305(std::span<const uint8_t, kKeySize> key) {
  const uint8_t* k = key.data();
  // r = key[0..15] little-endian, clamped: clear the top 4 bits of bytes 3, 7, 11, 15 and the low
  // 2 bits of bytes 4, 8, 12 (mask 0x0ffffffc0ffffffc0ffffffc0fffffff). The clamp keeps the
  // products small (see BOUNDS) and was part of Poly1305's security analysis. Each limb takes 26
  // bits starting at bit 0, 26, 52, 78, 104 (bytes 0, 3, 6, 9, 12 plus a shift of 0, 2, 4, 6, 8).
  r_[0] = internal::LoadLe32(k + 0) & 0x3ffffff;
  r_[1] = (internal::LoadLe32(k + 3) >> 2) & 0x3ffff03;
  r_[2] = (internal::LoadLe32(k + 6) >> 4) & 0x3ffc0ff;
  r_[3] = (internal::LoadLe32(k + 9) >> 6) & 0x3f03fff;
  r_[4] = (internal::LoadLe32(k + 12) >> 8) & 0x00fffff;
  // s = key[16..31] little-endian, added at the end.
  for (int i = 0; i < 4; ++i) s_[i] = internal::LoadLe32(k + 16 + 4 * i);
  for (uint32_t& limb : h_) limb = 0;
}

Poly1305::~Poly1305() {
  SecureWipe({reinterpret_cast<uint8_t*>(r_), sizeof(r_)});
  SecureWipe({reinterpret_cast<uint8_t*>(h_), sizeof(h_)});
  SecureWipe({reinterpret_cast<uint8_t*>(s_), sizeof(s_)});
  SecureWipe(buffer_);
}

void Poly1305::Blocks(const uint8_t* m, size_t bytes, uint32_t hibit) {
  const uint64_t r0 = r_[0], r1 = r_[1], r2 = r_[2], r3 = r_[3], r4 = r_[4];
  // 5*rj for the terms that wrap around past 2^130 (see MULTIPLYING MODULO p).
  const uint64_t s1 = r1 * 5, s2 = r2 * 5, s3 = r3 * 5, s4 = r4 * 5;
  uint64_t h0 = h_[0], h1 = h_[1], h2 = h_[2], h3 = h_[3], h4 = h_[4];

  while (bytes >= kBlock) {
    // acc += block (+ 2^128 for a full block), the block split into the same 26-bit limbs as r.
    h0 += internal::LoadLe32(m + 0) & kLimbMask;
    h1 += (internal::LoadLe32(m + 3) >> 2) & kLimbMask;
    h2 += (internal::LoadLe32(m + 6) >> 4) & kLimbMask;
    h3 += (internal::LoadLe32(m + 9) >> 6) & kLimbMask;
    h4 += (internal::LoadLe32(m + 12) >> 8) | hibit;

    // acc *= r (mod p): five sums of five products.
    const uint64_t d0 = h0 * r0 + h1 * s4 + h2 * s3 + h3 * s2 + h4 * s1;
    uint64_t d1 = h0 * r1 + h1 * r0 + h2 * s4 + h3 * s3 + h4 * s2;
    uint64_t d2 = h0 * r2 + h1 * r1 + h2 * r0 + h3 * s4 + h4 * s3;
    uint64_t d3 = h0 * r3 + h1 * r2 + h2 * r1 + h3 * r0 + h4 * s4;
    uint64_t d4 = h0 * r4 + h1 * r3 + h2 * r2 + h3 * r1 + h4 * r0;

    // Carry back into 26-bit limbs; the spill from limb 4 wraps to limb 0 times 5.
    uint64_t c = d0 >> 26;
    h0 = d0 & kLimbMask;
    d1 += c;
    c = d1 >> 26;
    h1 = d1 & kLimbMask;
    d2 += c;
    c = d2 >> 26;
    h2 = d2 & kLimbMask;
    d3 += c;
    c = d3 >> 26;
    h3 = d3 & kLimbMask;
    d4 += c;
    c = d4 >> 26;
    h4 = d4 & kLimbMask;
    h0 += c * 5;
    c = h0 >> 26;
    h0 &= kLimbMask;
    h1 += c;

    m += kBlock;
    bytes -= kBlock;
  }
  h_[0] = static_cast<uint32_t>(h0);
  h_[1] = static_cast<uint32_t>(h1);
  h_[2] = static_cast<uint32_t>(h2);
  h_[3] = static_cast<uint32_t>(h3);
  h_[4] = static_cast<uint32_t>(h4);
}

void Poly1305::Update(ByteSpan data) {
  const uint8_t* m = data.data();
  size_t left = data.size();
  // Top up a partly filled block first.
  if (buffered_ > 0) {
    const size_t take = std::min(left, kBlock - buffered_);
    std::memcpy(buffer_ + buffered_, m, take);
    buffered_ += take;
    m += take;
    left -= take;
    if (buffered_ < kBlock) return;
    Blocks(buffer_, kBlock, 1u << 24);
    buffered_ = 0;
  }
  // Whole blocks straight from the caller's memory.
  const size_t whole = left & ~(kBlock - 1);
  if (whole > 0) {
    Blocks(m, whole, 1u << 24);
    m += whole;
    left -= whole;
  }
  // Keep the tail for later.
  if (left > 0) {
    std::memcpy(buffer_, m, left);
    buffered_ = left;
  }
}

void Poly1305::PadToBlock() {
  if (buffered_ == 0) return;
  std::memset(buffer_ + buffered_, 0, kBlock - buffered_);
  Blocks(buffer_, kBlock, 1u << 24);
  buffered_ = 0;
}

void Poly1305::Finish(std::span<uint8_t, kTagSize> tag) {
  // A final partial block: append the 0x01 byte by hand and pad with zeros; no 2^128 bit.
  if (buffered_ > 0) {
    buffer_[buffered_] = 1;
    std::memset(buffer_ + buffered_ + 1, 0, kBlock - buffered_ - 1);
    Blocks(buffer_, kBlock, 0);
    buffered_ = 0;
  }

  // Fully carry h (see CARRYING): afterwards h0, h2, h3, h4 < 2^26 and h1 <= 2^26.
  uint32_t h0 = h_[0], h1 = h_[1], h2 = h_[2], h3 = h_[3], h4 = h_[4];
  uint32_t c = h1 >> 26;
  h1 &= kLimbMask;
  h2 += c;
  c = h2 >> 26;
  h2 &= kLimbMask;
  h3 += c;
  c = h3 >> 26;
  h3 &= kLimbMask;
  h4 += c;
  c = h4 >> 26;
  h4 &= kLimbMask;
  h0 += c * 5;
  c = h0 >> 26;
  h0 &= kLimbMask;
  h1 += c;

  // g = h + 5 - 2^130 = h - p, carried limb by limb. g4 goes "negative" (its top bit set, as an
  // unsigned wrap) exactly when h < p.
  uint32_t g0 = h0 + 5;
  c = g0 >> 26;
  g0 &= kLimbMask;
  uint32_t g1 = h1 + c;
  c = g1 >> 26;
  g1 &= kLimbMask;
  uint32_t g2 = h2 + c;
  c = g2 >> 26;
  g2 &= kLimbMask;
  uint32_t g3 = h3 + c;
  c = g3 >> 26;
  g3 &= kLimbMask;
  const uint32_t g4 = h4 + c - (1u << 26);

  // Constant-time select: mask is all ones if h >= p (take g), all zeros if h < p (keep h).
  const uint32_t take_g = (g4 >> 31) - 1;  // top bit 0 -> 0 - 1 = 0xffffffff; top bit 1 -> 0
  h0 = (h0 & ~take_g) | (g0 & take_g);
  h1 = (h1 & ~take_g) | (g1 & take_g);
  h2 = (h2 & ~take_g) | (g2 & take_g);
  h3 = (h3 & ~take_g) | (g3 & take_g);
  h4 = (h4 & ~take_g) | (g4 & take_g);

  // Regroup the 26-bit limbs into 32-bit words (bits 0, 32, 64, 96), adding rather than OR-ing so
  // that a limb at its 2^26 bound still lands correctly, and add s; everything above 2^128 falls
  // off the top (the "mod 2^128").
  uint64_t f = uint64_t{h0} + (uint64_t{h1} << 26) + s_[0];
  internal::StoreLe32(tag.data() + 0, static_cast<uint32_t>(f));
  f = (f >> 32) + (uint64_t{h2} << 20) + s_[1];
  internal::StoreLe32(tag.data() + 4, static_cast<uint32_t>(f));
  f = (f >> 32) + (uint64_t{h3} << 14) + s_[2];
  internal::StoreLe32(tag.data() + 8, static_cast<uint32_t>(f));
  f = (f >> 32) + (uint64_t{h4} << 8) + s_[3];
  internal::StoreLe32(tag.data() + 12, static_cast<uint32_t>(f));

  // The state is spent: wipe it now rather than waiting for the destructor.
  SecureWipe({reinterpret_cast<uint8_t*>(r_), sizeof(r_)});
  SecureWipe({reinterpret_cast<uint8_t*>(h_), sizeof(h_)});
  SecureWipe({reinterpret_cast<uint8_t*>(s_), sizeof(s_)});
  SecureWipe(buffer_);
}

void Poly1305::Mac(std::span<const uint8_t, kKeySize> one_time_key, ByteSpan message,
                   std::span<uint8_t, kTagSize> tag) {
  Poly1305 mac(one_time_key);
  mac.Update(message);
  mac.Finish(tag);
}

}  // namespace meshvpn::aead::ref
