// BLAKE2s, written from RFC 7693 to be read in a course. Read it top to bottom:
//
//   1. the constants (IV and the SIGMA message schedule),
//   2. G, the mixing function: four additions, four XORs, four rotations,
//   3. Compress: ten rounds of eight G calls fold one 64-byte block into the chaining value,
//   4. the parameter block, which makes every (output length, key length) a different function,
//   5. Init / Update / Final: the "hash an arbitrary message" wrapper around Compress.
//
// Why this is constant-time: BLAKE2s is ARX (Add, Rotate, XOR on 32-bit words). Every operation
// takes the same time whatever the values; there are no table lookups indexed by data (SIGMA is
// indexed by the round number, which is public) and no branches on key or message bytes. The only
// branches depend on lengths, which are public.
#include "meshvpn/noise/blake2s_ref.h"

#include <algorithm>
#include <cstring>

#include "meshvpn/base/secure.h"

namespace meshvpn::noise::ref {
namespace {

// ---- 1. Constants ------------------------------------------------------------------------------

// The initialisation vector: the same eight words SHA-256 starts from (the first 32 bits of the
// fractional parts of the square roots of the first eight primes). "Nothing up my sleeve" numbers.
constexpr std::array<uint32_t, 8> kIv = {0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A,
                                         0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19};

// The message schedule: round r feeds the sixteen message words to G in the order kSigma[r].
// Each row is a permutation of 0..15, so every word enters every round exactly once, but in a
// different place, so that after a few rounds every output bit depends on every input bit.
constexpr uint8_t kSigma[10][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
    {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
    {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
    {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
    {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
    {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
    {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
    {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
    {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
};

constexpr int kRounds = 10;  // BLAKE2b does 12 rounds on 64-bit words; BLAKE2s 10 on 32-bit words

// BLAKE2 is little-endian: byte 0 is the least significant byte of word 0. Written byte by byte so
// it is correct on any machine (compilers turn it into a single load on x86).
uint32_t Load32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}

void Store32(uint8_t* p, uint32_t w) {
  p[0] = static_cast<uint8_t>(w);
  p[1] = static_cast<uint8_t>(w >> 8);
  p[2] = static_cast<uint8_t>(w >> 16);
  p[3] = static_cast<uint8_t>(w >> 24);
}

// Rotate right by n bits (0 < n < 32). Compilers emit one `ror` instruction.
constexpr uint32_t RotR(uint32_t w, int n) { return (w >> n) | (w << (32 - n)); }

// ---- 2. G, the mixing function -----------------------------------------------------------------

// G mixes two message words x and y into four words a, b, c, d of the 4x4 working vector. The
// rotation distances 16, 12, 8, 7 are the ones ChaCha uses (BLAKE's core is ChaCha's quarter
// round with message words added in). Additions are mod 2^32 (unsigned overflow wraps, which is
// well-defined in C++); they are the only non-linear step, XOR and rotation spread their effect.
//
// (always_inline: G is called 80 times per block. Inlined, the sixteen words of v live in
// registers; as a real call they go through memory and the hash runs about half as fast.)
[[gnu::always_inline]] inline void G(uint32_t& a, uint32_t& b, uint32_t& c, uint32_t& d, uint32_t x,
                                     uint32_t y) {
  a = a + b + x;
  d = RotR(d ^ a, 16);
  c = c + d;
  b = RotR(b ^ c, 12);
  a = a + b + y;
  d = RotR(d ^ a, 8);
  c = c + d;
  b = RotR(b ^ c, 7);
}

// ---- 3. The compression function ---------------------------------------------------------------

// Folds one 64-byte block into the chaining value h. `counter` is the number of message bytes
// hashed so far *including* this block (for the last block: only the real bytes, not the zero
// padding), and `last` is true for the final block only. Both are mixed into the working vector,
// so the same block at another position, or as the last block, gives a different result: that is
// what makes padding unambiguous without a length field in the message.
void Compress(std::array<uint32_t, 8>& h, const uint8_t block[kBlockSize], uint64_t counter,
              bool last) {
  // The working vector, viewed as a 4x4 matrix:
  //   v0  v1  v2  v3      <- the chaining value h[0..3]
  //   v4  v5  v6  v7      <- the chaining value h[4..7]
  //   v8  v9  v10 v11     <- IV[0..3]
  //   v12 v13 v14 v15     <- IV[4..7] ^ (counter low, counter high, final flag, 0)
  uint32_t v[16];
  for (int i = 0; i < 8; ++i) {
    v[i] = h[i];
    v[i + 8] = kIv[i];
  }
  v[12] ^= static_cast<uint32_t>(counter);        // t0: low 32 bits of the byte counter
  v[13] ^= static_cast<uint32_t>(counter >> 32);  // t1: high 32 bits
  // f0: all ones for the last block. (f1 in v[15] is for tree hashing, unused here.) The branch
  // depends only on whether this is the last block, which is public.
  if (last) v[14] = ~v[14];

  uint32_t m[16];  // the block as sixteen little-endian words
  for (int i = 0; i < 16; ++i) m[i] = Load32(block + 4 * i);

  for (int r = 0; r < kRounds; ++r) {
    const uint8_t* s = kSigma[r];
    // First the four columns of the matrix...
    G(v[0], v[4], v[8], v[12], m[s[0]], m[s[1]]);
    G(v[1], v[5], v[9], v[13], m[s[2]], m[s[3]]);
    G(v[2], v[6], v[10], v[14], m[s[4]], m[s[5]]);
    G(v[3], v[7], v[11], v[15], m[s[6]], m[s[7]]);
    // ...then the four diagonals, so that every word meets every other within two half-rounds.
    G(v[0], v[5], v[10], v[15], m[s[8]], m[s[9]]);
    G(v[1], v[6], v[11], v[12], m[s[10]], m[s[11]]);
    G(v[2], v[7], v[8], v[13], m[s[12]], m[s[13]]);
    G(v[3], v[4], v[9], v[14], m[s[14]], m[s[15]]);
  }

  // Feed-forward: XOR both halves of the working vector into h. Without it the rounds could be
  // run backwards from the output (they are a permutation of v); with it they cannot.
  for (int i = 0; i < 8; ++i) h[i] ^= v[i] ^ v[i + 8];

  // v and m are derived from the key and the message. Like most implementations we do not wipe
  // them for every block (that would cost about a tenth of the speed); they are ordinary stack
  // slots that the next call overwrites. What outlives a hash is the state object, and Final
  // wipes that.
}

}  // namespace

// ---- 4. The parameter block, and Init ----------------------------------------------------------

void Init(Blake2sState& state, size_t out_len, ByteSpan key) {
  // The 32-byte parameter block (RFC 7693 section 2.5; the BLAKE2 paper section 2.8). Its bytes
  // are XORed into the IV, so every choice below starts a different hash function: BLAKE2s with
  // 16-byte output is not a truncated BLAKE2s-256, and a keyed hash is not an unkeyed one.
  //
  //   offset  size  field             value here
  //   0       1     digest length     out_len (1..32)
  //   1       1     key length        key.size() (0..32)
  //   2       1     fanout            1  (sequential mode: no tree)
  //   3       1     depth             1
  //   4       4     leaf length       0
  //   8       6     node offset       0
  //   14      1     node depth        0
  //   15      1     inner length      0
  //   16      8     salt              0
  //   24      8     personalization   0
  //
  // In sequential mode only the first word is not zero: h[0] = IV[0] ^ 0x0101kknn.
  uint8_t param[32] = {};
  param[0] = static_cast<uint8_t>(out_len);
  param[1] = static_cast<uint8_t>(key.size());
  param[2] = 1;  // fanout
  param[3] = 1;  // depth

  for (int i = 0; i < 8; ++i) state.h[i] = kIv[i] ^ Load32(param + 4 * i);
  state.counter = 0;
  state.buf.fill(0);
  state.buf_len = 0;
  state.out_len = out_len;

  // Keyed mode (RFC 7693 section 3.3): the key, zero-padded to a full block, is the first block
  // of the message. We only buffer it here: if the message turns out to be empty, this padded key
  // block is itself the last block and must be compressed with the final flag set.
  if (!key.empty()) {
    std::memcpy(state.buf.data(), key.data(), key.size());
    state.buf_len = kBlockSize;
  }
}

// ---- 5. Update and Final -----------------------------------------------------------------------

// The subtle rule of BLAKE2's padding: the *last* block is compressed with the final flag, and we
// cannot know a block is the last until more input arrives (or Final is called). So Update never
// compresses a block that might be the last one: a full buffer waits until at least one more byte
// comes. That is why `buf` holds up to a full block (SHA-2, which pads with a length field, can
// compress a full buffer at once).
void Update(Blake2sState& state, ByteSpan data) {
  while (!data.empty()) {
    if (state.buf_len == kBlockSize) {
      // More input follows, so the buffered block is not the last: compress it now.
      state.counter += kBlockSize;
      Compress(state.h, state.buf.data(), state.counter, /*last=*/false);
      state.buf_len = 0;
    }
    if (state.buf_len == 0) {
      // Fast path: whole blocks straight from the caller's memory, without copying them into
      // buf. Stop while more than a block remains, so the possibly-last block is buffered.
      while (data.size() > kBlockSize) {
        state.counter += kBlockSize;
        Compress(state.h, data.data(), state.counter, /*last=*/false);
        data = data.subspan(kBlockSize);
      }
    }
    const size_t take = std::min(kBlockSize - state.buf_len, data.size());
    std::memcpy(state.buf.data() + state.buf_len, data.data(), take);
    state.buf_len += take;
    data = data.subspan(take);
  }
}

void Final(Blake2sState& state, MutableByteSpan out) {
  // The counter counts real bytes only; the zero padding of the last block is not counted. An
  // empty unkeyed message is one all-zero block with counter 0 and the final flag.
  state.counter += state.buf_len;
  std::fill(state.buf.begin() + static_cast<std::ptrdiff_t>(state.buf_len), state.buf.end(), 0);
  Compress(state.h, state.buf.data(), state.counter, /*last=*/true);

  // The digest is h in little-endian order, truncated to out_len bytes.
  uint8_t full[kMaxOutSize];
  for (int i = 0; i < 8; ++i) Store32(full + 4 * i, state.h[i]);
  std::memcpy(out.data(), full, std::min(out.size(), state.out_len));

  // The chaining value (and with it, in keyed mode, everything derived from the key) and the
  // buffered input must not outlive the hash.
  SecureWipe(full);
  SecureWipe({reinterpret_cast<uint8_t*>(&state), sizeof(state)});
}

}  // namespace meshvpn::noise::ref
