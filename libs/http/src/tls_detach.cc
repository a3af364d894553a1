// The key-log capture that lets a server TlsSession leave OpenSSL after a TLS 1.3 handshake.
#include "tls_detach.h"

#include <openssl/ssl.h>

#include "meshvpn/base/secure.h"
#include "meshvpn/http/tls_session.h"

namespace meshvpn::http::internal {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Hex into `out`; the length, or 0 if it is not hex or does not fit.
size_t DecodeHex(std::string_view hex, std::array<uint8_t, 48>* out) {
  if (hex.empty() || hex.size() % 2 != 0 || hex.size() / 2 > out->size()) return 0;
  for (size_t i = 0; i < hex.size() / 2; ++i) {
    const int hi = HexDigit(hex[2 * i]);
    const int lo = HexDigit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      SecureWipe(MutableByteSpan(*out));
      return 0;
    }
    (*out)[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return hex.size() / 2;
}

}  // namespace

PendingTrafficSecrets::~PendingTrafficSecrets() {
  SecureWipe(MutableByteSpan(client));
  SecureWipe(MutableByteSpan(server));
}

void TakeKeyLogLine(std::string_view line, PendingTrafficSecrets* secrets) {
  // "<LABEL> <client random, 64 hex> <secret, hex>" (NSS key log format).
  const size_t first = line.find(' ');
  if (first == std::string_view::npos) return;
  const size_t second = line.find(' ', first + 1);
  if (second == std::string_view::npos) return;
  const std::string_view label = line.substr(0, first);
  const std::string_view secret = line.substr(second + 1);
  if (label == "CLIENT_TRAFFIC_SECRET_0") {
    secrets->client_len = DecodeHex(secret, &secrets->client);
  } else if (label == "SERVER_TRAFFIC_SECRET_0") {
    secrets->server_len = DecodeHex(secret, &secrets->server);
  }
}

void CaptureTrafficSecret(const ssl_st* ssl, const char* line) {
  auto* session = static_cast<TlsSession*>(SSL_get_app_data(ssl));
  if (session == nullptr || line == nullptr) return;
  const std::string_view text(line);
  if (!text.starts_with("CLIENT_TRAFFIC_SECRET_0 ") &&
      !text.starts_with("SERVER_TRAFFIC_SECRET_0 ")) {
    return;
  }
  if (session->secrets_ == nullptr) {
    session->secrets_ = std::make_unique<PendingTrafficSecrets>();
  }
  TakeKeyLogLine(text, session->secrets_.get());
}

}  // namespace meshvpn::http::internal
