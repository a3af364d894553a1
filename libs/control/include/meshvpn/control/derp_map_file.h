// The DERP map as a file: Tailscale's JSON form of tailcfg.DERPMap (what Headscale's
// derp.paths and Tailscale's derpMap policy use: {"Regions": {"900": {"RegionID": 900, ...}}}),
// read into the control protocol's DerpMap and written back, with validation.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "meshvpn/control/v1/control.pb.h"

namespace meshvpn::control {

// The largest DERP map file accepted.
inline constexpr size_t kMaxDerpMapBytes = 1 << 20;

// Parses Tailscale's DERPMap JSON. Node fields: Name, RegionID, HostName, IPv4, IPv6,
// STUNPort (0: 3478, -1: none), STUNOnly, DERPPort (0: 443), InsecureForTests, and our
// extensions PlainHTTP (the relay speaks HTTP without TLS, for labs) and Path. Unknown fields
// are ignored (Tailscale adds some over time). Errors name the region and node at fault.
absl::StatusOr<v1::DerpMap> ParseDerpMapJson(std::string_view json);
// The same form back (regions in id order).
std::string DerpMapToJson(const v1::DerpMap& map);

}  // namespace meshvpn::control
