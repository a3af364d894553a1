// Internal to the http library: the SPKI pin of a parsed certificate.
#pragma once

#include "absl/status/statusor.h"
#include "meshvpn/http/tls_context.h"

struct x509_st;  // OpenSSL's X509

namespace meshvpn::http::internal {

// SHA-256 of the certificate's DER SubjectPublicKeyInfo.
absl::StatusOr<SpkiPin> SpkiPinOfX509(x509_st* cert);

}  // namespace meshvpn::http::internal
