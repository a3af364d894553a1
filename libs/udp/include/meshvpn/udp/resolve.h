// Resolving "host:port" with DNS (getaddrinfo) for setup code and tools; blocks, so never on a
// packet path or inside a loop callback that must stay fast.
#pragma once

#include <optional>
#include <string_view>

#include "absl/status/statusor.h"
#include "meshvpn/udp/endpoint.h"

namespace meshvpn::udp {

// Accepts everything Endpoint::Parse does, and also "name:port" / "[name]:port" with a host name
// looked up through the system resolver (/etc/hosts, DNS). With `prefer`, an address of that
// family is chosen when the name has both; otherwise the resolver's first answer wins.
// Errors: InvalidArgument for malformed text, NotFound when the name does not resolve.
absl::StatusOr<Endpoint> Resolve(std::string_view host_port,
                                 std::optional<AddressFamily> prefer = std::nullopt);

}  // namespace meshvpn::udp
