// TlsSession: one TLS connection over OpenSSL memory BIOs, sans-I/O: ciphertext in and out,
// plaintext in and out, with the handshake, ALPN, SNI and verification results.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "meshvpn/base/bytes.h"
#include "meshvpn/http/tls_context.h"

struct ssl_st;  // OpenSSL's SSL
struct bio_st;  // OpenSSL's BIO

namespace meshvpn::http {
namespace internal {
class Tls13RecordLayer;
struct PendingTrafficSecrets;
void CaptureTrafficSecret(const ssl_st* ssl, const char* line);
}  // namespace internal

// The record path (docs/http.md draws it).
enum class TlsState {
  kHandshaking,  // waiting for handshake records
  kEstablished,  // application data both ways
  kPeerClosed,   // close_notify received: no more plaintext will arrive
  kShutdown,     // we sent close_notify (after any pending plaintext)
  kFailed,       // a fatal alert, a bad record, a failed verification: error() says which
};
std::string_view ToString(TlsState state);

// Ciphertext the peer sent goes in with ReceiveCiphertext; what the session wants sent (its
// handshake flights, records, alerts) is PendingCiphertext(). Nothing here touches a socket.
// A server whose context detaches after the handshake (TlsServerOptions) frees its SSL once
// TLS 1.3 is established and protects records itself; nothing changes for the caller.
// Threading: one thread at a time.
class TlsSession {
 public:
  static absl::StatusOr<std::unique_ptr<TlsSession>> NewServer(
      std::shared_ptr<const TlsContext> context);
  // `server_name` is sent as SNI (unless it is an IP literal, which SNI does not allow) and, in
  // CA mode, checked against the certificate.
  static absl::StatusOr<std::unique_ptr<TlsSession>> NewClient(
      std::shared_ptr<const TlsContext> context, std::string_view server_name);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // Client: produces the ClientHello. Server: nothing to do until the client speaks.
  void Start();
  // Takes every byte; advances the handshake (and may fail it).
  void ReceiveCiphertext(ByteSpan data);
  // Decrypts up to out.size() bytes; 0 when nothing is available now (or on close/failure:
  // check state()).
  size_t ReadPlaintext(MutableByteSpan out);
  // Encrypts; returns how much of `data` it took (0 before the handshake is done or after
  // close). Records go to PendingCiphertext().
  size_t WritePlaintext(ByteSpan data);
  // Sends close_notify (once).
  void Shutdown();

  std::string_view PendingCiphertext() const { return std::string_view(out_).substr(out_pos_); }
  void ConsumeCiphertext(size_t n);
  // Gives back the memory BIOs' buffers (a fresh BIO holds none) when both are empty: what
  // keeps thousands of idle connections cheap, with SSL_MODE_RELEASE_BUFFERS.
  void ReleaseBuffers();

  TlsState state() const { return state_; }
  bool established() const { return state_ == TlsState::kEstablished; }
  // Why the session failed (OpenSSL's error text or the verification result; no key material).
  const absl::Status& error() const { return error_; }
  // The ALPN protocol agreed ("" if none).
  std::string_view alpn() const { return alpn_; }
  // Server: the SNI name the client sent ("" if none). Client: the name it was given.
  std::string_view server_name() const { return server_name_; }
  // "TLSv1.3", once established.
  std::string_view version() const;
  bool is_server() const { return server_; }
  // The SSL object was freed after the handshake: records go through our own TLS 1.3 layer.
  bool detached() const { return record_ != nullptr; }

 private:
  TlsSession(std::shared_ptr<const TlsContext> context, ssl_st* ssl, bool server);
  // Gives the SSL a fresh pair of memory BIOs (freeing the old pair); false if BIO_new failed.
  bool AttachFreshBios();
  void Advance();
  void DrainWriteBio();
  void FailFromOpenSsl(int ssl_error, std::string_view what);
  // After a server handshake: moves to the record layer when it can (TLS 1.3, a known cipher,
  // both secrets seen, nothing buffered inside OpenSSL); otherwise stays on OpenSSL.
  void MaybeDetach();
  void FailDetached(const absl::Status& status, std::string_view what);
  // out_, compacted, to append records to.
  std::string* OutputBuffer();
  friend void internal::CaptureTrafficSecret(const ssl_st* ssl, const char* line);

  std::shared_ptr<const TlsContext> context_;
  ssl_st* ssl_;
  bio_st* rbio_ = nullptr;  // owned by ssl_
  bio_st* wbio_ = nullptr;  // owned by ssl_
  bool server_;
  TlsState state_ = TlsState::kHandshaking;
  absl::Status error_;
  std::string alpn_;
  std::string server_name_;
  std::string out_;  // ciphertext drained from the write BIO, not yet consumed
  size_t out_pos_ = 0;
  bool shutdown_sent_ = false;
  std::unique_ptr<internal::PendingTrafficSecrets> secrets_;  // during a detaching handshake
  std::unique_ptr<internal::Tls13RecordLayer> record_;        // once detached
};

}  // namespace meshvpn::http
