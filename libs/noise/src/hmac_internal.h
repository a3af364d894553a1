// Internal: HMAC-BLAKE2s over message parts, with the OpenSSL context scrubbed once per batch.
#pragma once

#include <cstdint>
#include <span>

#include "meshvpn/base/bytes.h"
#include "meshvpn/base/crypto_backend.h"

namespace meshvpn::noise::internal {

// HMAC-BLAKE2s(key, part0 || part1 || ...) into `out`. `out` may alias the key or a part. With
// kOpenSsl the thread's HMAC context keeps key material until EndHmacBatch.
void HmacParts(ByteSpan key, std::span<const ByteSpan> parts, std::span<uint8_t, 32> out,
               CryptoBackend backend);

// Ends a series of HmacParts calls: re-keys the thread's OpenSSL HMAC context with the empty key
// so that no key material lingers there. A no-op for kReference (it keeps nothing).
void EndHmacBatch(CryptoBackend backend);

}  // namespace meshvpn::noise::internal
