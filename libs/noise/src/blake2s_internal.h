// Internal: BLAKE2s over a list of message parts, shared by blake2s.cc, hmac.cc and kdf.cc.
#pragma once

#include <span>

#include "meshvpn/base/bytes.h"
#include "meshvpn/base/crypto_backend.h"

namespace meshvpn::noise::internal {

// BLAKE2s of part0 || part1 || ... with `key` (0..32 bytes) and an out.size()-byte digest
// (1..32), by `backend` (falling back to the reference code if OpenSSL fails). Sizes are the
// caller's responsibility.
void Blake2sParts(ByteSpan key, std::span<const ByteSpan> parts, MutableByteSpan out,
                  CryptoBackend backend);

// The same, always with the reference code.
void RefBlake2s(ByteSpan key, std::span<const ByteSpan> parts, MutableByteSpan out);

}  // namespace meshvpn::noise::internal
