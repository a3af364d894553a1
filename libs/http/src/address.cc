// HostPort strings ("host:port", "[v6]:port"), IP literal checks, and http/https URL splitting.
#include "meshvpn/http/address.h"

#include <arpa/inet.h>
#include <http_parser.h>

#include <string>

#include "absl/strings/ascii.h"
#include "meshvpn/http/headers.h"

namespace meshvpn::http {
namespace {

// inet_pton reads a C string: a NUL inside `host` would hide what follows it.
bool FitsCString(std::string_view host, size_t max) {
  return !host.empty() && host.size() < max && host.find('\0') == std::string_view::npos;
}

bool IsIpv6Literal(std::string_view host) {
  if (!FitsCString(host, INET6_ADDRSTRLEN)) return false;
  const std::string copy(host);
  in6_addr addr;
  return inet_pton(AF_INET6, copy.c_str(), &addr) == 1;
}

bool IsIpv4Literal(std::string_view host) {
  if (!FitsCString(host, INET_ADDRSTRLEN)) return false;
  const std::string copy(host);
  in_addr addr;
  return inet_pton(AF_INET, copy.c_str(), &addr) == 1;
}

// A host name as DNS or /etc/hosts knows it: letters, digits, '-', '_' and dots.
bool IsHostName(std::string_view host) {
  if (host.size() > 253) return false;
  for (char c : host) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return false;
    }
  }
  return true;
}

// A decimal port, 0 to 65535, without sign, spaces or leading junk.
bool ParsePort(std::string_view text, uint16_t* port) {
  if (text.empty() || text.size() > 5) return false;
  uint32_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  if (value > 65535) return false;
  *port = static_cast<uint16_t>(value);
  return true;
}

std::string BracketIfV6(std::string_view host) {
  std::string out;
  if (host.find(':') != std::string_view::npos) {
    out.append("[").append(host).append("]");
  } else {
    out.append(host);
  }
  return out;
}

}  // namespace

std::string HostPort::ToString() const { return BracketIfV6(host) + ":" + std::to_string(port); }

std::string HostPort::HostField(uint16_t default_port) const {
  if (port == default_port) return BracketIfV6(host);
  return ToString();
}

absl::StatusOr<HostPort> ParseHostPort(std::string_view text) {
  HostPort result;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) {
      return absl::InvalidArgumentError("address: '[' without ']'");
    }
    const std::string_view host = text.substr(1, close - 1);
    if (!IsIpv6Literal(host)) {
      return absl::InvalidArgumentError("address: not an IPv6 literal inside [ ]");
    }
    const std::string_view rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') {
      return absl::InvalidArgumentError("address: missing :port after ]");
    }
    result.host = std::string(host);
    port_text = rest.substr(1);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return absl::InvalidArgumentError("address: missing :port");
    }
    const std::string_view host = text.substr(0, colon);
    if (host.find(':') != std::string_view::npos) {
      return absl::InvalidArgumentError("address: an IPv6 literal needs brackets, [::1]:port");
    }
    if (!IsHostName(host)) {
      return absl::InvalidArgumentError("address: invalid character in host");
    }
    result.host = std::string(host);
    port_text = text.substr(colon + 1);
  }
  if (!ParsePort(port_text, &result.port)) {
    return absl::InvalidArgumentError("address: the port must be a number from 0 to 65535");
  }
  return result;
}

bool IsIpLiteral(std::string_view host) { return IsIpv4Literal(host) || IsIpv6Literal(host); }

absl::StatusOr<Url> ParseUrl(std::string_view url) {
  http_parser_url u;
  http_parser_url_init(&u);
  if (url.empty() || http_parser_parse_url(url.data(), url.size(), 0, &u) != 0) {
    return absl::InvalidArgumentError("url: not a valid absolute URL");
  }
  auto field = [&](http_parser_url_fields f) {
    if ((u.field_set & (1 << f)) == 0) return std::string_view();
    return url.substr(u.field_data[f].off, u.field_data[f].len);
  };
  auto has = [&](http_parser_url_fields f) { return (u.field_set & (1 << f)) != 0; };

  Url result;
  const std::string_view scheme = field(UF_SCHEMA);
  if (EqualsIgnoreCase(scheme, "https")) {
    result.tls = true;
  } else if (!EqualsIgnoreCase(scheme, "http")) {
    return absl::InvalidArgumentError("url: the scheme must be http or https");
  }
  if (has(UF_USERINFO)) {
    return absl::InvalidArgumentError("url: user information (user@host) is not supported");
  }
  const std::string_view host = field(UF_HOST);
  if (host.empty()) return absl::InvalidArgumentError("url: no host");
  if (host.find(':') != std::string_view::npos && !IsIpv6Literal(host)) {
    return absl::InvalidArgumentError("url: not an IPv6 literal inside [ ]");
  }
  result.address.host = std::string(host);
  result.address.port = has(UF_PORT) ? u.port : (result.tls ? 443 : 80);
  result.target.assign(has(UF_PATH) ? field(UF_PATH) : std::string_view("/"));
  if (has(UF_QUERY)) result.target.append("?").append(field(UF_QUERY));
  return result;
}

}  // namespace meshvpn::http
