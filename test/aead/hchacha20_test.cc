#include "meshvpn/aead/hchacha20.h"

#include <catch2/catch.hpp>

#include "meshvpn/aead/chacha20.h"
#include "test_util.h"

namespace meshvpn::aead {
namespace {

using testing::Fixed;
using testing::Hex;
using testing::LoadJson;
using testing::Unhex;

TEST_CASE("HChaCha20 matches draft-irtf-cfrg-xchacha 2.2.1") {
  const auto vectors = LoadJson("xchacha_draft_vectors.json");
  for (const auto& v : vectors.at("hchacha20").AsArray()) {
    const Bytes key = Unhex(v.at("key").AsString());
    const Bytes input = Unhex(v.at("input").AsString());
    uint8_t subkey[32];
    HChaCha20(Fixed<32>(key), Fixed<16>(input), subkey);
    CHECK(Hex(subkey) == v.at("subkey").AsString());
  }
}

TEST_CASE("HChaCha20 is the ChaCha20 block without its feed-forward, rows 0 and 3") {
  // The block function adds the input state back; HChaCha20 does not. So for the same state
  // (counter = input word 0, nonce = input words 1..3), block word i minus input word i equals
  // HChaCha20 word i, for i in 0..3 and 12..15.
  Bytes key(32), input(16);
  for (size_t i = 0; i < 32; ++i) key[i] = static_cast<uint8_t>(7 * i + 3);
  for (size_t i = 0; i < 16; ++i) input[i] = static_cast<uint8_t>(11 * i + 5);
  uint8_t subkey[32];
  HChaCha20(Fixed<32>(key), Fixed<16>(input), subkey);

  const uint32_t counter = uint32_t{input[0]} | uint32_t{input[1]} << 8 | uint32_t{input[2]} << 16 |
                           uint32_t{input[3]} << 24;
  const Bytes nonce(input.begin() + 4, input.end());
  const ref::ChaChaState start = ref::InitialState(Fixed<32>(key), counter, Fixed<12>(nonce));
  uint8_t block[64];
  ref::ChaCha20Block(Fixed<32>(key), counter, Fixed<12>(nonce), block);
  auto le32 = [](const uint8_t* p) {
    return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
  };
  for (int i = 0; i < 4; ++i) {
    CHECK(le32(block + 4 * i) - start[i] == le32(subkey + 4 * i));
    CHECK(le32(block + 4 * (12 + i)) - start[12 + i] == le32(subkey + 16 + 4 * i));
  }
}

}  // namespace
}  // namespace meshvpn::aead
