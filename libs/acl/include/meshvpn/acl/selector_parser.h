// Reading the small languages inside a policy's strings: selectors ("group:x", "tag:y",
// "alice@", a CIDR, a host), destinations with ports ("host:22,80-90"), and grant ip entries.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "meshvpn/acl/policy.h"

namespace meshvpn::acl {

// Where a selector appears: each place allows a different subset of the kinds.
enum class SelectorPlace : uint8_t {
  kSrc,    // acls/grants src, tests src
  kDst,    // acls/grants dst, tests accept/deny hosts
  kOwner,  // tagOwners values, autoApprovers values
  kSshSrc,
  kSshDst,
};

// Classifies and checks one selector against the policy's groups, tagOwners and hosts (which
// must already be filled in). Errors say what is wrong ("undefined group \"group:x\"").
absl::StatusOr<Selector> ParseSelector(std::string_view text, SelectorPlace place,
                                       const Policy& policy);

// "tag:" followed by a letter (Tailscale's rule), without spaces, commas, colons, '*' or '@'.
bool IsTagName(std::string_view text);

// "*", "22", "80,443", "1000-2000", "22,8000-8100".
absl::StatusOr<std::vector<PortRange>> ParsePorts(std::string_view text);

// Splits "host:ports" at its last colon ("[v6]:ports" with brackets too).
absl::Status SplitHostPorts(std::string_view text, std::string* host, std::string* ports);

// One grant `ip` entry: "*" (every protocol and port), "tcp:443", "udp:53", "icmp:*",
// "6:22" (a protocol number), or bare ports "443" / "80,443". "*" and bare ports mean TCP, UDP
// and ICMP (not every protocol: "47" is port 47, not GRE). Port 0 is refused. Fills both out.
absl::Status ParseGrantIp(std::string_view text, ProtocolSet* protocols,
                          std::vector<PortRange>* ports);

}  // namespace meshvpn::acl
