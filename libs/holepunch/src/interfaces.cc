#include "meshvpn/holepunch/interfaces.h"

#include <ifaddrs.h>
#include <net/if.h>

#include <algorithm>
#include <cerrno>

#include "meshvpn/base/errno_status.h"

namespace meshvpn::holepunch {
namespace {

bool IsLinkLocal(const udp::Endpoint& e) {
  const auto a = e.address();
  if (e.is_v4()) return a[0] == 169 && a[1] == 254;
  return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

}  // namespace

std::vector<udp::Endpoint> FilterAddresses(const std::vector<udp::Endpoint>& addresses,
                                           InterfaceFilter filter) {
  std::vector<udp::Endpoint> out;
  for (const udp::Endpoint& a : addresses) {
    const udp::Endpoint e = a.WithPort(0);
    if (e.IsUnspecified()) continue;
    if (e.IsLoopback() && !filter.loopback) continue;
    if (e.is_v6() && !filter.ipv6) continue;
    if (IsLinkLocal(e) && !filter.link_local) continue;
    if (std::find(out.begin(), out.end(), e) == out.end()) out.push_back(e);
  }
  return out;
}

absl::StatusOr<std::vector<udp::Endpoint>> InterfaceAddresses(InterfaceFilter filter) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return ErrnoToStatus(errno, "getifaddrs");
  std::vector<udp::Endpoint> all;
  for (const ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || (i->ifa_flags & IFF_UP) == 0) continue;
    const int family = i->ifa_addr->sa_family;
    if (family != AF_INET && family != AF_INET6) continue;
    const socklen_t len = family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
    if (auto e = udp::Endpoint::FromSockaddr(i->ifa_addr, len)) all.push_back(*e);
  }
  freeifaddrs(list);
  return FilterAddresses(all, filter);
}

}  // namespace meshvpn::holepunch
