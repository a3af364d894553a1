// TlsContext set-up (files, PEM, errors that never show a key) and SPKI pins.
#include "meshvpn/http/tls_context.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <catch2/catch.hpp>
#include <string>

#include "meshvpn/base/bytes.h"
#include "tls_test_util.h"

namespace meshvpn::http {
namespace {

using test::HasNoKeyText;

// The pin computed independently of the library: the certificate's public key as an EVP_PKEY,
// re-encoded with i2d_PUBKEY, hashed with SHA256() (what `openssl x509 -pubkey | openssl pkey
// -pubin -outform der | openssl dgst -sha256` computes).
SpkiPin ExpectedPin(const std::string& cert_pem) {
  BIO* bio = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  REQUIRE(cert != nullptr);
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(X509_get0_pubkey(cert), &der);
  REQUIRE(len > 0);
  SpkiPin pin;
  SHA256(der, static_cast<size_t>(len), pin.data());
  OPENSSL_free(der);
  X509_free(cert);
  return pin;
}

TEST_CASE("SpkiPinOfCertificate is the SHA-256 of the DER SubjectPublicKeyInfo", "[tls][pin]") {
  for (int i = 0; i < 3; ++i) {
    const CertificateAndKey cert = test::TestCertificate({"pin.example"});
    absl::StatusOr<SpkiPin> pin = SpkiPinOfCertificate(cert.cert_pem);
    REQUIRE(pin.ok());
    CHECK(*pin == ExpectedPin(cert.cert_pem));
  }
  // The first certificate of a chain.
  const CertificateAndKey a = test::TestCertificate({"a.example"});
  const CertificateAndKey b = test::TestCertificate({"b.example"});
  CHECK(*SpkiPinOfCertificate(a.cert_pem + b.cert_pem) == ExpectedPin(a.cert_pem));
  CHECK(*SpkiPinOfCertificate(a.cert_pem) != *SpkiPinOfCertificate(b.cert_pem));

  CHECK(absl::IsInvalidArgument(SpkiPinOfCertificate("").status()));
  CHECK(absl::IsInvalidArgument(SpkiPinOfCertificate("not a certificate").status()));
  // A key is not a certificate; and the error does not echo it.
  absl::Status s = SpkiPinOfCertificate(a.key_pem).status();
  CHECK_FALSE(s.ok());
  CHECK(HasNoKeyText(s.message(), a.key_pem));
}

TEST_CASE("ParseSpkiPin and FormatSpkiPin", "[tls][pin]") {
  SpkiPin pin;
  for (size_t i = 0; i < pin.size(); ++i) pin[i] = static_cast<uint8_t>(i * 37 + 5);
  const std::string text = FormatSpkiPin(pin);
  CHECK(text == "sha256//" + Base64Encode(pin));
  CHECK(text.size() == 8 + 44);
  CHECK(*ParseSpkiPin(text) == pin);

  const std::string hex = HexEncode(pin);
  CHECK(*ParseSpkiPin(hex) == pin);
  std::string upper = hex;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  CHECK(*ParseSpkiPin(upper) == pin);

  // Known answer: the pin of all-zero bytes.
  CHECK(FormatSpkiPin(SpkiPin{}) == "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");

  const std::string bad[] = {
      "",
      "sha256//",
      "sha256//abc",
      text.substr(0, text.size() - 1),                     // a character short
      text + "A",                                          // one too many
      "sha256//" + Base64Encode(ByteSpan(pin).first(31)),  // 31 bytes
      "sha256//" + Base64Encode(pin).substr(0, 43),        // unpadded
      "sha1//" + Base64Encode(pin),
      "SHA256//" + Base64Encode(pin),
      " " + text,
      hex.substr(0, 63),
      hex + "0",
      std::string(64, 'g'),
      "sha256//" + hex,
  };
  for (const std::string& b : bad) {
    INFO("'" << b << "'");
    absl::StatusOr<SpkiPin> parsed = ParseSpkiPin(b);
    CHECK(absl::IsInvalidArgument(parsed.status()));
  }
}

TEST_CASE("TlsContext server from PEM files, and its errors", "[tls][context]") {
  const CertificateAndKey cert = test::TestCertificate({"files.example"});
  const CertificateAndKey other = test::TestCertificate({"other.example"});
  test::TempDir dir;
  const std::string cert_file = dir.Write("cert.pem", cert.cert_pem);
  const std::string key_file = dir.Write("key.pem", cert.key_pem);
  const std::string missing = dir.path() + "/missing.pem";

  auto server_with = [](std::string c, std::string k) {
    TlsServerOptions options;
    options.cert_file = std::move(c);
    options.key_file = std::move(k);
    return TlsContext::NewServer(options);
  };
  auto require_error = [&](const absl::Status& s, std::string_view must_name) {
    INFO(s.ToString());
    REQUIRE_FALSE(s.ok());
    CHECK_THAT(std::string(s.message()), Catch::Contains(std::string(must_name)));
    CHECK(HasNoKeyText(s.message(), cert.key_pem));
    CHECK(HasNoKeyText(s.message(), other.key_pem));
  };

  SECTION("good files make a working server") {
    absl::StatusOr<std::shared_ptr<TlsContext>> ctx = server_with(cert_file, key_file);
    REQUIRE(ctx.ok());
    CHECK((*ctx)->is_server());
    CHECK((SSL_CTX_get_mode((*ctx)->ssl_ctx()) & SSL_MODE_RELEASE_BUFFERS) != 0);
    CHECK(SSL_CTX_get_min_proto_version((*ctx)->ssl_ctx()) == TLS1_2_VERSION);
    CHECK(SSL_CTX_get_session_cache_mode((*ctx)->ssl_ctx()) == SSL_SESS_CACHE_OFF);
    TlsClientOptions client;
    client.ca_file = cert_file;
    test::SessionPair p = test::Handshake(*ctx, test::ClientContext(client), "files.example");
    CHECK(p.server->established());
    CHECK(p.client->established());
  }
  SECTION("a certificate file holding a chain") {
    const std::string chain = dir.Write("chain.pem", cert.cert_pem + other.cert_pem);
    CHECK(server_with(chain, key_file).ok());
  }
  SECTION("a missing certificate file is named") {
    const absl::Status s = server_with(missing, key_file).status();
    require_error(s, missing);
    CHECK(absl::IsNotFound(s));
  }
  SECTION("a missing key file is named") {
    require_error(server_with(cert_file, missing).status(), missing);
  }
  SECTION("a directory is not a key file") {
    require_error(server_with(cert_file, dir.path()).status(), dir.path());
  }
  SECTION("a key that does not match the certificate") {
    const std::string other_key = dir.Write("other-key.pem", other.key_pem);
    const absl::Status s = server_with(cert_file, other_key).status();
    require_error(s, "does not match");
    CHECK_THAT(std::string(s.message()), Catch::Contains(other_key));
  }
  SECTION("garbage in the certificate file") {
    require_error(server_with(dir.Write("junk.pem", "hello\n"), key_file).status(),
                  "no PEM certificate");
  }
  SECTION("a certificate where the key should be") {
    require_error(server_with(cert_file, cert_file).status(), "private key");
  }
  SECTION("a key where the certificate should be") {
    require_error(server_with(key_file, key_file).status(), "no PEM certificate");
  }
  SECTION("an encrypted key is refused, without prompting") {
    BIO* bio = BIO_new_mem_buf(cert.key_pem.data(), static_cast<int>(cert.key_pem.size()));
    EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    REQUIRE(key != nullptr);
    BIO* out = BIO_new(BIO_s_mem());
    static const char kPass[] = "secret";
    REQUIRE(PEM_write_bio_PKCS8PrivateKey(out, key, EVP_aes_128_cbc(), kPass, sizeof(kPass) - 1,
                                          nullptr, nullptr) == 1);
    char* data = nullptr;
    const long len = BIO_get_mem_data(out, &data);
    const std::string encrypted(data, static_cast<size_t>(len));
    BIO_free(out);
    EVP_PKEY_free(key);
    const absl::Status s = server_with(cert_file, dir.Write("enc.pem", encrypted)).status();
    require_error(s, "private key");
    CHECK(HasNoKeyText(s.message(), encrypted));
  }
  SECTION("one file without the other") {
    CHECK(absl::IsInvalidArgument(server_with(cert_file, "").status()));
    CHECK(absl::IsInvalidArgument(server_with("", key_file).status()));
  }
  SECTION("no certificate at all") {
    CHECK(absl::IsInvalidArgument(TlsContext::NewServer(TlsServerOptions{}).status()));
  }
  SECTION("PEM in memory: good, mismatched, truncated") {
    TlsServerOptions options;
    options.pem = cert;
    CHECK(TlsContext::NewServer(options).ok());
    options.pem = CertificateAndKey(cert.cert_pem, other.key_pem);
    require_error(TlsContext::NewServer(options).status(), "does not match");
    options.pem = CertificateAndKey(cert.cert_pem, cert.key_pem.substr(0, 100));
    require_error(TlsContext::NewServer(options).status(), "private key");
  }
  SECTION("TLS 1.3 only") {
    TlsServerOptions options;
    options.pem = cert;
    options.allow_tls12 = false;
    auto ctx = TlsContext::NewServer(options);
    REQUIRE(ctx.ok());
    CHECK(SSL_CTX_get_min_proto_version((*ctx)->ssl_ctx()) == TLS1_3_VERSION);
  }
  SECTION("bad ALPN names") {
    TlsServerOptions options;
    options.pem = cert;
    options.alpn = {"http/1.1", ""};
    CHECK(absl::IsInvalidArgument(TlsContext::NewServer(options).status()));
    options.alpn = {std::string(256, 'x')};
    CHECK(absl::IsInvalidArgument(TlsContext::NewServer(options).status()));
    options.alpn = {std::string(255, 'x')};
    CHECK(TlsContext::NewServer(options).ok());
  }
}

TEST_CASE("TlsContext client options and errors", "[tls][context]") {
  const CertificateAndKey cert = test::TestCertificate({"client.example"});
  test::TempDir dir;
  SECTION("modes: who checks the host name") {
    TlsClientOptions options;
    CHECK(test::ClientContext(options)->checks_hostname());  // system roots
    options.pins = {test::PinOf(cert)};
    CHECK_FALSE(test::ClientContext(options)->checks_hostname());  // pins only
    options.ca_pem = cert.cert_pem;
    CHECK(test::ClientContext(options)->checks_hostname());  // CA and pins
    options.verify_hostname = false;
    CHECK_FALSE(test::ClientContext(options)->checks_hostname());
    TlsClientOptions insecure;
    insecure.insecure_skip_verify = true;
    auto ctx = test::ClientContext(insecure);
    CHECK_FALSE(ctx->checks_hostname());
    CHECK_FALSE(ctx->is_server());
    CHECK((SSL_CTX_get_mode(ctx->ssl_ctx()) & SSL_MODE_RELEASE_BUFFERS) != 0);
  }
  SECTION("a CA given both as a file and as PEM") {
    TlsClientOptions options;
    options.ca_file = dir.Write("ca.pem", cert.cert_pem);
    options.ca_pem = cert.cert_pem;
    options.system_roots = true;
    CHECK(TlsContext::NewClient(options).ok());
  }
  SECTION("a missing CA file is named") {
    TlsClientOptions options;
    options.ca_file = dir.path() + "/nope.pem";
    const absl::Status s = TlsContext::NewClient(options).status();
    REQUIRE_FALSE(s.ok());
    CHECK_THAT(std::string(s.message()), Catch::Contains(options.ca_file));
  }
  SECTION("a CA file with no certificate") {
    TlsClientOptions options;
    options.ca_file = dir.Write("empty.pem", "");
    CHECK(absl::IsInvalidArgument(TlsContext::NewClient(options).status()));
    options.ca_file.clear();
    options.ca_pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    CHECK(absl::IsInvalidArgument(TlsContext::NewClient(options).status()));
  }
  SECTION("sessions need the right kind of context") {
    TlsServerOptions server_options;
    server_options.pem = cert;
    auto server_ctx = test::ServerContext(server_options);
    auto client_ctx = test::ClientContext(TlsClientOptions{.insecure_skip_verify = true});
    CHECK(absl::IsInvalidArgument(TlsSession::NewServer(client_ctx).status()));
    CHECK(absl::IsInvalidArgument(TlsSession::NewClient(server_ctx, "x").status()));
    CHECK(absl::IsInvalidArgument(TlsSession::NewServer(nullptr).status()));
    CHECK(absl::IsInvalidArgument(
        TlsSession::NewClient(client_ctx, std::string_view("a\0b", 3)).status()));
  }
}

}  // namespace
}  // namespace meshvpn::http
