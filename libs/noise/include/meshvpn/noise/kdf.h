// The HKDF of Noise and WireGuard (KDF_1, KDF_2, KDF_3 over HMAC-BLAKE2s), which advances the
// chaining key and derives cipher keys during a handshake.
#pragma once

#include <array>

#include "meshvpn/base/bytes.h"
#include "meshvpn/base/crypto_backend.h"
#include "meshvpn/noise/blake2s.h"

namespace meshvpn::noise {

// KDF_n(key, input) (WireGuard whitepaper section 5.4; Noise section 4.3 "HKDF"):
//
//   t0 = HMAC(key, input)              the pseudo-random key (HKDF-Extract, salt = key)
//   t1 = HMAC(t0, 0x01)                first output         (HKDF-Expand)
//   t2 = HMAC(t0, t1 || 0x02)          second output
//   t3 = HMAC(t0, t2 || 0x03)          third output
//
// KDF_1 returns t1, KDF_2 (t1, t2), KDF_3 (t1, t2, t3). `key` is usually the chaining key and
// `input` a Diffie-Hellman result, an ephemeral public key, the PSK or nothing. t0 is wiped before
// returning; the outputs are secrets the caller owns (wipe them with SecureWipe when done).
// Written to be used with structured bindings, which also makes "C = KDF_1(C, x)" safe:
//
//   auto [ck, k] = Kdf2(ck_old, dh_result);
//
// Thread-safe, no allocation per call (see blake2s.h about OpenSSL).
Blake2sHash Kdf1(ByteSpan key, ByteSpan input, CryptoBackend backend = CryptoBackend::kOpenSsl);
std::array<Blake2sHash, 2> Kdf2(ByteSpan key, ByteSpan input,
                                CryptoBackend backend = CryptoBackend::kOpenSsl);
std::array<Blake2sHash, 3> Kdf3(ByteSpan key, ByteSpan input,
                                CryptoBackend backend = CryptoBackend::kOpenSsl);

}  // namespace meshvpn::noise
