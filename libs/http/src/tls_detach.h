// Private to libs/http: how a server TlsSession learns its TLS 1.3 traffic secrets from OpenSSL
// (the key-log callback) so it can leave OpenSSL once the handshake is done.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

struct ssl_st;

namespace meshvpn::http::internal {

// The application traffic secrets of one handshake, wiped when dropped.
struct PendingTrafficSecrets {
  std::array<uint8_t, 48> client{};
  size_t client_len = 0;
  std::array<uint8_t, 48> server{};
  size_t server_len = 0;
  ~PendingTrafficSecrets();
};

// Parses one NSS key-log line; keeps CLIENT_TRAFFIC_SECRET_0 and SERVER_TRAFFIC_SECRET_0.
void TakeKeyLogLine(std::string_view line, PendingTrafficSecrets* secrets);

// SSL_CTX_set_keylog_callback's callback for detaching contexts: hands the line to the
// TlsSession that is the SSL's app data.
void CaptureTrafficSecret(const ssl_st* ssl, const char* line);

}  // namespace meshvpn::http::internal
