// MakeSelfSignedCertificate: a throwaway certificate made in memory at start-up, for --dev modes,
// embedded defaults, demos and tests.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "meshvpn/base/clock.h"
#include "meshvpn/http/tls_context.h"

namespace meshvpn::http {

// A fresh ECDSA P-256 key and an X.509 v3 certificate for it, signed by itself: subject CN is the
// first name, each name becomes a subjectAltName (an IPv4/IPv6 literal an IP SAN, anything else
// a DNS SAN), valid from an hour ago (clock skew) until `validity` from now, with a random serial,
// CA:TRUE. Clients verify it by pinning its key (SpkiPinOfCertificate) or by trusting the
// certificate itself as a CA file. A first name longer than 64 characters (a CN's limit) leaves
// the subject empty and makes the subjectAltName critical.
absl::StatusOr<CertificateAndKey> MakeSelfSignedCertificate(
    const std::vector<std::string>& names, Duration validity = std::chrono::hours(24 * 365));

}  // namespace meshvpn::http
