// TlsSession: one SSL between two memory BIOs; the caller moves the ciphertext.
#include "meshvpn/http/tls_session.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <climits>

#include "absl/strings/str_cat.h"
#include "openssl_error.h"
#include "tls_detach.h"
#include "tls_record_layer.h"

namespace meshvpn::http {
namespace {

// "192.0.2.1", "2001:db8::1" or "[2001:db8::1]": SNI may not carry these (RFC 6066 section 3).
bool IsIpLiteral(std::string_view name, std::string* bare) {
  if (name.size() >= 2 && name.front() == '[' && name.back() == ']') {
    name = name.substr(1, name.size() - 2);
  }
  *bare = std::string(name);
  unsigned char buf[16];
  return inet_pton(AF_INET, bare->c_str(), buf) == 1 ||
         inet_pton(AF_INET6, bare->c_str(), buf) == 1;
}

// A fresh memory BIO that says "retry" (not EOF) when empty.
BIO* NewMemBio() {
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio != nullptr) BIO_set_mem_eof_return(bio, -1);
  return bio;
}

// The largest single BIO/SSL call: their lengths are ints.
constexpr size_t kMaxCall = INT_MAX;

}  // namespace

std::string_view ToString(TlsState state) {
  switch (state) {
    case TlsState::kHandshaking:
      return "handshaking";
    case TlsState::kEstablished:
      return "established";
    case TlsState::kPeerClosed:
      return "peer-closed";
    case TlsState::kShutdown:
      return "shutdown";
    case TlsState::kFailed:
      return "failed";
  }
  return "unknown";
}

TlsSession::TlsSession(std::shared_ptr<const TlsContext> context, ssl_st* ssl, bool server)
    : context_(std::move(context)), ssl_(ssl), server_(server) {}

TlsSession::~TlsSession() { SSL_free(ssl_); }

absl::StatusOr<std::unique_ptr<TlsSession>> TlsSession::NewServer(
    std::shared_ptr<const TlsContext> context) {
  if (context == nullptr || !context->is_server()) {
    return absl::InvalidArgumentError("TlsSession::NewServer needs a server TlsContext");
  }
  ERR_clear_error();
  SSL* ssl = SSL_new(context->ssl_ctx());
  if (ssl == nullptr) {
    return absl::ResourceExhaustedError("SSL_new failed: " + internal::DrainOpenSslErrors());
  }
  std::unique_ptr<TlsSession> session(new TlsSession(std::move(context), ssl, /*server=*/true));
  if (!session->AttachFreshBios()) return absl::ResourceExhaustedError("BIO_new failed");
  SSL_set_accept_state(ssl);
  if (session->context_->detaches_after_handshake()) SSL_set_app_data(ssl, session.get());
  return session;
}

absl::StatusOr<std::unique_ptr<TlsSession>> TlsSession::NewClient(
    std::shared_ptr<const TlsContext> context, std::string_view server_name) {
  if (context == nullptr || context->is_server()) {
    return absl::InvalidArgumentError("TlsSession::NewClient needs a client TlsContext");
  }
  if (server_name.find('\0') != std::string_view::npos) {
    return absl::InvalidArgumentError("TLS server name contains a NUL");
  }
  if (server_name.empty() && context->checks_hostname()) {
    return absl::InvalidArgumentError(
        "TLS client: a server name is needed to verify the certificate's host name");
  }
  ERR_clear_error();
  SSL* ssl = SSL_new(context->ssl_ctx());
  if (ssl == nullptr) {
    return absl::ResourceExhaustedError("SSL_new failed: " + internal::DrainOpenSslErrors());
  }
  const bool checks_hostname = context->checks_hostname();
  std::unique_ptr<TlsSession> session(new TlsSession(std::move(context), ssl, /*server=*/false));
  session->server_name_ = std::string(server_name);
  if (!session->AttachFreshBios()) return absl::ResourceExhaustedError("BIO_new failed");
  SSL_set_connect_state(ssl);

  if (!server_name.empty()) {
    std::string bare;
    const bool ip = IsIpLiteral(server_name, &bare);
    if (!ip && SSL_set_tlsext_host_name(ssl, bare.c_str()) != 1) {
      return absl::InvalidArgumentError("TLS server name not usable as SNI: " +
                                        internal::DrainOpenSslErrors());
    }
    if (checks_hostname) {
      if (ip) {
        if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), bare.c_str()) != 1) {
          return absl::InvalidArgumentError("bad IP address for certificate verification");
        }
      } else {
        SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        if (SSL_set1_host(ssl, bare.c_str()) != 1) {
          return absl::InvalidArgumentError("bad host name for certificate verification");
        }
      }
    }
  }
  return session;
}

void TlsSession::Start() {
  if (!server_ && state_ == TlsState::kHandshaking) Advance();
}

void TlsSession::ReceiveCiphertext(ByteSpan data) {
  if (state_ == TlsState::kFailed) return;
  if (record_ != nullptr) {
    record_->Append(data);
    return;
  }
  while (!data.empty()) {
    const size_t n = std::min(data.size(), kMaxCall);
    if (BIO_write(rbio_, data.data(), static_cast<int>(n)) != static_cast<int>(n)) {
      state_ = TlsState::kFailed;
      error_ = absl::ResourceExhaustedError("TLS: cannot buffer received ciphertext");
      return;
    }
    data = data.subspan(n);
  }
  if (state_ == TlsState::kHandshaking) Advance();
}

void TlsSession::Advance() {
  ERR_clear_error();
  const int r = SSL_do_handshake(ssl_);
  if (r == 1) {
    state_ = TlsState::kEstablished;
    const unsigned char* proto = nullptr;
    unsigned int proto_len = 0;
    SSL_get0_alpn_selected(ssl_, &proto, &proto_len);
    alpn_.assign(reinterpret_cast<const char*>(proto), proto == nullptr ? 0 : proto_len);
    if (server_) {
      const char* sni = SSL_get_servername(ssl_, TLSEXT_NAMETYPE_host_name);
      server_name_ = sni == nullptr ? "" : sni;
    }
    DrainWriteBio();
    if (server_ && context_->detaches_after_handshake()) MaybeDetach();
    return;
  }
  const int e = SSL_get_error(ssl_, r);
  if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
    FailFromOpenSsl(e, "TLS handshake failed");
  }
  DrainWriteBio();
}

void TlsSession::MaybeDetach() {
  std::unique_ptr<internal::PendingTrafficSecrets> secrets = std::move(secrets_);
  SSL_set_app_data(ssl_, nullptr);
  if (secrets == nullptr || secrets->client_len == 0 || secrets->server_len == 0) return;
  if (SSL_version(ssl_) != TLS1_3_VERSION || SSL_has_pending(ssl_) ||
      BIO_ctrl_pending(wbio_) != 0) {
    return;
  }
  internal::Tls13Cipher cipher;
  switch (SSL_CIPHER_get_id(SSL_get_current_cipher(ssl_))) {
    case 0x03001301:
      cipher = internal::Tls13Cipher::kAes128GcmSha256;
      break;
    case 0x03001302:
      cipher = internal::Tls13Cipher::kAes256GcmSha384;
      break;
    case 0x03001303:
      cipher = internal::Tls13Cipher::kChaCha20Poly1305Sha256;
      break;
    default:
      return;  // TLS_AES_128_CCM_*: stays on OpenSSL
  }
  absl::StatusOr<internal::TrafficKeys> read = internal::TrafficKeys::FromSecret(
      cipher, ByteSpan(secrets->client.data(), secrets->client_len));
  absl::StatusOr<internal::TrafficKeys> write = internal::TrafficKeys::FromSecret(
      cipher, ByteSpan(secrets->server.data(), secrets->server_len));
  if (!read.ok() || !write.ok()) return;
  // Whatever the client sent after its Finished (its first request, often) is still in the read
  // BIO as records under the new keys.
  std::string leftover(BIO_ctrl_pending(rbio_), '\0');
  size_t got = 0;
  while (got < leftover.size()) {
    const int n = BIO_read(rbio_, leftover.data() + got,
                           static_cast<int>(std::min(leftover.size() - got, kMaxCall)));
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  leftover.resize(got);
  record_ = std::make_unique<internal::Tls13RecordLayer>(*std::move(read), *std::move(write));
  SSL_free(ssl_);
  ssl_ = nullptr;
  rbio_ = nullptr;
  wbio_ = nullptr;
  record_->Append(AsBytes(leftover));
}

void TlsSession::FailDetached(const absl::Status& status, std::string_view what) {
  state_ = TlsState::kFailed;
  error_ = absl::UnavailableError(
      absl::StrCat(absl::string_view(what.data(), what.size()), ": ", status.message()));
}

std::string* TlsSession::OutputBuffer() {
  if (out_pos_ > 0 && out_pos_ >= out_.size() / 2) {
    out_.erase(0, out_pos_);
    out_pos_ = 0;
  }
  return &out_;
}

size_t TlsSession::ReadPlaintext(MutableByteSpan out) {
  if (out.empty()) return 0;
  if (state_ != TlsState::kEstablished && state_ != TlsState::kShutdown) return 0;
  if (record_ != nullptr) {
    absl::StatusOr<size_t> n = record_->Read(out, OutputBuffer());
    if (!n.ok()) {
      FailDetached(n.status(), "TLS record failed");
      return 0;
    }
    if (*n == 0 && record_->peer_closed() && state_ == TlsState::kEstablished) {
      state_ = TlsState::kPeerClosed;
    }
    return *n;
  }
  ERR_clear_error();
  size_t n = 0;
  const int r = SSL_read_ex(ssl_, out.data(), std::min(out.size(), kMaxCall), &n);
  if (r != 1) {
    n = 0;
    const int e = SSL_get_error(ssl_, r);
    if (e == SSL_ERROR_ZERO_RETURN) {
      // close_notify. After our own close_notify the session stays kShutdown: nothing more
      // goes either way.
      if (state_ == TlsState::kEstablished) state_ = TlsState::kPeerClosed;
    } else if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
      FailFromOpenSsl(e, "TLS record failed");
    }
  }
  // Reading may have queued output: a KeyUpdate reply, an alert.
  DrainWriteBio();
  return n;
}

size_t TlsSession::WritePlaintext(ByteSpan data) {
  if (data.empty()) return 0;
  if (state_ != TlsState::kEstablished && state_ != TlsState::kPeerClosed) return 0;
  if (record_ != nullptr) {
    if (absl::Status s = record_->Send(data, OutputBuffer()); !s.ok()) {
      FailDetached(s, "TLS write failed");
      return 0;
    }
    return data.size();
  }
  ERR_clear_error();
  size_t n = 0;
  const int r = SSL_write_ex(ssl_, data.data(), std::min(data.size(), kMaxCall), &n);
  if (r != 1) {
    n = 0;
    const int e = SSL_get_error(ssl_, r);
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
      FailFromOpenSsl(e, "TLS write failed");
    }
  }
  DrainWriteBio();
  return n;
}

void TlsSession::Shutdown() {
  if (shutdown_sent_ || state_ == TlsState::kFailed) return;
  shutdown_sent_ = true;
  if (state_ == TlsState::kHandshaking) {
    // No close_notify before the handshake is done (OpenSSL would refuse): the caller just
    // closes the socket.
    state_ = TlsState::kShutdown;
    return;
  }
  if (record_ != nullptr) {
    state_ = TlsState::kShutdown;
    if (absl::Status s = record_->SendCloseNotify(OutputBuffer()); !s.ok()) {
      FailDetached(s, "TLS shutdown failed");
    }
    return;
  }
  ERR_clear_error();
  const int r = SSL_shutdown(ssl_);
  state_ = TlsState::kShutdown;
  if (r < 0) {
    const int e = SSL_get_error(ssl_, r);
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
      FailFromOpenSsl(e, "TLS shutdown failed");
    }
  }
  DrainWriteBio();
}

void TlsSession::ConsumeCiphertext(size_t n) {
  out_pos_ += std::min(n, out_.size() - out_pos_);
  if (out_pos_ == out_.size()) {
    out_.clear();
    out_pos_ = 0;
  }
}

void TlsSession::ReleaseBuffers() {
  if (record_ != nullptr) {
    if (out_pos_ == out_.size()) {
      std::string().swap(out_);
      out_pos_ = 0;
    }
    record_->ReleaseBuffers();
    return;
  }
  if (ssl_ == nullptr) return;
  if (BIO_ctrl_pending(rbio_) != 0 || BIO_ctrl_pending(wbio_) != 0) return;
  if (out_pos_ == out_.size()) {
    std::string().swap(out_);
    out_pos_ = 0;
  }
  // Record buffers (normally freed already under SSL_MODE_RELEASE_BUFFERS); 0 if still in use.
  SSL_free_buffers(ssl_);
  // A memory BIO keeps the largest buffer it ever held; fresh ones hold none. If they cannot be
  // made the old ones stay: still correct, only bigger.
  AttachFreshBios();
}

bool TlsSession::AttachFreshBios() {
  BIO* rbio = NewMemBio();
  BIO* wbio = NewMemBio();
  if (rbio == nullptr || wbio == nullptr) {
    BIO_free(rbio);
    BIO_free(wbio);
    return false;
  }
  SSL_set_bio(ssl_, rbio, wbio);  // frees the old pair, if any
  rbio_ = rbio;
  wbio_ = wbio;
  return true;
}

std::string_view TlsSession::version() const {
  if (state_ == TlsState::kHandshaking) return "";
  if (ssl_ == nullptr) return "TLSv1.3";  // detached
  return SSL_get_version(ssl_);
}

void TlsSession::DrainWriteBio() {
  const size_t pending = BIO_ctrl_pending(wbio_);
  if (pending == 0) return;
  OutputBuffer();
  const size_t old = out_.size();
  out_.resize(old + pending);
  size_t got = 0;
  while (got < pending) {
    const int n = BIO_read(wbio_, out_.data() + old + got,
                           static_cast<int>(std::min(pending - got, kMaxCall)));
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  out_.resize(old + got);
}

void TlsSession::FailFromOpenSsl(int ssl_error, std::string_view what) {
  std::string reasons = internal::DrainOpenSslErrors();
  const long verify = server_ ? X509_V_OK : SSL_get_verify_result(ssl_);
  std::string message(what.data(), what.size());
  if (verify != X509_V_OK) {
    absl::StrAppend(&message, ": certificate verify failed: ");
    if (verify == X509_V_ERR_APPLICATION_VERIFICATION) {
      absl::StrAppend(&message, "the server's public key matches none of the pinned keys");
    } else {
      absl::StrAppend(&message, X509_verify_cert_error_string(verify));
      if (verify == X509_V_ERR_HOSTNAME_MISMATCH || verify == X509_V_ERR_IP_ADDRESS_MISMATCH) {
        absl::StrAppend(&message, " (the certificate does not name '", server_name_, "')");
      }
    }
  } else if (!reasons.empty()) {
    absl::StrAppend(&message, ": ", reasons);
  } else if (ssl_error == SSL_ERROR_ZERO_RETURN) {
    absl::StrAppend(&message, ": the peer closed the connection");
  } else {
    absl::StrAppend(&message, ": OpenSSL error ", ssl_error);
  }
  state_ = TlsState::kFailed;
  error_ =
      verify != X509_V_OK ? absl::UnauthenticatedError(message) : absl::UnavailableError(message);
}

}  // namespace meshvpn::http
