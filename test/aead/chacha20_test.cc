#include "meshvpn/aead/chacha20.h"

#include <catch2/catch.hpp>
#include <cstdlib>

#include "meshvpn/aead/primitives.h"
#include "meshvpn/base/crypto_backend.h"
#include "test_util.h"

namespace meshvpn::aead {
namespace {

using testing::Fixed;
using testing::Hex;
using testing::LoadJson;
using testing::Unhex;

uint32_t Word(const meshvpn::test::JsonValue& v) {
  return static_cast<uint32_t>(std::strtoul(v.AsString().c_str(), nullptr, 16));
}

ref::ChaChaState State(const meshvpn::test::JsonValue& words) {
  REQUIRE(words.size() == 16);
  ref::ChaChaState s;
  for (size_t i = 0; i < 16; ++i) s[i] = Word(words.at(i));
  return s;
}

TEST_CASE("ref quarter round matches RFC 8439 2.1.1") {
  const auto vectors = LoadJson("rfc8439_vectors.json");
  for (const auto& v : vectors.at("quarter_round").AsArray()) {
    uint32_t a = Word(v.at("in").at(0)), b = Word(v.at("in").at(1)), c = Word(v.at("in").at(2)),
             d = Word(v.at("in").at(3));
    ref::QuarterRound(a, b, c, d);
    CHECK(a == Word(v.at("out").at(0)));
    CHECK(b == Word(v.at("out").at(1)));
    CHECK(c == Word(v.at("out").at(2)));
    CHECK(d == Word(v.at("out").at(3)));
  }
}

TEST_CASE("ref quarter round on the state changes only its four words (RFC 8439 2.2.1)") {
  const auto vectors = LoadJson("rfc8439_vectors.json");
  const auto& v = vectors.at("quarter_round_on_state").at(size_t{0});
  ref::ChaChaState s = State(v.at("in"));
  const size_t i0 = v.at("indices").at(0).AsInt64(), i1 = v.at("indices").at(1).AsInt64(),
               i2 = v.at("indices").at(2).AsInt64(), i3 = v.at("indices").at(3).AsInt64();
  ref::QuarterRound(s[i0], s[i1], s[i2], s[i3]);
  CHECK(s == State(v.at("out")));
}

TEST_CASE("ref state setup and 20 rounds match RFC 8439 2.3.2") {
  const auto vectors = LoadJson("rfc8439_vectors.json");
  const auto& v = vectors.at("block").at(size_t{0});
  REQUIRE(v.at("section").AsString() == "2.3.2");
  const Bytes key = Unhex(v.at("key").AsString());
  const Bytes nonce = Unhex(v.at("nonce").AsString());
  ref::ChaChaState s = ref::InitialState(Fixed<32>(key), 1, Fixed<12>(nonce));
  // "ChaCha state with the key setup" from the RFC.
  const ref::ChaChaState expected_setup = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574,
                                           0x03020100, 0x07060504, 0x0b0a0908, 0x0f0e0d0c,
                                           0x13121110, 0x17161514, 0x1b1a1918, 0x1f1e1d1c,
                                           0x00000001, 0x09000000, 0x4a000000, 0x00000000};
  CHECK(s == expected_setup);
  ref::ChaCha20Rounds(s);
  CHECK(s == State(v.at("state_after_rounds")));
}

TEST_CASE("ChaCha20 block function matches RFC 8439 2.3.2 and A.1 in both backends") {
  const auto vectors = LoadJson("rfc8439_vectors.json");
  for (CryptoBackend backend : kAllCryptoBackends) {
    for (const auto& v : vectors.at("block").AsArray()) {
      INFO(ToString(backend) << " " << v.at("section").AsString());
      const Bytes key = Unhex(v.at("key").AsString());
      const Bytes nonce = Unhex(v.at("nonce").AsString());
      uint8_t out[64];
      REQUIRE(ChaCha20Block(backend, Fixed<32>(key),
                            static_cast<uint32_t>(v.at("counter").AsInt64()), Fixed<12>(nonce), out)
                  .ok());
      CHECK(Hex(out) == v.at("keystream").AsString());
    }
  }
}

TEST_CASE("ChaCha20 encryption matches RFC 8439 2.4.2 and A.2 in both backends") {
  const auto vectors = LoadJson("rfc8439_vectors.json");
  for (CryptoBackend backend : kAllCryptoBackends) {
    for (const auto& v : vectors.at("encrypt").AsArray()) {
      INFO(ToString(backend) << " " << v.at("section").AsString());
      const Bytes key = Unhex(v.at("key").AsString());
      const Bytes nonce = Unhex(v.at("nonce").AsString());
      const auto counter = static_cast<uint32_t>(v.at("counter").AsInt64());
      Bytes data = Unhex(v.at("plaintext").AsString());
      REQUIRE(ChaCha20Xor(backend, Fixed<32>(key), counter, Fixed<12>(nonce), data).ok());
      CHECK(Hex(data) == v.at("ciphertext").AsString());
      // Decryption is the same operation.
      REQUIRE(ChaCha20Xor(backend, Fixed<32>(key), counter, Fixed<12>(nonce), data).ok());
      CHECK(Hex(data) == v.at("plaintext").AsString());
    }
  }
}

TEST_CASE("ref ChaCha20Xor in pieces at block boundaries equals one call") {
  const Bytes key = Unhex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
  const Bytes nonce = Unhex("000000000000004a00000000");
  Bytes whole(300, 0x5a);
  Bytes pieces = whole;
  ref::ChaCha20Xor(Fixed<32>(key), 7, Fixed<12>(nonce), whole);
  // 128 bytes from block 7, then the rest from block 9.
  ref::ChaCha20Xor(Fixed<32>(key), 7, Fixed<12>(nonce), MutableByteSpan(pieces).first(128));
  ref::ChaCha20Xor(Fixed<32>(key), 9, Fixed<12>(nonce), MutableByteSpan(pieces).subspan(128));
  CHECK(whole == pieces);
}

TEST_CASE("ChaCha20Xor refuses to wrap the 32-bit block counter in both backends") {
  const Bytes key(32, 1), nonce(12, 2);
  for (CryptoBackend backend : kAllCryptoBackends) {
    INFO(ToString(backend));
    Bytes one_block(64, 0), two_blocks(65, 0);
    CHECK(ChaCha20Xor(backend, Fixed<32>(key), 0xffffffff, Fixed<12>(nonce), one_block).ok());
    const auto wrap =
        ChaCha20Xor(backend, Fixed<32>(key), 0xffffffff, Fixed<12>(nonce), two_blocks);
    CHECK(wrap.code() == absl::StatusCode::kInvalidArgument);
    CHECK(testing::AllZero(two_blocks));  // refused before touching the data
  }
}

}  // namespace
}  // namespace meshvpn::aead
