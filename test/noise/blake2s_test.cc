#include "meshvpn/noise/blake2s.h"

#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_split.h"
#include "test_util.h"

namespace meshvpn::noise {
namespace {

using testing::Hex;
using testing::Unhex;

const CryptoBackend kBackends[] = {CryptoBackend::kOpenSsl, CryptoBackend::kReference};

// The general BLAKE2s through all three entry points that can compute it: Blake2sKeyed, the
// incremental hasher fed in one piece, and (for unkeyed 32-byte digests) Blake2s256.
std::string AllWays(ByteSpan key, ByteSpan in, size_t out_len, CryptoBackend backend) {
  Bytes one_shot(out_len);
  REQUIRE(Blake2sKeyed(key, in, one_shot, backend).ok());

  auto hasher = Blake2sHasher::Create(key, out_len, backend);
  REQUIRE(hasher.ok());
  hasher->Update(in);
  Bytes incremental(out_len);
  REQUIRE(hasher->Final(incremental).ok());
  CHECK(Hex(incremental) == Hex(one_shot));

  if (key.empty() && out_len == kBlake2sHashSize)
    CHECK(Hex(Blake2s256(in, backend)) == Hex(one_shot));
  return Hex(one_shot);
}

TEST_CASE("BLAKE2s matches the 512 KATs of blake2s-kat.json (unkeyed and keyed)") {
  const auto json = testing::LoadJson("blake2s-kat.json");
  REQUIRE(json.size() == 512);
  int keyed = 0;
  for (CryptoBackend backend : kBackends) {
    INFO("backend " << ToString(backend));
    for (size_t i = 0; i < json.size(); ++i) {
      const auto& kat = json.at(i);
      REQUIRE(kat.at("hash").AsString() == "blake2s");
      INFO("case " << i);
      const Bytes in = Unhex(kat.at("in").AsString());
      const Bytes key = Unhex(kat.at("key").AsString());
      if (!key.empty() && backend == CryptoBackend::kOpenSsl) ++keyed;
      CHECK(AllWays(key, in, kBlake2sHashSize, backend) == kat.at("out").AsString());
    }
  }
  CHECK(keyed == 256);
}

TEST_CASE("BLAKE2s matches the 256 keyed KATs of blake2s-kat.txt") {
  const std::string text = testing::ReadText("blake2s-kat.txt");
  // Blocks of "in:\t<hex>", "key:\t<hex>", "hash:\t<hex>" lines, separated by blank lines.
  struct Kat {
    std::string in, key, hash;
  };
  std::vector<Kat> kats;
  Kat current;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    const std::string l(line.data(), line.size());
    auto value = [&](const std::string& prefix) { return l.substr(prefix.size()); };
    if (l.rfind("in:\t", 0) == 0) current.in = value("in:\t");
    if (l.rfind("key:\t", 0) == 0) current.key = value("key:\t");
    if (l.rfind("hash:\t", 0) == 0) {
      current.hash = value("hash:\t");
      kats.push_back(current);
      current = {};
    }
  }
  REQUIRE(kats.size() == 256);
  for (CryptoBackend backend : kBackends) {
    INFO("backend " << ToString(backend));
    for (size_t i = 0; i < kats.size(); ++i) {
      INFO("case " << i);
      const Bytes in = Unhex(kats[i].in);
      REQUIRE(in.size() == i);  // the file's inputs are 00 01 .. (i-1)
      CHECK(AllWays(Unhex(kats[i].key), in, kBlake2sHashSize, backend) == kats[i].hash);
    }
  }
}

TEST_CASE("BLAKE2s-256(\"abc\") is RFC 7693 Appendix B's value") {
  for (CryptoBackend backend : kBackends) {
    INFO("backend " << ToString(backend));
    CHECK(Hex(Blake2s256(AsBytes("abc"), backend)) ==
          "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982");
  }
}

// RFC 7693 Appendix E: a deterministic input generator (a Fibonacci-like sequence seeded with
// 0xDEAD4BAD * seed, keeping the top byte of each 32-bit term)...
Bytes SelftestSequence(size_t len, uint32_t seed) {
  Bytes out(len);
  uint32_t a = 0xDEAD4BAD * seed;
  uint32_t b = 1;
  for (size_t i = 0; i < len; ++i) {
    const uint32_t t = a + b;
    a = b;
    b = t;
    out[i] = static_cast<uint8_t>(t >> 24);
  }
  return out;
}

// ...and a "grand hash": the unkeyed and keyed digests of every combination of output length
// {16, 20, 28, 32} and input length {0, 3, 64, 65, 255, 1024}, all fed into one BLAKE2s-256.
TEST_CASE("BLAKE2s passes the RFC 7693 Appendix E self-test (grand hash)") {
  for (CryptoBackend backend : kBackends) {
    INFO("backend " << ToString(backend));
    Blake2sHasher grand(backend);
    for (size_t out_len : {16, 20, 28, 32}) {
      for (size_t in_len : {0, 3, 64, 65, 255, 1024}) {
        const Bytes in = SelftestSequence(in_len, static_cast<uint32_t>(in_len));
        Bytes md(out_len);
        REQUIRE(Blake2sKeyed({}, in, md, backend).ok());
        grand.Update(md);
        const Bytes key = SelftestSequence(out_len, static_cast<uint32_t>(out_len));
        REQUIRE(Blake2sKeyed(key, in, md, backend).ok());
        grand.Update(md);
      }
    }
    Blake2sHash result;
    REQUIRE(grand.Final(result).ok());
    CHECK(Hex(result) == "6a411f08ce25adcdfb02aba641451cec53c598b24f4fc787fbdc88797f4c1dfe");
  }
}

TEST_CASE("Blake2s256 of parts equals the hash of their concatenation") {
  const Bytes a = Unhex("00010203"), b = Unhex("ff"), empty;
  for (CryptoBackend backend : kBackends) {
    const Bytes ab = Unhex("00010203ff");
    CHECK(Blake2s256({a, b}, backend) == Blake2s256(ab, backend));
    CHECK(Blake2s256({a, empty, b}, backend) == Blake2s256(ab, backend));
    CHECK(Blake2s256({}, backend) == Blake2s256(ByteSpan(), backend));
    CHECK(Blake2s256({a, b}, backend) != Blake2s256({b, a}, backend));
  }
}

TEST_CASE("Blake2sMac16 is keyed BLAKE2s with a 16-byte output, not a truncated 32-byte one") {
  std::array<uint8_t, 32> key32;
  std::array<uint8_t, 16> key16;
  for (size_t i = 0; i < key32.size(); ++i) key32[i] = static_cast<uint8_t>(0xa0 + i);
  for (size_t i = 0; i < key16.size(); ++i) key16[i] = static_cast<uint8_t>(i);
  const Bytes msg = Unhex("0123456789abcdef0123456789abcdef01");
  for (CryptoBackend backend : kBackends) {
    INFO("backend " << ToString(backend));
    uint8_t general[16], general32[32];
    REQUIRE(Blake2sKeyed(key32, msg, general, backend).ok());
    CHECK(Hex(Blake2sMac16(key32, msg, backend)) == Hex(general));
    REQUIRE(Blake2sKeyed(key32, msg, general32, backend).ok());
    CHECK(Hex(Blake2sMac16(key32, msg, backend)) != Hex(ByteSpan(general32, 16)));
    REQUIRE(Blake2sKeyed(key16, msg, general, backend).ok());
    CHECK(Hex(Blake2sMac16(key16, msg, backend)) == Hex(general));
  }
}

TEST_CASE("Blake2sKeyed rejects keys over 32 bytes and outputs outside 1..32") {
  const Bytes key33(33, 1), key32(32, 1);
  Bytes out32(32), out0, out33(33);
  for (CryptoBackend backend : kBackends) {
    auto s = Blake2sKeyed(key33, {}, out32, backend);
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(s.message() == "BLAKE2s key is 33 bytes; at most 32");
    CHECK(Blake2sKeyed(key32, {}, out0, backend).message() ==
          "BLAKE2s output is 0 bytes; it must be 1..32");
    CHECK(Blake2sKeyed(key32, {}, out33, backend).code() == absl::StatusCode::kInvalidArgument);
    CHECK(Blake2sHasher::Create(key33, 32, backend).status().code() ==
          absl::StatusCode::kInvalidArgument);
    CHECK(Blake2sHasher::Create({}, 0, backend).status().code() ==
          absl::StatusCode::kInvalidArgument);
    CHECK(Blake2sHasher::Create({}, 33, backend).status().code() ==
          absl::StatusCode::kInvalidArgument);
  }
}

TEST_CASE("Blake2sHasher hashes one message: a second Final or a late Update is refused") {
  for (CryptoBackend backend : kBackends) {
    INFO("backend " << ToString(backend));
    Blake2sHasher hasher(backend);
    CHECK(hasher.out_len() == 32);
    CHECK(hasher.backend() == backend);
    hasher.Update(AsBytes("ab"));
    uint8_t wrong[31];
    CHECK(hasher.Final(wrong).message() ==
          "Blake2sHasher: output buffer is 31 bytes, the digest is 32");
    hasher.Update(AsBytes("c"));
    Blake2sHash digest;
    REQUIRE(hasher.Final(digest).ok());
    CHECK(digest == Blake2s256(AsBytes("abc"), backend));
    CHECK(hasher.Final(digest).code() == absl::StatusCode::kFailedPrecondition);

    Blake2sHasher late(backend);
    REQUIRE(late.Final(digest).ok());
    late.Update(AsBytes("x"));
    CHECK(late.Final(digest).code() == absl::StatusCode::kFailedPrecondition);
  }
}

TEST_CASE("Blake2sHasher can be moved mid-message") {
  const Bytes key(7, 0x42);
  for (CryptoBackend backend : kBackends) {
    INFO("backend " << ToString(backend));
    auto created = Blake2sHasher::Create(key, 20, backend);
    REQUIRE(created.ok());
    created->Update(AsBytes("hello, "));
    Blake2sHasher moved = *std::move(created);
    moved.Update(AsBytes("world"));
    Blake2sHasher assigned(backend);
    assigned = std::move(moved);
    Bytes digest(20), expected(20);
    REQUIRE(assigned.Final(digest).ok());
    REQUIRE(Blake2sKeyed(key, AsBytes("hello, world"), expected, backend).ok());
    CHECK(Hex(digest) == Hex(expected));
    CHECK(moved.Final(digest).code() == absl::StatusCode::kFailedPrecondition);
  }
}

TEST_CASE("the OpenSSL backend is available and did not need to fall back") {
  REQUIRE(CheckOpenSslBlake2s().ok());
  const uint64_t before = OpenSslFallbackCount();
  (void)Blake2s256(AsBytes("abc"));
  (void)Blake2sMac16(std::array<uint8_t, 16>{}, AsBytes("abc"));
  CHECK(OpenSslFallbackCount() == before);
}

TEST_CASE("BLAKE2s gives the same answers from many threads at once") {
  // Each thread has its own OpenSSL contexts; this checks they do not interfere (and, under
  // ASan/TSan-style builds, that nothing races).
  const Bytes msg = SelftestSequence(1000, 7);
  const std::array<uint8_t, 32> key{1, 2, 3};
  const Blake2sHash want_hash = Blake2s256(msg, CryptoBackend::kReference);
  const Mac16 want_mac = Blake2sMac16(key, msg, CryptoBackend::kReference);
  std::vector<int> wrong(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const CryptoBackend backend = t % 2 ? CryptoBackend::kReference : CryptoBackend::kOpenSsl;
      for (int i = 0; i < 200; ++i) {
        if (Blake2s256(msg, backend) != want_hash) ++wrong[t];
        if (Blake2sMac16(key, msg, backend) != want_mac) ++wrong[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(wrong == std::vector<int>(4, 0));
}

}  // namespace
}  // namespace meshvpn::noise
