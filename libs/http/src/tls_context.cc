// TlsContext: the SSL_CTX of a server (certificate, key, ALPN selection) or a client (trust
// anchors, pins, ALPN offer).
#include "meshvpn/http/tls_context.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "meshvpn/base/status.h"
#include "openssl_error.h"
#include "spki_pin.h"
#include "tls_detach.h"

namespace meshvpn::http {

namespace {
// Wipes the whole buffer, not only the characters in use (a shorter key may have been assigned
// over a longer one), and leaves the string empty.
void WipeKey(std::string& key) {
  key.resize(key.capacity());
  OPENSSL_cleanse(key.data(), key.size());
  key.clear();
}
}  // namespace

CertificateAndKey& CertificateAndKey::operator=(const CertificateAndKey& other) {
  if (this != &other) {
    WipeKey(key_pem);
    cert_pem = other.cert_pem;
    key_pem = other.key_pem;
  }
  return *this;
}

CertificateAndKey& CertificateAndKey::operator=(CertificateAndKey&& other) noexcept {
  if (this != &other) {
    WipeKey(key_pem);
    cert_pem = std::move(other.cert_pem);
    key_pem = std::move(other.key_pem);
  }
  return *this;
}

CertificateAndKey::~CertificateAndKey() { WipeKey(key_pem); }

namespace {

// Certificates, keys and CA bundles are small; anything bigger is not what was meant.
constexpr off_t kMaxPemFileSize = 4 << 20;

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

// Reads a whole (small) file into `out`, sized once so that no partial copy of a key is left
// behind in freed memory. Errors name the file and what went wrong, never its content.
absl::Status ReadPemFile(const std::string& path, const std::string& what, std::string* out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::NotFoundError(
        absl::StrCat("cannot open ", what, " '", path, "': ", std::strerror(errno)));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > kMaxPemFileSize) {
    ::close(fd);
    return absl::InvalidArgumentError(
        absl::StrCat(what, " '", path, "' is not a regular file of at most 4 MiB"));
  }
  out->assign(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < out->size()) {
    const ssize_t n = ::read(fd, out->data() + done, out->size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : 0;
      ::close(fd);
      OPENSSL_cleanse(out->data(), out->size());
      out->clear();
      return absl::DataLossError(absl::StrCat("cannot read ", what, " '", path,
                                              "': ", err != 0 ? std::strerror(err) : "truncated"));
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return absl::OkStatus();
}

BioPtr MemBio(std::string_view text) {
  if (text.size() > INT_MAX) return nullptr;
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// Reads every certificate in `pem` (at least one).
absl::StatusOr<std::vector<X509Ptr>> ReadCertificates(std::string_view pem,
                                                      const std::string& what) {
  BioPtr bio = MemBio(pem);
  if (bio == nullptr) return absl::InvalidArgumentError(absl::StrCat(what, ": too large"));
  std::vector<X509Ptr> certs;
  while (X509* cert = PEM_read_bio_X509_AUX(bio.get(), nullptr, nullptr, nullptr)) {
    certs.emplace_back(cert);
  }
  // The loop ends with "no start line" once the input is used up: that one is expected.
  const unsigned long last = ERR_peek_last_error();
  if (ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE &&
      !certs.empty()) {
    ERR_clear_error();
  }
  const std::string errors = internal::DrainOpenSslErrors();
  if (certs.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": no PEM certificate found (", errors, ")"));
  }
  if (!errors.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": bad PEM certificate: ", errors));
  }
  return certs;
}

// Never prompts for a pass phrase (OpenSSL's default callback reads the terminal).
int NoPassphrase(char*, int, int, void*) { return -1; }

absl::Status UseCertificateAndKey(SSL_CTX* ctx, const CertificateAndKey& pem,
                                  const std::string& cert_what, const std::string& key_what) {
  MESHVPN_ASSIGN_OR_RETURN(std::vector<X509Ptr> chain, ReadCertificates(pem.cert_pem, cert_what));
  if (SSL_CTX_use_certificate(ctx, chain[0].get()) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(cert_what, ": certificate not usable: ", internal::DrainOpenSslErrors()));
  }
  for (size_t i = 1; i < chain.size(); ++i) {
    if (SSL_CTX_add1_chain_cert(ctx, chain[i].get()) != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          cert_what, ": chain certificate not usable: ", internal::DrainOpenSslErrors()));
    }
  }
  BioPtr bio = MemBio(pem.key_pem);
  if (bio == nullptr) return absl::InvalidArgumentError(absl::StrCat(key_what, ": too large"));
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, &NoPassphrase, nullptr));
  if (key == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        key_what, ": no usable (unencrypted) PEM private key: ", internal::DrainOpenSslErrors()));
  }
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(key_what, " does not match the certificate (",
                                                   cert_what,
                                                   "): ", internal::DrainOpenSslErrors()));
  }
  return absl::OkStatus();
}

absl::Status AddTrustAnchors(SSL_CTX* ctx, std::string_view pem, const std::string& what) {
  MESHVPN_ASSIGN_OR_RETURN(std::vector<X509Ptr> certs, ReadCertificates(pem, what));
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  for (const X509Ptr& cert : certs) {
    if (X509_STORE_add_cert(store, cert.get()) != 1) {
      // The same certificate twice (in the file and the PEM text) is not an error.
      const unsigned long e = ERR_peek_last_error();
      if (ERR_GET_REASON(e) == X509_R_CERT_ALREADY_IN_HASH_TABLE) {
        ERR_clear_error();
        continue;
      }
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": cannot add a CA: ", internal::DrainOpenSslErrors()));
    }
  }
  return absl::OkStatus();
}

// ALPN wire format: each protocol as a length byte and its name.
absl::StatusOr<std::vector<uint8_t>> AlpnWire(const std::vector<std::string>& protocols) {
  std::vector<uint8_t> wire;
  for (const std::string& p : protocols) {
    if (p.empty() || p.size() > 255) {
      return absl::InvalidArgumentError("ALPN protocol names must be 1 to 255 bytes");
    }
    wire.push_back(static_cast<uint8_t>(p.size()));
    wire.insert(wire.end(), p.begin(), p.end());
  }
  if (wire.size() > 0xffff) return absl::InvalidArgumentError("ALPN list too long");
  return wire;
}

absl::Status SetVersions(SSL_CTX* ctx, bool allow_tls12) {
  if (SSL_CTX_set_min_proto_version(ctx, allow_tls12 ? TLS1_2_VERSION : TLS1_3_VERSION) != 1) {
    return absl::InternalError("cannot set the minimum TLS version: " +
                               internal::DrainOpenSslErrors());
  }
  return absl::OkStatus();
}

}  // namespace

// The server's ALPN choice: the first protocol of its own preference list that the client offers.
struct AlpnSelector {
  static int Select(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                    unsigned int inlen, void* arg) {
    const TlsContext* context = static_cast<const TlsContext*>(arg);
    const std::vector<uint8_t>& prefs = context->alpn_wire_;
    for (size_t i = 0; i < prefs.size(); i += 1 + prefs[i]) {
      const uint8_t len = prefs[i];
      // Walk the client's list, which OpenSSL has checked is well formed.
      for (unsigned int j = 0; j < inlen && j + 1 + in[j] <= inlen; j += 1 + in[j]) {
        if (in[j] == len && std::memcmp(in + j + 1, prefs.data() + i + 1, len) == 0) {
          *out = prefs.data() + i + 1;
          *outlen = len;
          return SSL_TLSEXT_ERR_OK;
        }
      }
    }
    // RFC 7301: no_application_protocol, or carry on as if ALPN had not been offered.
    return context->require_alpn_match_ ? SSL_TLSEXT_ERR_ALERT_FATAL : SSL_TLSEXT_ERR_NOACK;
  }
};

// The client's check of the server's certificate, in place of OpenSSL's: the chain against the
// trust anchors (CA mode), then the leaf's key against the pins (when there are pins).
struct TlsContext::Verifier {
  bool verify_chain = false;
  std::vector<SpkiPin> pins;

  static int Verify(X509_STORE_CTX* store_ctx, void* arg) {
    const Verifier* self = static_cast<const Verifier*>(arg);
    if (self->verify_chain && X509_verify_cert(store_ctx) != 1) return 0;
    if (self->pins.empty()) return 1;
    absl::StatusOr<SpkiPin> pin = internal::SpkiPinOfX509(X509_STORE_CTX_get0_cert(store_ctx));
    if (pin.ok()) {
      for (const SpkiPin& want : self->pins) {
        if (CRYPTO_memcmp(want.data(), pin->data(), want.size()) == 0) return 1;
      }
    }
    // TlsSession reports this code as "matches no pinned key": nothing else here raises it.
    X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_APPLICATION_VERIFICATION);
    return 0;
  }
};

TlsContext::TlsContext(ssl_ctx_st* ctx, bool server) : ctx_(ctx), server_(server) {}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

absl::StatusOr<std::shared_ptr<TlsContext>> TlsContext::NewServer(const TlsServerOptions& options) {
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) {
    return absl::InternalError("SSL_CTX_new failed: " + internal::DrainOpenSslErrors());
  }
  std::shared_ptr<TlsContext> context(new TlsContext(ctx, /*server=*/true));
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  // No server-side session cache: it would keep every TLS 1.2 session in this shared context for
  // minutes (thousands of DERP connections), behind a lock. Resumption still works through
  // stateless tickets, which is all TLS 1.3 uses anyway.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  // A detached session has no SSL left to make tickets with, and its record layer expects the
  // first application record under fresh keys: no tickets at all.
  const int tickets = options.detach_after_handshake ? 0 : options.session_tickets;
  if (tickets >= 0 && SSL_CTX_set_num_tickets(ctx, static_cast<size_t>(tickets)) != 1) {
    return absl::InternalError("SSL_CTX_set_num_tickets failed: " + internal::DrainOpenSslErrors());
  }
  if (tickets == 0) SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  if (options.detach_after_handshake) {
    context->detach_after_handshake_ = true;
    SSL_CTX_set_keylog_callback(ctx, &internal::CaptureTrafficSecret);
  }
  MESHVPN_RETURN_IF_ERROR(SetVersions(ctx, options.allow_tls12));

  if (!options.cert_file.empty() || !options.key_file.empty()) {
    if (options.cert_file.empty() || options.key_file.empty()) {
      return absl::InvalidArgumentError("TLS server: give both cert_file and key_file, or neither");
    }
    CertificateAndKey pem;  // wipes the key it read on every path out
    MESHVPN_RETURN_IF_ERROR(ReadPemFile(options.cert_file, "certificate file", &pem.cert_pem));
    MESHVPN_RETURN_IF_ERROR(ReadPemFile(options.key_file, "key file", &pem.key_pem));
    MESHVPN_RETURN_IF_ERROR(
        UseCertificateAndKey(ctx, pem, absl::StrCat("certificate file '", options.cert_file, "'"),
                             absl::StrCat("key file '", options.key_file, "'")));
  } else if (!options.pem.cert_pem.empty() || !options.pem.key_pem.empty()) {
    MESHVPN_RETURN_IF_ERROR(
        UseCertificateAndKey(ctx, options.pem, "certificate PEM", "private key PEM"));
  } else {
    return absl::InvalidArgumentError("TLS server: no certificate (cert_file/key_file or pem)");
  }

  if (!options.alpn.empty()) {
    MESHVPN_ASSIGN_OR_RETURN(context->alpn_wire_, AlpnWire(options.alpn));
    context->require_alpn_match_ = options.require_alpn_match;
    SSL_CTX_set_alpn_select_cb(ctx, &AlpnSelector::Select, context.get());
  }
  return context;
}

absl::StatusOr<std::shared_ptr<TlsContext>> TlsContext::NewClient(const TlsClientOptions& options) {
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) {
    return absl::InternalError("SSL_CTX_new failed: " + internal::DrainOpenSslErrors());
  }
  std::shared_ptr<TlsContext> context(new TlsContext(ctx, /*server=*/false));
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  MESHVPN_RETURN_IF_ERROR(SetVersions(ctx, options.allow_tls12));

  if (!options.alpn.empty()) {
    MESHVPN_ASSIGN_OR_RETURN(std::vector<uint8_t> wire, AlpnWire(options.alpn));
    if (SSL_CTX_set_alpn_protos(ctx, wire.data(), static_cast<unsigned int>(wire.size())) != 0) {
      return absl::InternalError("cannot set the ALPN offer: " + internal::DrainOpenSslErrors());
    }
  }

  if (options.insecure_skip_verify) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    return context;
  }

  const bool explicit_ca = !options.ca_file.empty() || !options.ca_pem.empty();
  const bool ca_mode = explicit_ca || options.system_roots || options.pins.empty();
  if (!options.ca_file.empty()) {
    std::string pem;
    MESHVPN_RETURN_IF_ERROR(ReadPemFile(options.ca_file, "CA file", &pem));
    MESHVPN_RETURN_IF_ERROR(
        AddTrustAnchors(ctx, pem, absl::StrCat("CA file '", options.ca_file, "'")));
  }
  if (!options.ca_pem.empty()) {
    MESHVPN_RETURN_IF_ERROR(AddTrustAnchors(ctx, options.ca_pem, "CA PEM"));
  }
  if (options.system_roots || (ca_mode && !explicit_ca)) {
    if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
      return absl::FailedPreconditionError("cannot load the system's trusted certificates: " +
                                           internal::DrainOpenSslErrors());
    }
  }

  context->verifier_ = std::make_unique<Verifier>();
  context->verifier_->verify_chain = ca_mode;
  context->verifier_->pins = options.pins;
  context->checks_hostname_ = ca_mode && options.verify_hostname;
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_cert_verify_callback(ctx, &Verifier::Verify, context->verifier_.get());
  return context;
}

}  // namespace meshvpn::http
