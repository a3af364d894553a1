#include "meshvpn/aead/poly1305.h"

#include <catch2/catch.hpp>

#include "meshvpn/aead/chacha20_poly1305_ref.h"
#include "meshvpn/aead/primitives.h"
#include "meshvpn/base/crypto_backend.h"
#include "test_util.h"

namespace meshvpn::aead {
namespace {

using testing::Fixed;
using testing::Hex;
using testing::LoadJson;
using testing::Unhex;

TEST_CASE("Poly1305 matches RFC 8439 2.5.2 and A.3 in both backends") {
  const auto vectors = LoadJson("rfc8439_vectors.json");
  REQUIRE(vectors.at("poly1305").size() == 12);
  for (CryptoBackend backend : kAllCryptoBackends) {
    for (const auto& v : vectors.at("poly1305").AsArray()) {
      INFO(ToString(backend) << " " << v.at("section").AsString());
      const Bytes key = Unhex(v.at("key").AsString());
      const Bytes message = Unhex(v.at("message").AsString());
      uint8_t tag[16];
      REQUIRE(Poly1305Mac(backend, Fixed<32>(key), message, tag).ok());
      CHECK(Hex(tag) == v.at("tag").AsString());
    }
  }
}

TEST_CASE("ref Poly1305 gives the same tag for every split of the message") {
  const auto vectors = LoadJson("rfc8439_vectors.json");
  for (const auto& v : vectors.at("poly1305").AsArray()) {
    INFO(v.at("section").AsString());
    const Bytes key = Unhex(v.at("key").AsString());
    const Bytes message = Unhex(v.at("message").AsString());
    for (size_t split = 0; split <= message.size(); ++split) {
      ref::Poly1305 mac(Fixed<32>(key));
      mac.Update(ByteSpan(message).first(split));
      mac.Update(ByteSpan(message).subspan(split));
      uint8_t tag[16];
      mac.Finish(tag);
      INFO("split at " << split);
      REQUIRE(Hex(tag) == v.at("tag").AsString());
    }
  }
}

TEST_CASE("ref Poly1305 byte-at-a-time and PadToBlock") {
  const Bytes key = Unhex("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b");
  const Bytes message =
      Unhex("43727970746f6772617068696320466f72756d2052657365617263682047726f7570");
  {
    ref::Poly1305 mac(Fixed<32>(key));
    for (uint8_t b : message) mac.Update(ByteSpan(&b, 1));
    uint8_t tag[16];
    mac.Finish(tag);
    CHECK(Hex(tag) == "a8061dc1305136c6c22b8baf0c0127a9");
  }
  // PadToBlock after 5 bytes equals feeding those 5 bytes and 11 zero bytes explicitly.
  Bytes padded(message.begin(), message.begin() + 5);
  padded.resize(16, 0);
  padded.insert(padded.end(), message.begin() + 5, message.end());
  uint8_t expected[16], got[16];
  ref::Poly1305::Mac(Fixed<32>(key), padded, expected);
  ref::Poly1305 mac(Fixed<32>(key));
  mac.Update(ByteSpan(message).first(5));
  mac.PadToBlock();
  mac.PadToBlock();  // already aligned: adds nothing
  mac.Update(ByteSpan(message).subspan(5));
  mac.Finish(got);
  CHECK(Hex(got) == Hex(expected));
}

TEST_CASE("ref and OpenSSL Poly1305 agree on edge-case accumulators") {
  // Keys with all-ones r (after the clamp) and s, and messages of all-ones blocks, drive the
  // limbs to their bounds; the two implementations must agree for every length 0..80.
  const Bytes max_key(32, 0xff);
  for (size_t len = 0; len <= 80; ++len) {
    const Bytes message(len, 0xff);
    uint8_t a[16], b[16];
    REQUIRE(Poly1305Mac(CryptoBackend::kReference, Fixed<32>(max_key), message, a).ok());
    REQUIRE(Poly1305Mac(CryptoBackend::kOpenSsl, Fixed<32>(max_key), message, b).ok());
    INFO("length " << len);
    CHECK(Hex(a) == Hex(b));
  }
}

TEST_CASE("Poly1305 one-time key generation matches RFC 8439 2.6.2 and A.4 in both backends") {
  const auto vectors = LoadJson("rfc8439_vectors.json");
  for (CryptoBackend backend : kAllCryptoBackends) {
    for (const auto& v : vectors.at("poly1305_key_gen").AsArray()) {
      INFO(ToString(backend) << " " << v.at("section").AsString());
      const Bytes key = Unhex(v.at("key").AsString());
      const Bytes nonce = Unhex(v.at("nonce").AsString());
      uint8_t otk[32];
      REQUIRE(Poly1305KeyGen(backend, Fixed<32>(key), Fixed<12>(nonce), otk).ok());
      CHECK(Hex(otk) == v.at("one_time_key").AsString());
    }
  }
}

}  // namespace
}  // namespace meshvpn::aead
