// HMAC-BLAKE2s (RFC 2104 over BLAKE2s-256, 64-byte block): the PRF inside Noise's and WireGuard's
// HKDF (kdf.h).
#pragma once

#include <initializer_list>

#include "meshvpn/base/bytes.h"
#include "meshvpn/base/crypto_backend.h"
#include "meshvpn/noise/blake2s.h"

namespace meshvpn::noise {

// HMAC(key, data) = HASH((K0 ^ opad) || HASH((K0 ^ ipad) || data)), where K0 is the key padded
// with zeros to 64 bytes (a key longer than 64 bytes is first replaced by HASH(key)), ipad is
// 64 bytes of 0x36 and opad 64 bytes of 0x5c. Any key length, including empty.
//
// Not to be confused with keyed BLAKE2s (Blake2sMac16), which is BLAKE2's own, cheaper MAC;
// Noise specifies HMAC so that its HKDF works with any hash function.
//
// K0, both pads and the inner hash are wiped before returning (with kOpenSsl they live inside
// OpenSSL's context, which is re-keyed with the empty key afterwards). Thread-safe; see
// blake2s.h for the backends, allocation and the OpenSSL fallback.
Blake2sHash HmacBlake2s(ByteSpan key, ByteSpan data,
                        CryptoBackend backend = CryptoBackend::kOpenSsl);
// HMAC(key, part0 || part1 || ...) without copying the parts together.
Blake2sHash HmacBlake2s(ByteSpan key, std::initializer_list<ByteSpan> parts,
                        CryptoBackend backend = CryptoBackend::kOpenSsl);

}  // namespace meshvpn::noise
