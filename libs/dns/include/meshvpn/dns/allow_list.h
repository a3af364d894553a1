// AllowList: the client prefixes a DNS server answers; everyone else gets REFUSED, so the server
// is never an open resolver. IpPrefix is an address prefix of either family.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "meshvpn/udp/endpoint.h"

namespace meshvpn::dns {

struct IpPrefix {
  udp::AddressFamily family = udp::AddressFamily::kIpv4;
  std::array<uint8_t, 16> bytes{};  // network order; bits past `bits` are zero
  uint8_t bits = 0;

  // "100.64.0.0/10", "fd7a:115c:a1e0::/48", or a bare address (a /32 or /128). Host bits set
  // ("100.64.1.2/10") are refused: they usually mean a typo.
  static absl::StatusOr<IpPrefix> Parse(std::string_view text);
  bool Contains(udp::AddressFamily family, std::span<const uint8_t> address) const;
  bool Contains(const udp::Endpoint& e) const { return Contains(e.family(), e.address()); }
  std::string ToString() const;
  friend bool operator==(const IpPrefix&, const IpPrefix&) = default;
};

// The tailnet's ranges: 100.64.0.0/10 (CGNAT, where Tailscale puts node addresses) and
// fd7a:115c:a1e0::/48 (Tailscale's ULA).
const IpPrefix& TailnetV4Prefix();
const IpPrefix& TailnetV6Prefix();

class AllowList {
 public:
  AllowList() = default;  // allows nobody
  explicit AllowList(std::vector<IpPrefix> prefixes) : prefixes_(std::move(prefixes)) {}
  // The tailnet's two ranges and the host itself (127.0.0.0/8, ::1): what magic-dns answers by
  // default.
  static AllowList TailnetAndLoopback();

  bool Allows(const udp::Endpoint& client) const;
  const std::vector<IpPrefix>& prefixes() const { return prefixes_; }

 private:
  std::vector<IpPrefix> prefixes_;
};

}  // namespace meshvpn::dns
