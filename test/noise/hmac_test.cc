#include "meshvpn/noise/hmac.h"

#include <catch2/catch.hpp>

#include "test_util.h"

namespace meshvpn::noise {
namespace {

using testing::Hex;
using testing::Unhex;

TEST_CASE("HMAC-BLAKE2s matches the Linux kernel selftest vectors (hmac_blake2s.json)") {
  const auto json = testing::LoadJson("hmac_blake2s.json");
  const auto& vectors = json.at("vectors");
  REQUIRE(vectors.size() == 2);
  for (CryptoBackend backend : kAllCryptoBackends) {
    INFO("backend " << ToString(backend));
    for (size_t i = 0; i < vectors.size(); ++i) {
      INFO("vector " << i);
      const Bytes key = Unhex(vectors.at(i).at("key").AsString());
      const Bytes msg = Unhex(vectors.at(i).at("message").AsString());
      CHECK(Hex(HmacBlake2s(key, msg, backend)) == vectors.at(i).at("hmac_blake2s_256").AsString());
    }
  }
  // Vector 1 has a 256-byte key: the "longer than a block, hash it first" path.
  CHECK(Unhex(vectors.at(1).at("key").AsString()).size() > kBlake2sBlockSize);
}

TEST_CASE("HMAC-BLAKE2s matches the extract step of the WireGuard KDF vectors") {
  const auto json = testing::LoadJson("wireguard_kdf_blake2s.json");
  for (CryptoBackend backend : kAllCryptoBackends) {
    INFO("backend " << ToString(backend));
    for (const auto& v : json.at("vectors").AsArray()) {
      CHECK(Hex(HmacBlake2s(Unhex(v.at("key").AsString()), Unhex(v.at("input").AsString()),
                            backend)) == v.at("prk_derived").AsString());
    }
  }
}

// HMAC written out once more, naively, from the public BLAKE2s-256 and a concatenation: the
// definition, to compare the implementations against at the key-length edges.
Blake2sHash NaiveHmac(ByteSpan key, ByteSpan msg) {
  Bytes k0(kBlake2sBlockSize, 0);
  if (key.size() > kBlake2sBlockSize) {
    const Blake2sHash hashed = Blake2s256(key, CryptoBackend::kReference);
    std::copy(hashed.begin(), hashed.end(), k0.begin());
  } else {
    std::copy(key.begin(), key.end(), k0.begin());
  }
  Bytes inner_input, outer_input;
  for (uint8_t b : k0) inner_input.push_back(b ^ 0x36);
  inner_input.insert(inner_input.end(), msg.begin(), msg.end());
  const Blake2sHash inner = Blake2s256(inner_input, CryptoBackend::kReference);
  for (uint8_t b : k0) outer_input.push_back(b ^ 0x5c);
  outer_input.insert(outer_input.end(), inner.begin(), inner.end());
  return Blake2s256(outer_input, CryptoBackend::kReference);
}

TEST_CASE("HMAC-BLAKE2s equals its definition for keys around the block size") {
  const Bytes msg = Unhex("48656c6c6f");
  for (size_t key_len : {0, 1, 31, 32, 33, 63, 64, 65, 128, 300}) {
    Bytes key(key_len);
    for (size_t i = 0; i < key_len; ++i) key[i] = static_cast<uint8_t>(i * 13 + 5);
    INFO("key length " << key_len);
    for (CryptoBackend backend : kAllCryptoBackends) {
      INFO("backend " << ToString(backend));
      CHECK(Hex(HmacBlake2s(key, msg, backend)) == Hex(NaiveHmac(key, msg)));
    }
  }
}

TEST_CASE("HMAC-BLAKE2s of parts equals HMAC of the concatenation, and keys matter") {
  const Bytes key = Unhex("0102"), a = Unhex("aabb"), b = Unhex("cc"), ab = Unhex("aabbcc");
  for (CryptoBackend backend : kAllCryptoBackends) {
    CHECK(HmacBlake2s(key, {a, b}, backend) == HmacBlake2s(key, ab, backend));
    CHECK(HmacBlake2s(key, ab, backend) != HmacBlake2s(Unhex("0103"), ab, backend));
    // An empty key is a key (K0 all zeros), and it does not pick up an earlier call's key.
    const Blake2sHash with_empty = HmacBlake2s({}, ab, backend);
    CHECK(with_empty == HmacBlake2s(Bytes(64, 0), ab, backend));
    CHECK(with_empty != HmacBlake2s(key, ab, backend));
  }
}

}  // namespace
}  // namespace meshvpn::noise
