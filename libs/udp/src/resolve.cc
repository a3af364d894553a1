#include "meshvpn/udp/resolve.h"

#include <netdb.h>

#include <memory>
#include <string>

#include "absl/strings/str_format.h"

namespace meshvpn::udp {
namespace {

struct AddrInfoDeleter {
  void operator()(addrinfo* ai) const { freeaddrinfo(ai); }
};

}  // namespace

absl::StatusOr<Endpoint> Resolve(std::string_view host_port, std::optional<AddressFamily> prefer) {
  if (absl::StatusOr<Endpoint> numeric = Endpoint::Parse(host_port); numeric.ok()) return numeric;

  std::string_view host;
  std::string_view port;
  if (!host_port.empty() && host_port.front() == '[') {
    const size_t close = host_port.find(']');
    if (close == std::string_view::npos || close + 1 >= host_port.size() ||
        host_port[close + 1] != ':') {
      return Endpoint::Parse(host_port).status();
    }
    host = host_port.substr(1, close - 1);
    port = host_port.substr(close + 2);
  } else {
    const size_t colon = host_port.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return Endpoint::Parse(host_port).status();
    host = host_port.substr(0, colon);
    port = host_port.substr(colon + 1);
  }
  // Check the port with the same rules as Parse, on a numeric stand-in for the host.
  absl::StatusOr<Endpoint> port_only = Endpoint::Parse(absl::StrFormat(":%s", port));
  if (!port_only.ok()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("endpoint \"%s\": port must be a number from 0 to 65535", host_port));
  }

  addrinfo hints{};
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_family = AF_UNSPEC;
  addrinfo* raw = nullptr;
  const std::string host_str(host);
  const int rc = getaddrinfo(host_str.c_str(), nullptr, &hints, &raw);
  std::unique_ptr<addrinfo, AddrInfoDeleter> list(raw);
  if (rc != 0) {
    return absl::NotFoundError(absl::StrFormat(
        "resolve \"%s\": %s", host_str, rc == EAI_SYSTEM ? "system error" : gai_strerror(rc)));
  }
  std::optional<Endpoint> first;
  for (const addrinfo* ai = list.get(); ai != nullptr; ai = ai->ai_next) {
    std::optional<Endpoint> e = Endpoint::FromSockaddr(ai->ai_addr, ai->ai_addrlen);
    if (!e) continue;
    Endpoint with_port = e->WithPort(port_only->port());
    if (!prefer || with_port.family() == *prefer) return with_port;
    if (!first) first = with_port;
  }
  if (first) return *first;
  return absl::NotFoundError(absl::StrFormat("resolve \"%s\": no IPv4 or IPv6 address", host_str));
}

}  // namespace meshvpn::udp
