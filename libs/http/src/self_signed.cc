// A self-signed ECDSA P-256 certificate made in memory.
#include "meshvpn/http/self_signed.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <ctime>
#include <memory>

#include "absl/strings/str_cat.h"
#include "openssl_error.h"

namespace meshvpn::http {
namespace {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;
struct GeneralNamesFree {
  void operator()(GENERAL_NAMES* g) const { GENERAL_NAMES_free(g); }
};
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, GeneralNamesFree>;

absl::Status Fail(const std::string& what) {
  return absl::InternalError(
      absl::StrCat("self-signed certificate: ", what, ": ", internal::DrainOpenSslErrors()));
}

// The subjectAltName: an IP SAN for an address literal, a DNS SAN for anything else.
absl::StatusOr<GeneralNamesPtr> SubjectAltNames(const std::vector<std::string>& names) {
  GeneralNamesPtr gens(GENERAL_NAMES_new());
  if (gens == nullptr) return Fail("GENERAL_NAMES_new");
  for (const std::string& name : names) {
    if (name.empty() || name.find('\0') != std::string::npos) {
      return absl::InvalidArgumentError("self-signed certificate: empty or bad name");
    }
    GENERAL_NAME* gen = GENERAL_NAME_new();
    if (gen == nullptr) return Fail("GENERAL_NAME_new");
    if (ASN1_OCTET_STRING* ip = a2i_IPADDRESS(name.c_str()); ip != nullptr) {
      GENERAL_NAME_set0_value(gen, GEN_IPADD, ip);
    } else {
      ERR_clear_error();  // a2i_IPADDRESS's "not an address" is expected here
      ASN1_IA5STRING* dns = ASN1_IA5STRING_new();
      if (dns == nullptr || ASN1_STRING_set(dns, name.data(), static_cast<int>(name.size())) != 1) {
        ASN1_IA5STRING_free(dns);
        GENERAL_NAME_free(gen);
        return Fail("DNS name");
      }
      GENERAL_NAME_set0_value(gen, GEN_DNS, dns);
    }
    if (sk_GENERAL_NAME_push(gens.get(), gen) == 0) {
      GENERAL_NAME_free(gen);
      return Fail("subjectAltName");
    }
  }
  return gens;
}

absl::Status AddExtension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value));
  if (ext == nullptr || X509_add_ext(cert, ext.get(), -1) != 1) {
    return Fail(absl::StrCat("extension ", OBJ_nid2sn(nid)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> BioText(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  if (len <= 0 || data == nullptr) return Fail("PEM output");
  return std::string(data, static_cast<size_t>(len));
}

}  // namespace

absl::StatusOr<CertificateAndKey> MakeSelfSignedCertificate(const std::vector<std::string>& names,
                                                            Duration validity) {
  if (names.empty()) return absl::InvalidArgumentError("self-signed certificate: no names");
  if (validity <= Duration::zero()) {
    return absl::InvalidArgumentError("self-signed certificate: validity must be positive");
  }
  ERR_clear_error();
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (key == nullptr) return Fail("P-256 key generation");
  X509Ptr cert(X509_new());
  if (cert == nullptr) return Fail("X509_new");
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1) return Fail("version");

  // A random positive 127-bit serial (RFC 5280: at most 20 octets, positive).
  unsigned char serial_bytes[16];
  if (RAND_bytes(serial_bytes, sizeof(serial_bytes)) != 1) return Fail("serial");
  serial_bytes[0] &= 0x7f;
  serial_bytes[0] |= 0x01;  // never zero, never shorter than 16 octets' worth
  BnPtr serial(BN_bin2bn(serial_bytes, sizeof(serial_bytes), nullptr));
  if (serial == nullptr ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    return Fail("serial");
  }

  // The certificate's dates are wall-clock time by nature.
  std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  const long validity_seconds =
      static_cast<long>(std::chrono::duration_cast<std::chrono::seconds>(validity).count());
  if (X509_time_adj_ex(X509_getm_notBefore(cert.get()), 0, -3600, &now) == nullptr ||
      X509_time_adj_ex(X509_getm_notAfter(cert.get()), static_cast<int>(validity_seconds / 86400),
                       validity_seconds % 86400, &now) == nullptr) {
    return Fail("validity");
  }

  // Subject = issuer = CN=<first name> (a CN holds at most 64 characters; the SANs carry the
  // names that matter, so a longer first name leaves the subject empty).
  X509_NAME* subject = X509_get_subject_name(cert.get());
  if (names[0].size() <= 64 &&
      X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(names[0].data()),
                                 static_cast<int>(names[0].size()), -1, 0) != 1) {
    return Fail("subject");
  }
  if (X509_set_issuer_name(cert.get(), subject) != 1) return Fail("issuer");
  if (X509_set_pubkey(cert.get(), key.get()) != 1) return Fail("public key");

  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  // CA:TRUE so that a client can trust the certificate itself as its CA file.
  if (absl::Status s = AddExtension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:TRUE");
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          AddExtension(cert.get(), &ctx, NID_key_usage, "critical,digitalSignature,keyCertSign");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = AddExtension(cert.get(), &ctx, NID_ext_key_usage, "serverAuth,clientAuth");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = AddExtension(cert.get(), &ctx, NID_subject_key_identifier, "hash");
      !s.ok()) {
    return s;
  }
  absl::StatusOr<GeneralNamesPtr> sans = SubjectAltNames(names);
  if (!sans.ok()) return sans.status();
  // Critical when the subject is empty (RFC 5280 section 4.2.1.6).
  if (X509_add1_ext_i2d(cert.get(), NID_subject_alt_name, sans->get(), names[0].size() > 64 ? 1 : 0,
                        X509V3_ADD_DEFAULT) != 1) {
    return Fail("subjectAltName");
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0) return Fail("signature");

  BioPtr cert_bio(BIO_new(BIO_s_mem()));
  BioPtr key_bio(BIO_new(BIO_s_mem()));
  if (cert_bio == nullptr || key_bio == nullptr) return Fail("BIO_new");
  if (PEM_write_bio_X509(cert_bio.get(), cert.get()) != 1) return Fail("certificate PEM");
  // PKCS#8 "BEGIN PRIVATE KEY", unencrypted. The BIO's buffer is cleared when freed.
  if (PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) !=
      1) {
    return Fail("key PEM");
  }
  CertificateAndKey out;
  absl::StatusOr<std::string> cert_pem = BioText(cert_bio.get());
  if (!cert_pem.ok()) return cert_pem.status();
  out.cert_pem = *std::move(cert_pem);
  char* key_data = nullptr;
  const long key_len = BIO_get_mem_data(key_bio.get(), &key_data);
  if (key_len <= 0 || key_data == nullptr) return Fail("key PEM");
  out.key_pem.assign(key_data, static_cast<size_t>(key_len));
  OPENSSL_cleanse(key_data, static_cast<size_t>(key_len));
  return out;
}

}  // namespace meshvpn::http
