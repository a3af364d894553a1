// OpenSSL backend: X25519 through OpenSSL 3's EVP interface (EVP_PKEY_X25519).
#pragma once

#include <cstdint>
#include <span>

#include "absl/status/status.h"

namespace meshvpn::x25519::openssl {

// out = X25519(scalar, u), as ref::X25519 computes it: on a low-order u, out is all zeros and the
// status is OK (OpenSSL refuses that case itself; we translate its refusal into the zero result so
// both backends behave alike). Other failures (out of memory) return InternalError.
absl::Status X25519(std::span<const uint8_t, 32> scalar, std::span<const uint8_t, 32> u,
                    std::span<uint8_t, 32> out);

// out = X25519(scalar, 9), the public key of `scalar`.
absl::Status PublicFromPrivate(std::span<const uint8_t, 32> scalar, std::span<uint8_t, 32> out);

}  // namespace meshvpn::x25519::openssl
