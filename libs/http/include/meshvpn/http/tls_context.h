// TlsContext: an OpenSSL 3 SSL_CTX set up once for a server (certificate and key from PEM files
// or memory, ALPN) or a client (CA file, system roots or pinned SPKI keys, ALPN).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace meshvpn::http {

// A certificate chain and its private key in PEM. The key is wiped on destruction and never
// printed.
struct CertificateAndKey {
  std::string cert_pem;
  std::string key_pem;
  CertificateAndKey() = default;
  CertificateAndKey(std::string cert, std::string key)
      : cert_pem(std::move(cert)), key_pem(std::move(key)) {}
  CertificateAndKey(const CertificateAndKey&) = default;
  CertificateAndKey(CertificateAndKey&&) noexcept = default;
  // Assignments wipe the key they replace first.
  CertificateAndKey& operator=(const CertificateAndKey& other);
  CertificateAndKey& operator=(CertificateAndKey&& other) noexcept;
  ~CertificateAndKey();
};

// SHA-256 of a certificate's DER SubjectPublicKeyInfo: the pin that survives re-issuing a
// certificate for the same key (as in curl's --pinnedpubkey and HPKP).
using SpkiPin = std::array<uint8_t, 32>;
// Accepts "sha256//<base64>" (curl's syntax) or 64 hex digits.
absl::StatusOr<SpkiPin> ParseSpkiPin(std::string_view text);
// "sha256//<base64>".
std::string FormatSpkiPin(const SpkiPin& pin);
// The pin of the first certificate in `cert_pem`.
absl::StatusOr<SpkiPin> SpkiPinOfCertificate(std::string_view cert_pem);

struct TlsServerOptions {
  // The certificate chain and key: files (PEM), or `pem` when the files are empty.
  std::string cert_file;
  std::string key_file;
  CertificateAndKey pem;
  // Protocols the server speaks, in its order of preference ("http/1.1", "derp", ...). The
  // first of these the client offers is chosen.
  std::vector<std::string> alpn = {"http/1.1"};
  // The client offered ALPN and none of `alpn` matched: fail the handshake (RFC 7301's
  // no_application_protocol alert) instead of going on without ALPN.
  bool require_alpn_match = false;
  bool allow_tls12 = true;  // false: TLS 1.3 only
  // TLS 1.3 session tickets sent after each handshake (OpenSSL sends 2). 0 sends none: a server
  // of long-lived connections (DERP) saves the work of making them.
  int session_tickets = 2;
  // Once a TLS 1.3 handshake (AES-GCM or ChaCha20-Poly1305) is done, free OpenSSL's SSL object
  // (about 11 KiB) and protect records with our own small record layer (two traffic secrets):
  // what makes 100,000 idle DERP clients cheap. Implies session_tickets = 0. TLS 1.2 sessions
  // stay on OpenSSL.
  bool detach_after_handshake = false;
};

struct TlsClientOptions {
  // How the server is verified, one or more of:
  std::string ca_file;        // trust the certificates in this PEM file
  std::string ca_pem;         // ... or in this PEM text
  bool system_roots = false;  // ... or the system's store (the default with none of these)
  std::vector<SpkiPin> pins;  // the leaf's key must be one of these
  // With CA verification: the certificate must name the server name given to the session (SNI,
  // DNS or IP SAN). Pins alone do not check names: the key is the identity.
  bool verify_hostname = true;
  // Accept any certificate: tests and --insecure only.
  bool insecure_skip_verify = false;
  // Protocols to offer, in order ("http/1.1").
  std::vector<std::string> alpn;
  bool allow_tls12 = true;
};

// Immutable once made; share it (shared_ptr) between every session of a server or client.
// SSL_MODE_RELEASE_BUFFERS is on, so an idle session holds no record buffers.
class TlsContext {
 public:
  static absl::StatusOr<std::shared_ptr<TlsContext>> NewServer(const TlsServerOptions& options);
  static absl::StatusOr<std::shared_ptr<TlsContext>> NewClient(const TlsClientOptions& options);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  ssl_ctx_st* ssl_ctx() const { return ctx_; }
  bool is_server() const { return server_; }
  // Client contexts: whether sessions check the host name (CA mode with verify_hostname).
  bool checks_hostname() const { return checks_hostname_; }
  // Server contexts: TlsServerOptions::detach_after_handshake.
  bool detaches_after_handshake() const { return detach_after_handshake_; }

  struct Verifier;  // the client's certificate check (CA and/or pins)

 private:
  TlsContext(ssl_ctx_st* ctx, bool server);
  ssl_ctx_st* ctx_;
  bool server_;
  bool checks_hostname_ = false;
  std::unique_ptr<Verifier> verifier_;
  std::vector<uint8_t> alpn_wire_;  // server: preference list in ALPN wire format
  bool require_alpn_match_ = false;
  bool detach_after_handshake_ = false;
  friend struct AlpnSelector;
};

}  // namespace meshvpn::http
