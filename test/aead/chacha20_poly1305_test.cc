#include "meshvpn/aead/chacha20_poly1305.h"

#include <catch2/catch.hpp>
#include <concepts>
#include <ostream>
#include <type_traits>
#include <vector>

#include "absl/strings/str_format.h"
#include "meshvpn/aead/chacha20_poly1305_ref.h"
#include "meshvpn/base/crypto_backend.h"
#include "test_util.h"

namespace meshvpn::aead {
namespace {

using testing::AllZero;
using testing::Fixed;
using testing::Hex;
using testing::LoadJson;
using testing::Unhex;

template <typename T>
concept Streamable = requires(std::ostream& os, const T& t) {
  os << t;
};

// Keys are secrets: no copies, no comparison, no printing.
static_assert(!std::is_copy_constructible_v<ChaCha20Poly1305>);
static_assert(!std::is_copy_assignable_v<ChaCha20Poly1305>);
static_assert(std::is_nothrow_move_constructible_v<ChaCha20Poly1305>);
static_assert(!std::equality_comparable<ChaCha20Poly1305>);
static_assert(!Streamable<ChaCha20Poly1305>);

ChaCha20Poly1305 MakeKey(const Bytes& key, CryptoBackend backend) {
  auto k = ChaCha20Poly1305::Create(key, backend);
  REQUIRE(k.ok());
  return *std::move(k);
}

TEST_CASE("ChaCha20-Poly1305 matches RFC 8439 2.8.2 and A.5 in both backends") {
  const auto vectors = LoadJson("rfc8439_vectors.json");
  for (CryptoBackend backend : kAllCryptoBackends) {
    for (const auto& v : vectors.at("aead").AsArray()) {
      INFO(ToString(backend) << " " << v.at("section").AsString());
      const Bytes nonce = Unhex(v.at("nonce").AsString());
      const Bytes aad = Unhex(v.at("aad").AsString());
      const Bytes plaintext = Unhex(v.at("plaintext").AsString());
      const std::string sealed_hex = v.at("ciphertext").AsString() + v.at("tag").AsString();
      ChaCha20Poly1305 key = MakeKey(Unhex(v.at("key").AsString()), backend);

      Bytes buffer = plaintext;
      buffer.resize(plaintext.size() + kTagSize);
      REQUIRE(key.Seal(nonce, aad, buffer, plaintext.size()) == AeadResult::kOk);
      CHECK(Hex(buffer) == sealed_hex);

      REQUIRE(key.Open(nonce, aad, buffer) == AeadResult::kOk);
      CHECK(Hex(ByteSpan(buffer).first(plaintext.size())) == Hex(plaintext));
    }
  }
}

TEST_CASE("the reference AEAD free functions match RFC 8439 2.8.2") {
  const auto vectors = LoadJson("rfc8439_vectors.json");
  const auto& v = vectors.at("aead").at(size_t{0});
  const Bytes key = Unhex(v.at("key").AsString());
  const Bytes nonce = Unhex(v.at("nonce").AsString());
  const Bytes aad = Unhex(v.at("aad").AsString());
  Bytes data = Unhex(v.at("plaintext").AsString());
  uint8_t tag[16];
  ref::SealDetached(Fixed<32>(key), Fixed<12>(nonce), aad, data, tag);
  CHECK(Hex(data) == v.at("ciphertext").AsString());
  CHECK(Hex(tag) == v.at("tag").AsString());
  REQUIRE(ref::OpenDetached(Fixed<32>(key), Fixed<12>(nonce), aad, data, tag));
  CHECK(Hex(data) == v.at("plaintext").AsString());
  ref::SealDetached(Fixed<32>(key), Fixed<12>(nonce), aad, data, tag);  // ciphertext again
  tag[0] ^= 0x80;
  CHECK_FALSE(ref::OpenDetached(Fixed<32>(key), Fixed<12>(nonce), aad, data, tag));
  CHECK(AllZero(data));
}

TEST_CASE("CounterNonce is WireGuard's 4 zero bytes + little-endian counter") {
  CHECK(Hex(CounterNonce(0)) == "000000000000000000000000");
  CHECK(Hex(CounterNonce(1)) == "000000000100000000000000");
  CHECK(Hex(CounterNonce(0x0102030405060708)) == "000000000807060504030201");
  CHECK(Hex(CounterNonce(~uint64_t{0})) == "00000000ffffffffffffffff");
}

TEST_CASE("SealCounter/OpenCounter equal Seal/Open with CounterNonce") {
  const Bytes key_bytes(32, 0x42);
  for (CryptoBackend backend : kAllCryptoBackends) {
    INFO(ToString(backend));
    ChaCha20Poly1305 key = MakeKey(key_bytes, backend);
    const Bytes aad = {1, 2, 3};
    Bytes a(40 + kTagSize, 0x33), b = a;
    REQUIRE(key.SealCounter(123456789, aad, a, 40) == AeadResult::kOk);
    REQUIRE(key.Seal(CounterNonce(123456789), aad, b, 40) == AeadResult::kOk);
    CHECK(a == b);
    REQUIRE(key.OpenCounter(123456789, aad, a) == AeadResult::kOk);
    CHECK(Bytes(a.begin(), a.begin() + 40) == Bytes(40, 0x33));
    CHECK(key.OpenCounter(123456790, aad, b) == AeadResult::kAuthenticationFailed);
    CHECK(AllZero(b));
  }
}

TEST_CASE("Create rejects keys that are not 32 bytes without echoing them") {
  for (size_t size : {0, 16, 31, 33, 64}) {
    const Bytes key(size, 0xab);
    auto k = ChaCha20Poly1305::Create(key);
    REQUIRE_FALSE(k.ok());
    CHECK(k.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(k.status().message()) ==
          absl::StrFormat("ChaCha20-Poly1305 key must be 32 bytes, got %d", size));
  }
}

TEST_CASE("size checks return their result codes and leave the buffer alone") {
  const Bytes key_bytes(32, 7);
  for (CryptoBackend backend : kAllCryptoBackends) {
    INFO(ToString(backend));
    ChaCha20Poly1305 key = MakeKey(key_bytes, backend);
    CHECK(key.has_key());
    CHECK(key.backend() == backend);
    const Bytes original(64, 0x77);

    for (size_t nonce_size : {0, 8, 11, 13, 16, 24}) {
      Bytes nonce(nonce_size, 1), buffer = original;
      CHECK(key.Seal(nonce, {}, buffer, 48) == AeadResult::kInvalidNonceSize);
      CHECK(key.Open(nonce, {}, buffer) == AeadResult::kInvalidNonceSize);
      CHECK(buffer == original);
    }
    Bytes buffer = original;
    // 49 + 16 > 64: no room for the tag.
    CHECK(key.SealCounter(0, {}, buffer, 49) == AeadResult::kBufferTooSmall);
    CHECK(key.SealCounter(0, {}, MutableByteSpan(buffer).first(15), 0) ==
          AeadResult::kBufferTooSmall);
    CHECK(key.OpenCounter(0, {}, MutableByteSpan(buffer).first(15)) == AeadResult::kBufferTooSmall);
    CHECK(key.SealCounter(0, {}, buffer, kMaxPlaintextSize + 1) == AeadResult::kMessageTooLong);
    CHECK(buffer == original);
    // Exactly enough room works; an empty plaintext seals to just a tag.
    CHECK(key.SealCounter(0, {}, buffer, 48) == AeadResult::kOk);
    Bytes tag_only(kTagSize);
    REQUIRE(key.SealCounter(0, {}, tag_only, 0) == AeadResult::kOk);
    CHECK_FALSE(AllZero(tag_only));
    CHECK(key.OpenCounter(0, {}, tag_only) == AeadResult::kOk);
  }
}

TEST_CASE("an empty or moved-from key object refuses to work") {
  ChaCha20Poly1305 empty;
  Bytes buffer(32, 1);
  CHECK_FALSE(empty.has_key());
  CHECK(empty.SealCounter(0, {}, buffer, 16) == AeadResult::kNoKey);
  CHECK(empty.OpenCounter(0, {}, buffer) == AeadResult::kNoKey);
  CHECK(buffer == Bytes(32, 1));

  for (CryptoBackend backend : kAllCryptoBackends) {
    INFO(ToString(backend));
    ChaCha20Poly1305 a = MakeKey(Bytes(32, 9), backend);
    Bytes sealed(16 + kTagSize, 5);
    REQUIRE(a.SealCounter(1, {}, sealed, 16) == AeadResult::kOk);
    ChaCha20Poly1305 b = std::move(a);
    CHECK_FALSE(a.has_key());  // NOLINT(bugprone-use-after-move): checking the moved-from state
    CHECK(a.OpenCounter(1, {}, sealed) == AeadResult::kNoKey);
    ChaCha20Poly1305 c;
    c = std::move(b);
    REQUIRE(c.OpenCounter(1, {}, sealed) == AeadResult::kOk);
    CHECK(Bytes(sealed.begin(), sealed.begin() + 16) == Bytes(16, 5));
  }
}

TEST_CASE("batch seal and open equal single calls and report per-packet results") {
  const Bytes key_bytes(32, 0x5c);
  for (CryptoBackend backend : kAllCryptoBackends) {
    INFO(ToString(backend));
    ChaCha20Poly1305 key = MakeKey(key_bytes, backend);
    constexpr size_t kPackets = 9;
    const Bytes aad = {0xaa, 0xbb};
    std::vector<Bytes> batch(kPackets), single(kPackets);
    std::vector<AeadPacket> packets(kPackets);
    for (size_t i = 0; i < kPackets; ++i) {
      const size_t len = i * 37;
      batch[i].assign(len + kTagSize, static_cast<uint8_t>(i));
      single[i] = batch[i];
      packets[i] = {.counter = 1000 + i, .aad = aad, .buffer = batch[i], .length = len};
      REQUIRE(key.SealCounter(1000 + i, aad, single[i], len) == AeadResult::kOk);
    }
    CHECK(key.SealBatch(packets) == kPackets);
    for (size_t i = 0; i < kPackets; ++i) {
      CHECK(packets[i].result == AeadResult::kOk);
      CHECK(batch[i] == single[i]);
    }

    // Open: corrupt packet 3's tag, give packet 5 the wrong counter, make packet 7 too short.
    for (size_t i = 0; i < kPackets; ++i) packets[i].length = batch[i].size();
    batch[3].back() ^= 1;
    packets[5].counter += 1;
    packets[7].length = kTagSize - 1;
    CHECK(key.OpenBatch(packets) == kPackets - 3);
    for (size_t i = 0; i < kPackets; ++i) {
      INFO("packet " << i);
      if (i == 3 || i == 5) {
        CHECK(packets[i].result == AeadResult::kAuthenticationFailed);
        CHECK(AllZero(batch[i]));
      } else if (i == 7) {
        CHECK(packets[i].result == AeadResult::kBufferTooSmall);
      } else {
        CHECK(packets[i].result == AeadResult::kOk);
        CHECK(Bytes(batch[i].begin(), batch[i].end() - kTagSize) ==
              Bytes(i * 37, static_cast<uint8_t>(i)));
      }
    }
    // A length beyond the buffer is refused, not read.
    AeadPacket bad{.counter = 0, .aad = {}, .buffer = batch[1], .length = batch[1].size() + 1};
    CHECK(key.OpenBatch(std::span(&bad, 1)) == 0);
    CHECK(bad.result == AeadResult::kBufferTooSmall);
  }
}

TEST_CASE("AeadResult names and statuses") {
  CHECK(ToString(AeadResult::kOk) == "ok");
  CHECK(ToString(AeadResult::kInvalidNonceSize) ==
        "invalid nonce size: ChaCha20-Poly1305 takes 12 bytes, XChaCha20-Poly1305 24 bytes");
  CHECK(ToStatus(AeadResult::kOk).ok());
  CHECK(ToStatus(AeadResult::kAuthenticationFailed).code() == absl::StatusCode::kUnauthenticated);
  CHECK(ToStatus(AeadResult::kInvalidNonceSize).code() == absl::StatusCode::kInvalidArgument);
  CHECK(ToStatus(AeadResult::kBufferTooSmall).code() == absl::StatusCode::kInvalidArgument);
  CHECK(ToStatus(AeadResult::kMessageTooLong).code() == absl::StatusCode::kInvalidArgument);
  CHECK(ToStatus(AeadResult::kNoKey).code() == absl::StatusCode::kFailedPrecondition);
  CHECK(ToStatus(AeadResult::kBackendFailure).code() == absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace meshvpn::aead
