// Tests for the typed keys: construction, encodings, parse errors and secret hygiene.
#include "meshvpn/x25519/keys.h"

#include <catch2/catch.hpp>
#include <concepts>
#include <sstream>
#include <string>
#include <type_traits>
#include <unordered_set>

#include "absl/container/flat_hash_set.h"
#include "meshvpn/base/bytes.h"

namespace meshvpn::x25519 {
namespace {

// Compile-time checks: secrets have no ==, no != and cannot be streamed; public keys can.
template <typename T>
concept EqualityComparable = requires(const T& a, const T& b) {
  a == b;
};
template <typename T>
concept InequalityComparable = requires(const T& a, const T& b) {
  a != b;
};
template <typename T>
concept Streamable = requires(std::ostream& os, const T& t) {
  os << t;
};

static_assert(!EqualityComparable<PrivateKey>);
static_assert(!EqualityComparable<PresharedKey>);
static_assert(!EqualityComparable<SharedSecret>);
static_assert(!InequalityComparable<PrivateKey>);
static_assert(!InequalityComparable<PresharedKey>);
static_assert(!InequalityComparable<SharedSecret>);
static_assert(!Streamable<PrivateKey>);
static_assert(!Streamable<PresharedKey>);
static_assert(!Streamable<SharedSecret>);
static_assert(EqualityComparable<PublicKey>);
static_assert(Streamable<PublicKey>);
static_assert(std::totally_ordered<PublicKey>);
// Roles do not mix: a private key is not a public key or a preshared key.
static_assert(!std::is_convertible_v<PrivateKey, PublicKey>);
static_assert(!std::is_constructible_v<PublicKey, PrivateKey>);
static_assert(!std::is_constructible_v<PresharedKey, PrivateKey>);
static_assert(!std::is_constructible_v<PrivateKey, SharedSecret>);
// Construction from raw bytes is explicit.
static_assert(!std::is_convertible_v<KeySpan, PrivateKey>);
static_assert(!std::is_convertible_v<KeySpan, PublicKey>);

// A key whose bytes are 0, 1, ..., 31.
std::array<uint8_t, kKeySize> Counting() {
  std::array<uint8_t, kKeySize> b{};
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<uint8_t>(i);
  return b;
}
constexpr char kCountingBase64[] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
constexpr char kCountingHex[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

TEST_CASE("public key encodes and parses base64 and hex") {
  const PublicKey key(Counting());
  CHECK(key.ToBase64() == kCountingBase64);
  CHECK(key.ToBase64().size() == kKeyBase64Length);
  CHECK(key.ToHex() == kCountingHex);
  auto from_b64 = PublicKey::FromBase64(kCountingBase64);
  REQUIRE(from_b64.ok());
  CHECK(*from_b64 == key);
  auto from_hex = PublicKey::FromHex(kCountingHex);
  REQUIRE(from_hex.ok());
  CHECK(*from_hex == key);
  auto upper =
      PublicKey::FromHex("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F");
  REQUIRE(upper.ok());
  CHECK(*upper == key);
  auto raw = PublicKey::FromBytes(Counting());
  REQUIRE(raw.ok());
  CHECK(*raw == key);
  std::ostringstream os;
  os << key;
  CHECK(os.str() == kCountingBase64);
}

TEST_CASE("public key equality, ordering, zero and hashing") {
  const PublicKey zero;
  CHECK(zero.IsZero());
  auto bytes = Counting();
  const PublicKey a(bytes);
  CHECK_FALSE(a.IsZero());
  bytes[31] = 0xff;
  const PublicKey b(bytes);
  CHECK(a != b);
  CHECK(a == PublicKey(Counting()));
  CHECK(zero < a);
  CHECK(a < b);  // lexicographic on bytes

  CHECK(absl::Hash<PublicKey>{}(a) == absl::Hash<PublicKey>{}(PublicKey(Counting())));
  CHECK(absl::Hash<PublicKey>{}(a) != absl::Hash<PublicKey>{}(b));  // fails with p = 2^-64
  CHECK(std::hash<PublicKey>{}(a) == std::hash<PublicKey>{}(PublicKey(Counting())));
  std::unordered_set<PublicKey> std_set = {a, b, PublicKey(Counting())};
  CHECK(std_set.size() == 2);
  absl::flat_hash_set<PublicKey> absl_set = {a, b, zero, PublicKey(Counting())};
  CHECK(absl_set.size() == 3);
  CHECK(absl_set.contains(b));
}

TEST_CASE("private key export is explicit and round-trips") {
  const PrivateKey key(Counting());
  CHECK(key.ExportBase64ForConfig() == kCountingBase64);
  CHECK(key.ExportHexForUapi() == kCountingHex);
  auto parsed = PrivateKey::FromBase64(kCountingBase64);
  REQUIRE(parsed.ok());
  CHECK(parsed->ConstantTimeEquals(key));
  auto parsed_hex = PrivateKey::FromHex(kCountingHex);
  REQUIRE(parsed_hex.ok());
  CHECK(parsed_hex->ConstantTimeEquals(key));
  auto raw = PrivateKey::FromBytes(Counting());
  REQUIRE(raw.ok());
  CHECK(raw->ConstantTimeEquals(key));
  // Stored as given: no clamping on import (X25519 clamps when it uses the scalar).
  CHECK(key.ExposeSecretBytes()[0] == 0);
  CHECK(key.ExposeSecretBytes()[31] == 31);
}

TEST_CASE("generated private keys are clamped and distinct") {
  auto a = PrivateKey::Generate();
  auto b = PrivateKey::Generate();
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  for (const PrivateKey* k : {&*a, &*b}) {
    CHECK((k->ExposeSecretBytes()[0] & 7) == 0);
    CHECK((k->ExposeSecretBytes()[31] & 0x80) == 0);
    CHECK((k->ExposeSecretBytes()[31] & 0x40) == 0x40);
    CHECK_FALSE(k->IsZero());
  }
  CHECK_FALSE(a->ConstantTimeEquals(*b));
}

TEST_CASE("preshared keys have a zero default, random generation and encodings") {
  const PresharedKey none;
  CHECK(none.IsZero());
  CHECK(none.ExportBase64ForConfig() == "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
  auto a = PresharedKey::Generate();
  auto b = PresharedKey::Generate();
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK_FALSE(a->IsZero());
  CHECK_FALSE(a->ConstantTimeEquals(*b));
  auto back = PresharedKey::FromBase64(a->ExportBase64ForConfig());
  REQUIRE(back.ok());
  CHECK(back->ConstantTimeEquals(*a));
  auto hex = PresharedKey::FromHex(a->ExportHexForUapi());
  REQUIRE(hex.ok());
  CHECK(hex->ConstantTimeEquals(*a));
}

TEST_CASE("shared secret compares in constant time") {
  const SharedSecret a(Counting());
  auto bytes = Counting();
  bytes[5] ^= 0x10;
  const SharedSecret b(bytes);
  CHECK(a.ConstantTimeEquals(SharedSecret(Counting())));
  CHECK_FALSE(a.ConstantTimeEquals(b));
  CHECK_FALSE(a.IsZero());
  CHECK(SharedSecret().IsZero());
}

TEST_CASE("moving a secret zeroes the source, copies are independent") {
  PrivateKey original(Counting());
  PrivateKey copy = original;
  CHECK(copy.ConstantTimeEquals(original));
  PrivateKey moved = std::move(original);
  CHECK(moved.ConstantTimeEquals(copy));
  CHECK(original.IsZero());  // NOLINT(bugprone-use-after-move): checking the wipe is the point
  PresharedKey psk(Counting());
  PresharedKey other;
  other = std::move(psk);
  CHECK(psk.IsZero());  // NOLINT(bugprone-use-after-move)
  CHECK_FALSE(other.IsZero());
}

TEST_CASE("a secret's storage is wiped on destruction") {
  // Destroy a key in place inside raw storage and look at the bytes it leaves behind.
  alignas(PrivateKey) unsigned char storage[sizeof(PrivateKey)];
  auto* key = new (storage) PrivateKey(Counting());
  REQUIRE(key->ExposeSecretBytes()[31] == 31);
  key->~PrivateKey();
  bool all_zero = true;
  for (unsigned char c : storage) all_zero = all_zero && c == 0;
  CHECK(all_zero);
}

// Parse errors: one table for every key type and both text formats.
struct BadInput {
  const char* text;
  const char* base64_message;  // error when parsed as base64 (nullptr: not tested)
  const char* hex_message;     // error when parsed as hex (nullptr: not tested)
};

template <typename Key>
void CheckParseErrors(const std::string& what) {
  // A real-looking secret in the input must never appear in the error.
  const std::string secret_b64 = "sEcReTsEcReTsEcReTsEcReTsEcReTsEcReTsEcRe";  // 41 chars
  const std::string secret_hex(63, 'a');
  const BadInput cases[] = {
      {"", "a base64 key is 44 characters (32 bytes), got 0 characters",
       "a hex key is 64 characters (32 bytes), got 0 characters"},
      {"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
       "a base64 key is 44 characters (32 bytes), "
       "got 43 characters",
       nullptr},
      {"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
       "a base64 key is 44 characters (32 bytes), got 45 characters", nullptr},
      {"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh*=", "base64: invalid character at offset 42",
       nullptr},
      {"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd-h8=", "base64: invalid character at offset 40",
       nullptr},
      {"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=",
       "base64: non-canonical encoding (unused bits set)", nullptr},
      {"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh==", "base64: decodes to 31 bytes, want 32",
       nullptr},
      {"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1g", nullptr,
       "hex: invalid character at offset 63"},
      {"0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", nullptr,
       "hex: invalid character at offset 1"},
      {"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e", nullptr,
       "a hex key is 64 characters (32 bytes), got 62 characters"},
  };
  for (const BadInput& c : cases) {
    INFO(c.text);
    if (c.base64_message != nullptr) {
      auto r = Key::FromBase64(c.text);
      REQUIRE_FALSE(r.ok());
      CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
      CHECK(std::string(r.status().message()) == what + ": " + c.base64_message);
    }
    if (c.hex_message != nullptr) {
      auto r = Key::FromHex(c.text);
      REQUIRE_FALSE(r.ok());
      CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
      CHECK(std::string(r.status().message()) == what + ": " + c.hex_message);
    }
  }
  for (const std::string& text : {secret_b64, secret_b64 + "==!", secret_hex, secret_hex + "g"}) {
    for (const absl::Status& status :
         {Key::FromBase64(text).status(), Key::FromHex(text).status()}) {
      REQUIRE_FALSE(status.ok());
      CHECK(std::string(status.message()).find("sEcReT") == std::string::npos);
      CHECK(std::string(status.message()).find("aaaa") == std::string::npos);
    }
  }
  auto short_raw = Key::FromBytes(Bytes(31, 7));
  REQUIRE_FALSE(short_raw.ok());
  CHECK(std::string(short_raw.status().message()) == what + ": a key is 32 bytes, got 31 bytes");
}

TEST_CASE("key parse errors are clear and never echo the input") {
  CheckParseErrors<PublicKey>("x25519 public key");
  CheckParseErrors<PrivateKey>("x25519 private key");
  CheckParseErrors<PresharedKey>("preshared key");
}

}  // namespace
}  // namespace meshvpn::x25519
