// The host's own interface addresses (getifaddrs): the "local" candidates a peer on the same
// LAN can reach without any NAT in between.
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "meshvpn/udp/endpoint.h"

namespace meshvpn::holepunch {

struct InterfaceFilter {
  bool loopback = false;    // 127.0.0.0/8 and ::1 (useful only when both peers share a host)
  bool ipv6 = true;         // global and unique-local IPv6 addresses
  bool link_local = false;  // fe80::/10 (needs a scope id) and 169.254.0.0/16
};

// The addresses of interfaces that are up, in getifaddrs order, deduplicated, with port 0.
// Setup code only (a system call, allocation).
absl::StatusOr<std::vector<udp::Endpoint>> InterfaceAddresses(InterfaceFilter filter = {});

// The pure part: applies `filter` to `addresses` (tests use it without a real host).
std::vector<udp::Endpoint> FilterAddresses(const std::vector<udp::Endpoint>& addresses,
                                           InterfaceFilter filter);

}  // namespace meshvpn::holepunch
