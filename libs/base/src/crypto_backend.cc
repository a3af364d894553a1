#include "meshvpn/base/crypto_backend.h"

#include "absl/strings/str_format.h"

namespace meshvpn {

std::string_view ToString(CryptoBackend backend) {
  switch (backend) {
    case CryptoBackend::kOpenSsl:
      return "openssl";
    case CryptoBackend::kReference:
      return "ref";
  }
  return "unknown";
}

absl::StatusOr<CryptoBackend> ParseCryptoBackend(std::string_view name) {
  if (name == "openssl") return CryptoBackend::kOpenSsl;
  if (name == "ref" || name == "reference") return CryptoBackend::kReference;
  return absl::InvalidArgumentError(
      absl::StrFormat("unknown crypto backend '%s' (want 'openssl' or 'ref')", name));
}

}  // namespace meshvpn
