// SPKI pins: curl's "sha256//<base64>" (or 64 hex digits) and the pin of a certificate.
#include "spki_pin.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <climits>
#include <memory>

#include "meshvpn/base/bytes.h"
#include "openssl_error.h"

namespace meshvpn::http {
namespace {

constexpr std::string_view kSha256Prefix = "sha256//";

}  // namespace

namespace internal {

absl::StatusOr<SpkiPin> SpkiPinOfX509(x509_st* cert) {
  ERR_clear_error();
  X509_PUBKEY* spki = cert == nullptr ? nullptr : X509_get_X509_PUBKEY(cert);
  if (spki == nullptr) return absl::InvalidArgumentError("certificate has no public key");
  unsigned char* der = nullptr;
  const int der_len = i2d_X509_PUBKEY(spki, &der);
  if (der_len <= 0) {
    return absl::InvalidArgumentError("cannot encode the certificate's public key: " +
                                      DrainOpenSslErrors());
  }
  SpkiPin pin;
  unsigned int md_len = 0;
  const bool ok = EVP_Digest(der, static_cast<size_t>(der_len), pin.data(), &md_len, EVP_sha256(),
                             nullptr) == 1 &&
                  md_len == pin.size();
  OPENSSL_free(der);
  if (!ok) return absl::InternalError("SHA-256 failed: " + DrainOpenSslErrors());
  return pin;
}

}  // namespace internal

absl::StatusOr<SpkiPin> ParseSpkiPin(std::string_view text) {
  SpkiPin pin;
  if (text.starts_with(kSha256Prefix)) {
    if (Base64DecodeInto(text.substr(kSha256Prefix.size()), pin).ok()) return pin;
    return absl::InvalidArgumentError(
        "bad SPKI pin: after \"sha256//\" expected the base64 of 32 bytes (44 characters)");
  }
  if (text.size() == 2 * pin.size() && HexDecodeInto(text, pin).ok()) return pin;
  return absl::InvalidArgumentError(
      "bad SPKI pin: expected \"sha256//<base64 of the SHA-256>\" or 64 hex digits");
}

std::string FormatSpkiPin(const SpkiPin& pin) {
  return std::string(kSha256Prefix) + Base64Encode(pin);
}

absl::StatusOr<SpkiPin> SpkiPinOfCertificate(std::string_view cert_pem) {
  if (cert_pem.size() > INT_MAX) return absl::InvalidArgumentError("certificate PEM too large");
  ERR_clear_error();
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())), &BIO_free);
  if (bio == nullptr) return absl::ResourceExhaustedError("BIO_new_mem_buf failed");
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), &X509_free);
  if (cert == nullptr) {
    return absl::InvalidArgumentError("no PEM certificate found: " +
                                      internal::DrainOpenSslErrors());
  }
  return internal::SpkiPinOfX509(cert.get());
}

}  // namespace meshvpn::http
