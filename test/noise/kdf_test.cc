#include "meshvpn/noise/kdf.h"

#include <catch2/catch.hpp>

#include "meshvpn/noise/hmac.h"
#include "test_util.h"

namespace meshvpn::noise {
namespace {

using testing::Hex;
using testing::Unhex;

// wireguard-go's TestKDF table names the outputs t0, t1, t2 (our kdf.h, like the whitepaper,
// calls the extracted key t0 and the outputs t1, t2, t3).
TEST_CASE("Kdf1, Kdf2 and Kdf3 match wireguard-go's KDF vectors") {
  const auto json = testing::LoadJson("wireguard_kdf_blake2s.json");
  const auto& vectors = json.at("vectors");
  REQUIRE(vectors.size() == 3);
  for (CryptoBackend backend : kAllCryptoBackends) {
    INFO("backend " << ToString(backend));
    for (size_t i = 0; i < vectors.size(); ++i) {
      INFO("vector " << i);
      const auto& v = vectors.at(i);
      const Bytes key = Unhex(v.at("key").AsString());
      const Bytes input = Unhex(v.at("input").AsString());
      const std::string t0 = v.at("t0").AsString(), t1 = v.at("t1").AsString(),
                        t2 = v.at("t2").AsString();

      CHECK(Hex(Kdf1(key, input, backend)) == t0);
      const auto [a1, a2] = Kdf2(key, input, backend);
      CHECK(Hex(a1) == t0);
      CHECK(Hex(a2) == t1);
      const auto [b1, b2, b3] = Kdf3(key, input, backend);
      CHECK(Hex(b1) == t0);
      CHECK(Hex(b2) == t1);
      CHECK(Hex(b3) == t2);
    }
  }
}

TEST_CASE("Kdf3 is the whitepaper's chain of HMACs") {
  const Bytes key = Unhex("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
  const Bytes input = Unhex("0102030405");
  const uint8_t one[] = {1}, two[] = {2}, three[] = {3};
  for (CryptoBackend backend : kAllCryptoBackends) {
    const Blake2sHash t0 = HmacBlake2s(key, input, backend);
    const Blake2sHash t1 = HmacBlake2s(t0, ByteSpan(one), backend);
    const Blake2sHash t2 = HmacBlake2s(t0, {t1, two}, backend);
    const Blake2sHash t3 = HmacBlake2s(t0, {t2, three}, backend);
    const auto out = Kdf3(key, input, backend);
    CHECK(out[0] == t1);
    CHECK(out[1] == t2);
    CHECK(out[2] == t3);
  }
}

TEST_CASE("Kdf can overwrite its own key (C = KDF1(C, x))") {
  Blake2sHash ck = Blake2s256(AsBytes("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"));
  const Blake2sHash expected = Kdf1(ck, AsBytes("x"), CryptoBackend::kReference);
  ck = Kdf1(ck, AsBytes("x"));
  CHECK(ck == expected);
  auto [ck2, k] = Kdf2(ck, AsBytes("y"));
  ck = ck2;
  CHECK(ck == Kdf2(expected, AsBytes("y"), CryptoBackend::kReference)[0]);
  CHECK(k != ck);
}

}  // namespace
}  // namespace meshvpn::noise
