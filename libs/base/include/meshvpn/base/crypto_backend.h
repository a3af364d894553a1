// Names the two crypto backends (OpenSSL and the readable reference) that x25519, aead and noise
// offer.
#pragma once

#include <array>
#include <string_view>

#include "absl/status/statusor.h"

namespace meshvpn {

enum class CryptoBackend {
  kOpenSsl,    // OpenSSL 3 EVP: the default, for production speed
  kReference,  // written from scratch in meshvpn to be read in a course; constant-time
};

inline constexpr std::array<CryptoBackend, 2> kAllCryptoBackends = {CryptoBackend::kOpenSsl,
                                                                    CryptoBackend::kReference};

// "openssl" or "ref".
std::string_view ToString(CryptoBackend backend);
// Accepts "openssl" and "ref" (also "reference").
absl::StatusOr<CryptoBackend> ParseCryptoBackend(std::string_view name);

}  // namespace meshvpn
