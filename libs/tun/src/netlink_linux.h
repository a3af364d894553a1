// Linux rtnetlink requests the TUN setup needs (private to tun).
#pragma once

#include <chrono>
#include <string_view>

#include "absl/status/status.h"
#include "meshvpn/tun/ip_address.h"

namespace meshvpn::tun::internal {

// Sends RTM_NEWADDR for `prefix` on interface `ifindex` and waits for the kernel's ack. Errors
// read "tun: add address 10.0.0.1/24 to <ifname>: <strerror>".
absl::Status NetlinkAddAddress(int ifindex, std::string_view ifname, const IpPrefix& prefix);

// Waits until the kernel delivers packets for `address` locally (a route lookup, RTM_GETROUTE,
// answers RTN_LOCAL). An IPv6 address becomes usable asynchronously, in the kernel's duplicate
// address detection work, even with IFA_F_NODAD on a NOARP device; until then packets to it are
// routed (and dropped) instead of delivered. Polls every millisecond up to `timeout`.
absl::Status NetlinkWaitUntilLocal(const IpAddress& address, std::string_view ifname,
                                   std::chrono::milliseconds timeout);

}  // namespace meshvpn::tun::internal
