// Handling secret bytes: wiping, constant-time comparison, and cryptographic randomness.
#pragma once

#include "absl/status/status.h"
#include "meshvpn/base/bytes.h"

namespace meshvpn {

// Overwrites `bytes` with zeros in a way the compiler may not optimise away (OPENSSL_cleanse).
void SecureWipe(MutableByteSpan bytes);
// True if both spans have the same length and contents; time depends only on the length.
bool ConstantTimeEqual(ByteSpan a, ByteSpan b);
// Fills `out` from the operating system's CSPRNG (via OpenSSL's RAND_bytes).
absl::Status FillRandom(MutableByteSpan out);

}  // namespace meshvpn
