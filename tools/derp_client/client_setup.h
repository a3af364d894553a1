// What every derp_client mode needs before it connects: the server URL, the TLS context that
// checks the server's certificate, and the client's key (a file, or a fresh key per run).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "meshvpn/derp/keys.h"
#include "meshvpn/derp/uv_client.h"
#include "meshvpn/http/tls_context.h"

namespace meshvpn::tools {

// "https://host[:port][/path]" or "http://..."; the path defaults to /derp. IPv6 hosts in
// brackets ("https://[::1]:3340").
struct ServerUrl {
  bool tls = true;
  std::string host;
  uint16_t port = 0;
  std::string path = "/derp";
  // The URL as given, for the start-up line.
  std::string text;
};
absl::StatusOr<ServerUrl> ParseServerUrl(std::string_view url);

// How the server's certificate is checked: --insecure (anything), --pin (its SPKI pin, as
// derp_server prints it), --ca-file, or by default the system's roots.
struct TlsChoice {
  bool insecure = false;
  std::vector<std::string> pins;
  std::string ca_file;
};
// Null for http://. InvalidArgument for a bad pin or contradictory choices.
absl::StatusOr<std::shared_ptr<const http::TlsContext>> MakeClientTls(const ServerUrl& url,
                                                                      const TlsChoice& choice);
// "pinned sha256//...", "insecure: any certificate", "CA file x.pem", "system roots".
std::string DescribeTls(const ServerUrl& url, const TlsChoice& choice);

// The client's private key in `path` ("privkey:<64 hex>", a trailing newline is fine), or if the
// file does not exist a new key written there with mode 0600 (atomically: a temporary file in
// the same directory, then renamed). A file readable by group or others is refused. Errors never
// echo the file's contents.
absl::StatusOr<derp::PrivateKey> LoadOrCreateClientKey(const std::string& path, bool* created);

// UvClient options for `url` with `tls` (the core's app name set to `app_name`).
derp::UvClientOptions MakeUvClientOptions(const ServerUrl& url,
                                          std::shared_ptr<const http::TlsContext> tls,
                                          const std::string& app_name);

// Whether a connection error looks like a certificate problem (for a hint about --pin).
bool LooksLikeCertificateError(std::string_view message);

}  // namespace meshvpn::tools
