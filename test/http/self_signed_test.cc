// MakeSelfSignedCertificate: parsed back with OpenSSL and checked field by field.
#include "meshvpn/http/self_signed.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <ctime>
#include <memory>
#include <set>
#include <string>

namespace meshvpn::http {
namespace {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

X509Ptr ParseCert(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509Ptr cert(PEM_read_bio_X509(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  REQUIRE(cert != nullptr);
  return cert;
}

PkeyPtr ParseKey(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  PkeyPtr key(PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  REQUIRE(key != nullptr);
  return key;
}

// The subjectAltNames as "DNS:name" / "IP:<n> bytes:<hex>" strings.
std::set<std::string> Sans(X509* cert) {
  std::set<std::string> out;
  auto* gens =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  REQUIRE(gens != nullptr);
  for (int i = 0; i < sk_GENERAL_NAME_num(gens); ++i) {
    const GENERAL_NAME* gen = sk_GENERAL_NAME_value(gens, i);
    int type = 0;
    auto* value = static_cast<ASN1_STRING*>(GENERAL_NAME_get0_value(gen, &type));
    const std::string bytes(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                            static_cast<size_t>(ASN1_STRING_length(value)));
    if (type == GEN_DNS) {
      out.insert("DNS:" + bytes);
    } else if (type == GEN_IPADD) {
      std::string hex;
      for (unsigned char c : bytes) {
        static const char kDigits[] = "0123456789abcdef";
        hex += kDigits[c >> 4];
        hex += kDigits[c & 15];
      }
      out.insert("IP:" + hex);
    } else {
      out.insert("other");
    }
  }
  GENERAL_NAMES_free(gens);
  return out;
}

// Seconds from now to `t` (negative: in the past).
long SecondsFromNow(const ASN1_TIME* t) {
  int days = 0, secs = 0;
  REQUIRE(ASN1_TIME_diff(&days, &secs, nullptr, t) == 1);
  return days * 86400L + secs;
}

std::string CommonName(X509* cert) {
  char buf[256] = {};
  const int n =
      X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buf, sizeof(buf));
  return n < 0 ? "" : std::string(buf, static_cast<size_t>(n));
}

TEST_CASE("MakeSelfSignedCertificate: names, key, validity, signature", "[tls][self_signed]") {
  const std::vector<std::string> names = {"derp.example", "10.1.2.3", "fd7a:115c:a1e0::1",
                                          "*.wild.example"};
  absl::StatusOr<CertificateAndKey> made =
      MakeSelfSignedCertificate(names, std::chrono::hours(24 * 30));
  REQUIRE(made.ok());
  CHECK_THAT(made->cert_pem, Catch::StartsWith("-----BEGIN CERTIFICATE-----"));
  CHECK_THAT(made->key_pem, Catch::StartsWith("-----BEGIN PRIVATE KEY-----"));
  X509Ptr cert = ParseCert(made->cert_pem);
  PkeyPtr key = ParseKey(made->key_pem);

  CHECK(X509_get_version(cert.get()) == X509_VERSION_3);
  CHECK(CommonName(cert.get()) == "derp.example");
  CHECK(X509_NAME_cmp(X509_get_subject_name(cert.get()), X509_get_issuer_name(cert.get())) == 0);
  CHECK(Sans(cert.get()) == std::set<std::string>{"DNS:derp.example", "DNS:*.wild.example",
                                                  "IP:0a010203",
                                                  "IP:fd7a115ca1e000000000000000000001"});
  CHECK(X509_check_host(cert.get(), "derp.example", 0, 0, nullptr) == 1);
  CHECK(X509_check_host(cert.get(), "x.wild.example", 0, 0, nullptr) == 1);
  CHECK(X509_check_host(cert.get(), "other.example", 0, 0, nullptr) == 0);
  CHECK(X509_check_ip_asc(cert.get(), "10.1.2.3", 0) == 1);
  CHECK(X509_check_ip_asc(cert.get(), "fd7a:115c:a1e0::1", 0) == 1);
  CHECK(X509_check_ip_asc(cert.get(), "10.1.2.4", 0) == 0);

  // An ECDSA P-256 key that belongs to the certificate and signed it.
  CHECK(EVP_PKEY_get_base_id(key.get()) == EVP_PKEY_EC);
  char group[64] = {};
  size_t group_len = 0;
  REQUIRE(EVP_PKEY_get_group_name(key.get(), group, sizeof(group), &group_len) == 1);
  CHECK(std::string(group) == "prime256v1");
  CHECK(X509_check_private_key(cert.get(), key.get()) == 1);
  CHECK(X509_verify(cert.get(), X509_get0_pubkey(cert.get())) == 1);
  CHECK(X509_get_signature_nid(cert.get()) == NID_ecdsa_with_SHA256);

  // Valid from an hour ago, for 30 days from now.
  const long not_before = SecondsFromNow(X509_get0_notBefore(cert.get()));
  const long not_after = SecondsFromNow(X509_get0_notAfter(cert.get()));
  CHECK(not_before <= -3600 + 60);
  CHECK(not_before >= -3600 - 60);
  CHECK(not_after >= 30 * 86400L - 60);
  CHECK(not_after <= 30 * 86400L + 60);

  // Usable as its own CA: CA:TRUE, keyCertSign, and it verifies against itself.
  CHECK(X509_check_ca(cert.get()) >= 1);
  CHECK((X509_get_key_usage(cert.get()) & KU_KEY_CERT_SIGN) != 0);
  CHECK((X509_get_key_usage(cert.get()) & KU_DIGITAL_SIGNATURE) != 0);
  CHECK((X509_get_extended_key_usage(cert.get()) & XKU_SSL_SERVER) != 0);
  X509_STORE* store = X509_STORE_new();
  REQUIRE(X509_STORE_add_cert(store, cert.get()) == 1);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  REQUIRE(X509_STORE_CTX_init(ctx, store, cert.get(), nullptr) == 1);
  CHECK(X509_verify_cert(ctx) == 1);
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);

  // A positive serial.
  const ASN1_INTEGER* serial = X509_get0_serialNumber(cert.get());
  BIGNUM* bn = ASN1_INTEGER_to_BN(serial, nullptr);
  REQUIRE(bn != nullptr);
  CHECK_FALSE(BN_is_negative(bn));
  CHECK(BN_num_bytes(bn) >= 8);
  BN_free(bn);
}

TEST_CASE("MakeSelfSignedCertificate: every call a fresh key and serial", "[tls][self_signed]") {
  auto a = MakeSelfSignedCertificate({"a.example"});
  auto b = MakeSelfSignedCertificate({"a.example"});
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->key_pem != b->key_pem);
  X509Ptr ca = ParseCert(a->cert_pem);
  X509Ptr cb = ParseCert(b->cert_pem);
  CHECK(ASN1_INTEGER_cmp(X509_get0_serialNumber(ca.get()), X509_get0_serialNumber(cb.get())) != 0);
  CHECK(X509_check_private_key(ca.get(), ParseKey(b->key_pem).get()) == 0);
  // The default validity is a year.
  const long not_after = SecondsFromNow(X509_get0_notAfter(ca.get()));
  CHECK(not_after >= 365 * 86400L - 60);
  CHECK(not_after <= 365 * 86400L + 60);
}

TEST_CASE("MakeSelfSignedCertificate: a first name too long for a CN", "[tls][self_signed]") {
  std::string longname(70, 'a');
  longname.append(".example");
  std::string dns_san = "DNS:";
  dns_san.append(longname);
  auto made = MakeSelfSignedCertificate({longname, "127.0.0.1"});
  REQUIRE(made.ok());
  X509Ptr cert = ParseCert(made->cert_pem);
  CHECK(CommonName(cert.get()).empty());
  CHECK(Sans(cert.get()) == std::set<std::string>{dns_san, "IP:7f000001"});
  // With an empty subject the subjectAltName is critical (RFC 5280 section 4.2.1.6).
  const int idx = X509_get_ext_by_NID(cert.get(), NID_subject_alt_name, -1);
  REQUIRE(idx >= 0);
  CHECK(X509_EXTENSION_get_critical(X509_get_ext(cert.get(), idx)) == 1);
}

TEST_CASE("MakeSelfSignedCertificate: bad arguments", "[tls][self_signed]") {
  CHECK(absl::IsInvalidArgument(MakeSelfSignedCertificate({}).status()));
  CHECK(absl::IsInvalidArgument(MakeSelfSignedCertificate({"a.example", ""}).status()));
  CHECK(absl::IsInvalidArgument(MakeSelfSignedCertificate({std::string("a\0b", 3)}).status()));
  CHECK(absl::IsInvalidArgument(
      MakeSelfSignedCertificate({"a.example"}, std::chrono::seconds(0)).status()));
  CHECK(absl::IsInvalidArgument(
      MakeSelfSignedCertificate({"a.example"}, -std::chrono::hours(1)).status()));
}

TEST_CASE("CertificateAndKey copies and moves", "[tls][self_signed]") {
  auto made = MakeSelfSignedCertificate({"copy.example"});
  REQUIRE(made.ok());
  const std::string cert = made->cert_pem;
  const std::string key = made->key_pem;

  CertificateAndKey copy = *made;
  CHECK(copy.cert_pem == cert);
  CHECK(copy.key_pem == key);
  CertificateAndKey moved = std::move(copy);
  CHECK(moved.cert_pem == cert);
  CHECK(moved.key_pem == key);
  CertificateAndKey assigned;
  assigned = moved;
  CHECK(assigned.key_pem == key);
  CertificateAndKey move_assigned;
  move_assigned = std::move(assigned);
  CHECK(move_assigned.key_pem == key);
  {
    // Destroying a copy leaves the original alone (each wipes only its own buffer).
    CertificateAndKey scoped = move_assigned;
    CHECK(scoped.key_pem == key);
  }
  CHECK(move_assigned.key_pem == key);
  CertificateAndKey two("cert", "key");
  CHECK(two.cert_pem == "cert");
  CHECK(two.key_pem == "key");
}

}  // namespace
}  // namespace meshvpn::http
