// HostPort: "host:port" / "[v6]:port" strings for the drivers' listen and connect addresses.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace meshvpn::http {

struct HostPort {
  std::string host;  // a name, an IPv4 literal or an IPv6 literal (without brackets)
  uint16_t port = 0;
  // "host:port", bracketing IPv6 literals.
  std::string ToString() const;
  // The Host field value for a request: the host, with ":port" unless it is `default_port`.
  std::string HostField(uint16_t default_port) const;
};

// Accepts "127.0.0.1:80", "[::1]:443", "localhost:8080", ":8080" (host ""). The port is needed.
absl::StatusOr<HostPort> ParseHostPort(std::string_view text);

// True if `host` is an IPv4 or IPv6 literal.
bool IsIpLiteral(std::string_view host);

// Splits "http://host:port/path?q" / "https://..." into scheme, host:port (default 80/443) and
// the request-target ("/" if absent). For the tools and tests.
struct Url {
  bool tls = false;
  HostPort address;
  std::string target = "/";
};
absl::StatusOr<Url> ParseUrl(std::string_view url);

}  // namespace meshvpn::http
