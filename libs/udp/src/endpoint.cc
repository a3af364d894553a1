#include "meshvpn/udp/endpoint.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_format.h"

namespace meshvpn::udp {
namespace {

constexpr std::array<uint8_t, 12> kV4MappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

absl::Status ParseError(std::string_view text, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrFormat("endpoint \"%s\": %s", text, why));
}

// Decimal 0..65535, digits only (no sign, no spaces).
std::optional<uint16_t> ParsePort(std::string_view s) {
  if (s.empty() || s.size() > 5) return std::nullopt;
  uint32_t value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  if (value > 65535) return std::nullopt;
  return static_cast<uint16_t>(value);
}

std::optional<uint32_t> ParseScope(std::string_view s) {
  if (s.empty() || s.size() > 10) return std::nullopt;
  uint64_t value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  if (value > UINT32_MAX) return std::nullopt;
  return static_cast<uint32_t>(value);
}

// inet_pton needs a NUL-terminated string; addresses are short, so copy onto the stack.
bool PtoN(int af, std::string_view text, void* out) {
  char buf[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof(buf)) return false;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  return inet_pton(af, buf, out) == 1;
}

}  // namespace

std::string_view ToString(AddressFamily family) {
  return family == AddressFamily::kIpv4 ? "IPv4" : "IPv6";
}

Endpoint Endpoint::V4(std::array<uint8_t, 4> address, uint16_t port) {
  Endpoint e;
  std::copy(address.begin(), address.end(), e.address_.begin());
  e.port_ = port;
  e.family_ = AddressFamily::kIpv4;
  return e;
}

Endpoint Endpoint::V6(const std::array<uint8_t, 16>& address, uint16_t port, uint32_t scope_id) {
  if (std::equal(kV4MappedPrefix.begin(), kV4MappedPrefix.end(), address.begin())) {
    return V4({address[12], address[13], address[14], address[15]}, port);
  }
  Endpoint e;
  e.address_ = address;
  e.port_ = port;
  e.scope_id_ = scope_id;
  e.family_ = AddressFamily::kIpv6;
  return e;
}

Endpoint Endpoint::Any(AddressFamily family, uint16_t port) {
  return family == AddressFamily::kIpv4 ? V4({0, 0, 0, 0}, port) : V6({}, port);
}

Endpoint Endpoint::Loopback(AddressFamily family, uint16_t port) {
  if (family == AddressFamily::kIpv4) return V4({127, 0, 0, 1}, port);
  std::array<uint8_t, 16> one{};
  one[15] = 1;
  return V6(one, port);
}

absl::StatusOr<Endpoint> Endpoint::Parse(std::string_view text) {
  if (text.empty()) return ParseError(text, "empty (want host:port, [v6]:port or :port)");
  if (text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return ParseError(text, "missing ']'");
    std::string_view host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') return ParseError(text, "missing :port after ']'");
    const std::optional<uint16_t> port = ParsePort(rest.substr(1));
    if (!port) return ParseError(text, "port must be a number from 0 to 65535");
    uint32_t scope = 0;
    if (const size_t pct = host.find('%'); pct != std::string_view::npos) {
      const std::optional<uint32_t> parsed = ParseScope(host.substr(pct + 1));
      if (!parsed) return ParseError(text, "zone after '%' must be a numeric interface index");
      scope = *parsed;
      host = host.substr(0, pct);
    }
    std::array<uint8_t, 16> address{};
    if (!PtoN(AF_INET6, host, address.data())) return ParseError(text, "not an IPv6 address");
    return V6(address, *port, scope);
  }
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return ParseError(text, "missing :port");
  if (text.find(':') != colon) {
    return ParseError(text, "an IPv6 address needs brackets, as in [2001:db8::1]:4000");
  }
  const std::optional<uint16_t> port = ParsePort(text.substr(colon + 1));
  if (!port) return ParseError(text, "port must be a number from 0 to 65535");
  if (colon == 0) return Any(AddressFamily::kIpv6, *port);
  std::array<uint8_t, 4> address{};
  if (!PtoN(AF_INET, text.substr(0, colon), address.data())) {
    return ParseError(text, "not a numeric IPv4 address (host names need Resolve())");
  }
  return V4(address, *port);
}

std::optional<Endpoint> Endpoint::FromSockaddr(const sockaddr* addr, socklen_t len) {
  if (addr == nullptr) return std::nullopt;
  if (addr->sa_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    sockaddr_in sin;
    std::memcpy(&sin, addr, sizeof(sin));
    std::array<uint8_t, 4> a;
    std::memcpy(a.data(), &sin.sin_addr, 4);
    return V4(a, ntohs(sin.sin_port));
  }
  if (addr->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    sockaddr_in6 sin6;
    std::memcpy(&sin6, addr, sizeof(sin6));
    std::array<uint8_t, 16> a;
    std::memcpy(a.data(), &sin6.sin6_addr, 16);
    return V6(a, ntohs(sin6.sin6_port), sin6.sin6_scope_id);
  }
  return std::nullopt;
}

socklen_t Endpoint::ToSockaddr(AddressFamily socket_family, sockaddr_storage* out) const {
  std::memset(out, 0, sizeof(*out));
  if (socket_family == AddressFamily::kIpv4) {
    if (!is_v4()) return 0;
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port_);
    std::memcpy(&sin.sin_addr, address_.data(), 4);
    std::memcpy(out, &sin, sizeof(sin));
    return sizeof(sin);
  }
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(port_);
  if (is_v4()) {
    uint8_t mapped[16];
    std::copy(kV4MappedPrefix.begin(), kV4MappedPrefix.end(), mapped);
    std::memcpy(mapped + 12, address_.data(), 4);
    std::memcpy(&sin6.sin6_addr, mapped, 16);
  } else {
    std::memcpy(&sin6.sin6_addr, address_.data(), 16);
    sin6.sin6_scope_id = scope_id_;
  }
  std::memcpy(out, &sin6, sizeof(sin6));
  return sizeof(sin6);
}

bool Endpoint::IsUnspecified() const {
  return std::all_of(address_.begin(), address_.end(), [](uint8_t b) { return b == 0; });
}

bool Endpoint::IsLoopback() const {
  if (is_v4()) return address_[0] == 127;
  for (size_t i = 0; i < 15; ++i) {
    if (address_[i] != 0) return false;
  }
  return address_[15] == 1;
}

std::string Endpoint::AddressString() const {
  char buf[INET6_ADDRSTRLEN];
  const char* s = inet_ntop(is_v4() ? AF_INET : AF_INET6, address_.data(), buf, sizeof(buf));
  return s != nullptr ? std::string(s) : std::string("?");
}

std::string Endpoint::ToString() const {
  if (is_v4()) return absl::StrFormat("%s:%d", AddressString(), port_);
  if (scope_id_ != 0) return absl::StrFormat("[%s%%%u]:%d", AddressString(), scope_id_, port_);
  return absl::StrFormat("[%s]:%d", AddressString(), port_);
}

}  // namespace meshvpn::udp
