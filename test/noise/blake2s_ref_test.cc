// The reference BLAKE2s driven directly through its state (blake2s_ref.h): the buffering rule,
// the keyed first block, forking a state by copying it, and wiping in Final.
#include "meshvpn/noise/blake2s_ref.h"

#include <catch2/catch.hpp>

#include "meshvpn/noise/blake2s.h"
#include "test_util.h"

namespace meshvpn::noise {
namespace {

using testing::Hex;

TEST_CASE("ref: Init puts the parameter block into h[0] only (sequential mode)") {
  ref::Blake2sState unkeyed, keyed;
  ref::Init(unkeyed, 32, {});
  const uint8_t key[5] = {1, 2, 3, 4, 5};
  ref::Init(keyed, 16, key);
  // h[0] = IV[0] ^ 0x0101kknn; the other words are the IV.
  CHECK(unkeyed.h[0] == (0x6A09E667u ^ 0x01010020u));
  CHECK(keyed.h[0] == (0x6A09E667u ^ 0x01010510u));
  CHECK(unkeyed.h[1] == 0xBB67AE85u);
  CHECK(keyed.h[7] == 0x5BE0CD19u);
  // The key is buffered as a full zero-padded block, not yet compressed.
  CHECK(keyed.buf_len == 64);
  CHECK(keyed.buf[4] == 5);
  CHECK(keyed.buf[5] == 0);
  CHECK(unkeyed.buf_len == 0);
}

TEST_CASE("ref: a full buffer is compressed only when more input arrives") {
  ref::Blake2sState s;
  ref::Init(s, 32, {});
  const Bytes block(64, 0xab);
  ref::Update(s, block);
  CHECK(s.counter == 0);  // it might be the last block, so it waits
  CHECK(s.buf_len == 64);
  const uint8_t one = 1;
  ref::Update(s, ByteSpan(&one, 1));
  CHECK(s.counter == 64);  // now it is known not to be last
  CHECK(s.buf_len == 1);
  // Long input takes the direct path but still leaves the last (partial or full) block buffered.
  const Bytes big(64 * 3, 0xcd);
  ref::Update(s, big);
  // 64 + 1 + 192 = 257 bytes so far: four blocks compressed, one byte buffered.
  CHECK(s.counter == 256);
  CHECK(s.buf_len == 1);
}

TEST_CASE("ref: a copied state forks the hash") {
  ref::Blake2sState prefix;
  ref::Init(prefix, 32, {});
  ref::Update(prefix, AsBytes("Noise_"));
  ref::Blake2sState fork = prefix;
  ref::Update(prefix, AsBytes("IK"));
  ref::Update(fork, AsBytes("NN"));
  Blake2sHash a, b;
  ref::Final(prefix, a);
  ref::Final(fork, b);
  CHECK(a == Blake2s256(AsBytes("Noise_IK"), CryptoBackend::kOpenSsl));
  CHECK(b == Blake2s256(AsBytes("Noise_NN"), CryptoBackend::kOpenSsl));
}

TEST_CASE("ref: Final wipes the whole state") {
  ref::Blake2sState s;
  const Bytes key(32, 0x77);
  ref::Init(s, 32, key);
  ref::Update(s, AsBytes("secret message"));
  Blake2sHash out;
  ref::Final(s, out);
  const auto* bytes = reinterpret_cast<const uint8_t*>(&s);
  size_t nonzero = 0;
  for (size_t i = 0; i < sizeof(s); ++i) nonzero += bytes[i] != 0;
  CHECK(nonzero == 0);
  CHECK(Hex(out) != Hex(Blake2sHash{}));
}

}  // namespace
}  // namespace meshvpn::noise
