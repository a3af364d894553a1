// The from-scratch BLAKE2s (RFC 7693) behind the kReference backend, open for reading.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "meshvpn/base/bytes.h"

// Most code should call the backend-neutral functions of blake2s.h. This header exists so that a
// student can read the algorithm in one place (blake2s_ref.cc) and drive it step by step, and so
// that Blake2sHasher can embed the state without allocating.
//
// BLAKE2s in one paragraph: the message is cut into 64-byte blocks. An 8-word (32-byte) chaining
// value h starts as a fixed IV mixed with a 32-byte "parameter block" (output length, key length,
// ...). Each block is folded into h by the compression function, which runs ten rounds of the G
// mixing function over a 16-word working vector. The compression also takes a 64-bit count of the
// bytes hashed so far and, for the last block only, a "final" flag. The output is the first
// out_len bytes of h, little-endian. A key, if any, is padded with zeros to a full block and
// hashed as block 0.
namespace meshvpn::noise::ref {

inline constexpr size_t kBlockSize = 64;   // bytes per message block
inline constexpr size_t kMaxOutSize = 32;  // BLAKE2s outputs 1..32 bytes
inline constexpr size_t kMaxKeySize = 32;  // and takes keys of 0..32 bytes

// Everything BLAKE2s remembers between Update calls. Plain data: copy it to fork a hash.
struct Blake2sState {
  std::array<uint32_t, 8> h{};            // the chaining value
  uint64_t counter = 0;                   // bytes compressed so far (t0/t1 in the RFC)
  std::array<uint8_t, kBlockSize> buf{};  // input not yet compressed (at most one block)
  size_t buf_len = 0;                     // bytes used in buf
  size_t out_len = 0;                     // digest length chosen at Init
};

// Starts a hash with an out_len-byte digest and an optional key (empty: unkeyed).
// Preconditions (checked by the callers in blake2s.cc): 1 <= out_len <= 32, key.size() <= 32.
void Init(Blake2sState& state, size_t out_len, ByteSpan key);

// Absorbs `data`. May be called any number of times with any split of the message.
void Update(Blake2sState& state, ByteSpan data);

// Writes the digest into `out` (out.size() must equal state.out_len) and wipes the state.
void Final(Blake2sState& state, MutableByteSpan out);

}  // namespace meshvpn::noise::ref
