// Tests for the reference backend's field arithmetic GF(2^255 - 19) (libs/x25519/src/ref_field.h).
#include "ref_field.h"

#include <catch2/catch.hpp>
#include <random>
#include <string>

#include "meshvpn/base/bytes.h"

namespace meshvpn::x25519::ref {
namespace {

std::string Hex(const FieldElement& a) {
  std::array<uint8_t, 32> out{};
  ToBytes(a, out);
  return HexEncode(out);
}

FieldElement FromHex(std::string_view hex) {
  std::array<uint8_t, 32> in{};
  REQUIRE(HexDecodeInto(hex, in).ok());
  return FromBytes(in);
}

// p = 2^255 - 19 and its neighbours, little-endian.
constexpr char kPMinus1[] = "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f";
constexpr char kP[] = "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f";
constexpr char kPPlus1[] = "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f";
constexpr char kAllOnes[] = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";
constexpr char kZero[] = "0000000000000000000000000000000000000000000000000000000000000000";
constexpr char kOne[] = "0100000000000000000000000000000000000000000000000000000000000000";

// A random canonical element (< 2^255 - 19 with overwhelming probability; any value is valid).
FieldElement Random(std::mt19937_64& rng) {
  std::array<uint8_t, 32> b{};
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  return FromBytes(b);
}

// The largest limbs the invariant allows on input: every limb 2^52 - 1.
FieldElement MaxLoose() {
  const uint64_t m = (uint64_t{1} << 52) - 1;
  return FieldElement{{m, m, m, m, m}};
}

TEST_CASE("field encoding is canonical and masks bit 255") {
  CHECK(Hex(FromHex(kZero)) == kZero);
  CHECK(Hex(FromHex(kOne)) == kOne);
  CHECK(Hex(FromHex(kPMinus1)) == kPMinus1);  // largest canonical value
  CHECK(Hex(FromHex(kP)) == kZero);           // p = 0
  CHECK(Hex(FromHex(kPPlus1)) == kOne);       // p + 1 = 1
  CHECK(Hex(FromHex(kAllOnes)) ==             // 2^256 - 1: bit 255 dropped,
        "1200000000000000000000000000000000000000000000000000000000000000");  // 2^255-1 = 18
  std::mt19937_64 rng(1);
  for (int i = 0; i < 200; ++i) {
    std::array<uint8_t, 32> b{};
    for (auto& x : b) x = static_cast<uint8_t>(rng());
    b[31] &= 0x3f;  // < 2^254 < p: canonical, so the round trip is exact
    CHECK(Hex(FromBytes(b)) == HexEncode(b));
  }
}

TEST_CASE("field known values") {
  // (p - 1)^2 = (-1)^2 = 1.
  CHECK(Hex(Square(FromHex(kPMinus1))) == kOne);
  CHECK(Hex(Mul(FromHex(kPMinus1), FromHex(kPMinus1))) == kOne);
  // 1/2 = (p + 1) / 2 = 2^254 - 9.
  CHECK(Hex(Invert(FieldFromSmall(2))) ==
        "f7ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff3f");
  CHECK(Hex(Invert(FieldZero())) == kZero);  // Fermat's inverse maps 0 to 0
  CHECK(Hex(Sub(FieldZero(), FieldOne())) == kPMinus1);
  CHECK(Hex(Add(FromHex(kPMinus1), FieldOne())) == kZero);
  CHECK(Hex(MulSmall(FieldOne(), 121665)) ==
        "41db010000000000000000000000000000000000000000000000000000000000");
}

TEST_CASE("field arithmetic at the invariant's limb bounds") {
  // Expected values computed independently with Python integers.
  const FieldElement m = MaxLoose();
  CHECK(Hex(m) == "2500000000000800000000004000000000000002000000000010000000000000");
  CHECK(Hex(Mul(m, m)) == "a50500000000180400000000401c0000000000be0000000000d0040000000000");
  CHECK(Hex(Square(m)) == "a50500000000180400000000401c0000000000be0000000000d0040000000000");
  CHECK(Hex(Add(m, m)) == "4a00000000001000000000008000000000000004000000000020000000000000");
  CHECK(Hex(Sub(m, m)) == kZero);
  CHECK(Hex(Sub(FieldZero(), m)) == Hex(Sub(FieldZero(), FromHex(Hex(m)))));
  CHECK(Hex(MulSmall(m, 121665)) ==
        "65b04400000008da0e00000040d0760000000082b60300000010b41d00000000");
  CHECK(Hex(Invert(m)) == "5c3b3b70633a127d2520fe174098c91ea9f11d4b0b09598cfb7826ad5737d516");
}

TEST_CASE("field identities on random elements") {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 300; ++i) {
    const FieldElement a = Random(rng);
    const FieldElement b = Random(rng);
    const FieldElement c = Random(rng);
    INFO("a=" << Hex(a) << " b=" << Hex(b));
    CHECK(Hex(Mul(a, b)) == Hex(Mul(b, a)));
    CHECK(Hex(Square(a)) == Hex(Mul(a, a)));
    CHECK(Hex(Add(Sub(a, b), b)) == Hex(a));
    CHECK(Hex(Sub(Add(a, b), b)) == Hex(a));
    CHECK(Hex(Mul(a, Add(b, c))) == Hex(Add(Mul(a, b), Mul(a, c))));
    CHECK(Hex(Mul(Mul(a, b), c)) == Hex(Mul(a, Mul(b, c))));
    CHECK(Hex(MulSmall(a, 121665)) == Hex(Mul(a, FieldFromSmall(121665))));
    CHECK(Hex(Mul(a, Invert(a))) == kOne);
  }
}

TEST_CASE("conditional swap swaps exactly when asked") {
  std::mt19937_64 rng(7);
  const FieldElement a = Random(rng);
  const FieldElement b = Random(rng);
  FieldElement x = a;
  FieldElement y = b;
  ConditionalSwap(x, y, 0);
  CHECK(Hex(x) == Hex(a));
  CHECK(Hex(y) == Hex(b));
  ConditionalSwap(x, y, 1);
  CHECK(Hex(x) == Hex(b));
  CHECK(Hex(y) == Hex(a));
}

}  // namespace
}  // namespace meshvpn::x25519::ref
