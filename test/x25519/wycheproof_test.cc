// Runs every Wycheproof X25519 case (testdata/x25519_test.json) on both backends.
//
// The file's results are "valid" (must compute `shared`), "acceptable" (the standard allows
// either outcome; the file lists what a computing implementation gets) and "invalid" (must fail;
// this file has none, but the loop handles them). Our policy for "acceptable", as documented in
// docs/x25519.md:
//   - an all-zero expected shared secret (flag ZeroSharedSecret: a low-order public key) must be
//     rejected with kLowOrderPublicKeyMessage (RFC 7748 section 6.1, and WireGuard requires it);
//   - everything else (twist points, non-canonical public keys, edge cases) must compute exactly
//     the expected value, with bit 255 of the public key ignored.
#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "common/json.h"
#include "meshvpn/base/bytes.h"
#include "meshvpn/base/crypto_backend.h"
#include "meshvpn/x25519/x25519.h"

namespace meshvpn::x25519 {
namespace {

using test::JsonValue;

std::array<uint8_t, kKeySize> Bytes32(const std::string& hex) {
  std::array<uint8_t, kKeySize> out{};
  REQUIRE(HexDecodeInto(hex, out).ok());
  return out;
}

bool HasFlag(const JsonValue& test_case, std::string_view flag) {
  for (const JsonValue& f : test_case.at("flags").AsArray()) {
    if (f.AsString() == flag) return true;
  }
  return false;
}

TEST_CASE("Wycheproof x25519_test.json, every case, both backends") {
  absl::StatusOr<JsonValue> file = test::ReadJsonFile(MESHVPN_X25519_TESTDATA "/x25519_test.json");
  REQUIRE(file.ok());
  REQUIRE(file->at("algorithm").AsString() == "XDH");
  REQUIRE(file->at("schema").AsString() == "xdh_comp_schema_v1.json");
  const int64_t declared = file->at("numberOfTests").AsInt64();

  for (CryptoBackend backend : kAllCryptoBackends) {
    INFO("backend " << std::string(ToString(backend)));
    std::map<std::string, int> outcomes;  // e.g. "acceptable/rejected" -> count
    int64_t seen = 0;
    for (const JsonValue& group : file->at("testGroups").AsArray()) {
      REQUIRE(group.at("type").AsString() == "XdhComp");
      REQUIRE(group.at("curve").AsString() == "curve25519");
      for (const JsonValue& tc : group.at("tests").AsArray()) {
        ++seen;
        const std::string& result = tc.at("result").AsString();
        INFO("tcId " << tc.at("tcId").AsInt64() << " (" << tc.at("comment").AsString() << ") "
                     << result);
        const PrivateKey key(Bytes32(tc.at("private").AsString()));
        const PublicKey peer(Bytes32(tc.at("public").AsString()));
        const std::string& expected = tc.at("shared").AsString();
        const bool zero_expected = expected == std::string(64, '0');
        CHECK(zero_expected == HasFlag(tc, "ZeroSharedSecret"));

        absl::StatusOr<SharedSecret> got = ComputeSharedSecret(key, peer, backend);
        if (result == "invalid" || zero_expected) {
          // Invalid cases and low-order points: must fail, and say why for the latter.
          REQUIRE_FALSE(got.ok());
          if (zero_expected) CHECK(got.status().message() == kLowOrderPublicKeyMessage);
          ++outcomes[result + "/rejected"];
        } else {
          REQUIRE((result == "valid" || result == "acceptable"));
          REQUIRE(got.ok());
          CHECK(HexEncode(got->ExposeSecretBytes()) == expected);
          ++outcomes[result + "/computed"];
        }
      }
    }
    CHECK(seen == declared);
    // The file's make-up (518 cases): 264 valid, 223 acceptable computed, 31 acceptable rejected.
    CHECK(outcomes["valid/computed"] == 264);
    CHECK(outcomes["acceptable/computed"] == 223);
    CHECK(outcomes["acceptable/rejected"] == 31);
    CHECK(outcomes.size() == 3);
  }
}

}  // namespace
}  // namespace meshvpn::x25519
