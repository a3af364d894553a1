// Address text: host, port, URL.
#include "common/host_port.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"

namespace meshvpn::tools {

std::string HostOf(const std::string& addr) {
  const size_t colon = addr.rfind(':');
  std::string host = colon == std::string::npos ? addr : addr.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  return host;
}

absl::StatusOr<std::pair<std::string, uint16_t>> SplitHostPort(const std::string& text,
                                                               uint16_t default_port) {
  std::string host = text;
  std::string port_text;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string::npos) return absl::InvalidArgumentError("unclosed [");
    host = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') return absl::InvalidArgumentError("expected :PORT after ]");
      port_text = text.substr(close + 2);
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    const size_t colon = text.find(':');
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  uint32_t port = default_port;
  if (!port_text.empty() && (!absl::SimpleAtoi(port_text, &port) || port == 0 || port > 65535)) {
    return absl::InvalidArgumentError("bad port");
  }
  if (host.empty()) return absl::InvalidArgumentError("no host");
  return std::make_pair(host, static_cast<uint16_t>(port));
}

absl::StatusOr<HttpUrl> ParseHttpUrl(const std::string& url) {
  HttpUrl out;
  std::string rest;
  if (absl::StartsWith(url, "https://")) {
    out.tls = true;
    rest = url.substr(8);
  } else if (absl::StartsWith(url, "http://")) {
    rest = url.substr(7);
  } else {
    return absl::InvalidArgumentError("not an http:// or https:// URL");
  }
  auto host_port = SplitHostPort(rest.substr(0, rest.find('/')), out.tls ? 443 : 80);
  if (!host_port.ok()) return host_port.status();
  out.host = host_port->first;
  out.port = host_port->second;
  return out;
}

}  // namespace meshvpn::tools
