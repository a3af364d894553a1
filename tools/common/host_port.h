// Address text the tools take on their command lines: the host of "ADDR:PORT", "HOST[:PORT]"
// split, and "http(s)://HOST[:PORT][/...]" URLs.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/statusor.h"

namespace meshvpn::tools {

// The IP of "ADDR:PORT" without brackets ("[::1]:80" -> "::1"; ":443" has none: "").
std::string HostOf(const std::string& addr);

// "host", "host:port", "1.2.3.4:port", "[2001:db8::1]:port" -> host and port (default_port when
// there is none).
absl::StatusOr<std::pair<std::string, uint16_t>> SplitHostPort(const std::string& text,
                                                               uint16_t default_port);

struct HttpUrl {
  bool tls = false;  // https
  std::string host;
  uint16_t port = 0;  // 443 or 80 when the URL has none
};
// "http://host:8080", "https://hs.example.com/any/path" -> scheme, host, port.
absl::StatusOr<HttpUrl> ParseHttpUrl(const std::string& url);

}  // namespace meshvpn::tools
