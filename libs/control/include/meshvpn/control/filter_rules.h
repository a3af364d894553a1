// The packet filter on the wire: the acl library's filter entries turned into the map's
// FilterRules (grouped by sources and protocols), and back into entries a node can compile.
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "meshvpn/acl/packet_filter.h"
#include "meshvpn/control/v1/control.pb.h"

namespace meshvpn::control {

// One FilterRule per distinct (sources, protocols); its dst_ports list every destination prefix
// and port range of those entries. Protocols are left empty when they are the default (TCP, UDP,
// ICMP, ICMPv6), as the wire format defines.
std::vector<v1::FilterRule> ToFilterRules(const std::vector<acl::FilterEntry>& entries);

// The other way, for a node: "*" or prefixes in src_ips and dst_ports' ip. Refuses a bad
// prefix, a port above 65535 or first > last, a protocol above 255.
absl::StatusOr<std::vector<acl::FilterEntry>> FromFilterRules(
    const std::vector<v1::FilterRule>& rules);

}  // namespace meshvpn::control
