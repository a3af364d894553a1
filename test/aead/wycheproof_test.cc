// Every Wycheproof ChaCha20-Poly1305 and XChaCha20-Poly1305 case, in both backends. Valid cases
// must seal to the expected bytes and open back; invalid ones must be rejected (a bad tag, or a
// nonce size our API refuses with kInvalidNonceSize); "acceptable" may go either way.
#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "meshvpn/aead/chacha20_poly1305.h"
#include "meshvpn/aead/xchacha20_poly1305.h"
#include "test_util.h"

namespace meshvpn::aead {
namespace {

using testing::AllZero;
using testing::Hex;
using testing::LoadJson;
using testing::Unhex;

struct Tally {
  int total = 0;
  int valid_passed = 0;
  int invalid_tag_rejected = 0;
  int invalid_nonce_rejected = 0;
  int acceptable = 0;
};

// Runs one file against a key type (ChaCha20Poly1305 or XChaCha20Poly1305).
template <typename Key>
Tally RunFile(const std::string& file, CryptoBackend backend, size_t nonce_size) {
  const auto doc = LoadJson(file);
  Tally tally;
  for (const auto& group : doc.at("testGroups").AsArray()) {
    REQUIRE(group.at("tagSize").AsInt64() == 128);
    const size_t iv_bits = static_cast<size_t>(group.at("ivSize").AsInt64());
    for (const auto& t : group.at("tests").AsArray()) {
      ++tally.total;
      const int64_t id = t.at("tcId").AsInt64();
      const std::string result = t.at("result").AsString();
      INFO(file << " " << ToString(backend) << " tcId " << id << " (" << result << ", "
                << t.at("comment").AsString() << ")");
      auto key = Key::Create(Unhex(t.at("key").AsString()), backend);
      REQUIRE(key.ok());
      const Bytes nonce = Unhex(t.at("iv").AsString());
      REQUIRE(nonce.size() * 8 == iv_bits);
      const Bytes aad = Unhex(t.at("aad").AsString());
      const Bytes msg = Unhex(t.at("msg").AsString());
      const std::string sealed_hex = t.at("ct").AsString() + t.at("tag").AsString();

      // Open the published ciphertext || tag.
      Bytes sealed = Unhex(sealed_hex);
      const AeadResult opened = key->Open(nonce, aad, sealed);
      // Seal the published plaintext.
      Bytes buffer = msg;
      buffer.resize(msg.size() + kTagSize);
      const AeadResult seal = key->Seal(nonce, aad, buffer, msg.size());

      if (nonce.size() != nonce_size) {
        // A nonce of the wrong size is refused up front by both calls, whatever the file expects.
        CHECK(result == "invalid");
        CHECK(opened == AeadResult::kInvalidNonceSize);
        CHECK(seal == AeadResult::kInvalidNonceSize);
        ++tally.invalid_nonce_rejected;
      } else if (result == "valid") {
        CHECK(seal == AeadResult::kOk);
        CHECK(Hex(buffer) == sealed_hex);
        REQUIRE(opened == AeadResult::kOk);
        CHECK(Hex(ByteSpan(sealed).first(msg.size())) == Hex(msg));
        ++tally.valid_passed;
      } else if (result == "invalid") {
        CHECK(opened == AeadResult::kAuthenticationFailed);
        CHECK(AllZero(sealed));  // nothing of the forged message is released
        ++tally.invalid_tag_rejected;
      } else {
        REQUIRE(result == "acceptable");
        CHECK((opened == AeadResult::kOk || opened == AeadResult::kAuthenticationFailed));
        ++tally.acceptable;
      }
    }
  }
  REQUIRE(tally.total == doc.at("numberOfTests").AsInt64());
  return tally;
}

TEST_CASE("Wycheproof chacha20_poly1305_test.json in both backends") {
  for (CryptoBackend backend : kAllCryptoBackends) {
    const Tally t = RunFile<ChaCha20Poly1305>("chacha20_poly1305_test.json", backend, kNonceSize);
    INFO(ToString(backend));
    CHECK(t.total == 325);
    CHECK(t.valid_passed == 256);
    CHECK(t.invalid_tag_rejected == 60);
    CHECK(t.invalid_nonce_rejected == 9);
    CHECK(t.acceptable == 0);
  }
}

TEST_CASE("Wycheproof xchacha20_poly1305_test.json in both backends") {
  for (CryptoBackend backend : kAllCryptoBackends) {
    const Tally t =
        RunFile<XChaCha20Poly1305>("xchacha20_poly1305_test.json", backend, kXNonceSize);
    INFO(ToString(backend));
    CHECK(t.total == 315);
    CHECK(t.valid_passed == 246);
    CHECK(t.invalid_tag_rejected == 60);
    CHECK(t.invalid_nonce_rejected == 9);
    CHECK(t.acceptable == 0);
  }
}

}  // namespace
}  // namespace meshvpn::aead
