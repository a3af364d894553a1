// IPAM's pure parts: the tailnet's IPv4 and IPv6 prefixes, which of their addresses may be handed
// to a node, and the mapping between an address and its offset in the prefix.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace meshvpn::control {

// Tailscale's ranges: the CGNAT block and its ULA prefix.
inline constexpr std::string_view kDefaultIpv4Prefix = "100.64.0.0/10";
inline constexpr std::string_view kDefaultIpv6Prefix = "fd7a:115c:a1e0::/48";
// Tailscale's MagicDNS resolver ("quad 100") and its IPv6 twin; never handed to a node.
inline constexpr std::string_view kMagicDnsIpv4 = "100.100.100.100";
inline constexpr std::string_view kMagicDnsIpv6 = "fd7a:115c:a1e0::53";

enum class IpFamily { kIpv4, kIpv6 };
std::string_view ToString(IpFamily family);

// An address of either family: 4 or 16 bytes in network order (only the first 4 used for IPv4).
struct IpAddress {
  IpFamily family = IpFamily::kIpv4;
  std::array<uint8_t, 16> bytes{};

  // "100.64.0.1" or "fd7a:115c:a1e0::1" (RFC 5952's canonical form, as inet_ntop writes it):
  // the store keeps this text, so one address always has one spelling.
  std::string ToString() const;
  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

// Accepts dotted IPv4 and any RFC 4291 IPv6 text (not IPv4-mapped forms' zone ids).
absl::StatusOr<IpAddress> ParseIpAddress(std::string_view text);

// A network: its address with every host bit zero, and the prefix length.
struct IpPrefix {
  IpAddress network;
  int length = 0;

  std::string ToString() const;  // "100.64.0.0/10"
  bool Contains(const IpAddress& address) const;
  friend bool operator==(const IpPrefix&, const IpPrefix&) = default;
};

// "100.64.0.0/10", "fd7a:115c:a1e0::/48". Refuses host bits set ("100.64.0.1/10": a typo that
// would silently mean a different network), a missing or out-of-range length, and garbage.
absl::StatusOr<IpPrefix> ParseIpPrefix(std::string_view text);

// The addresses of one prefix that nodes may hold, numbered by offset from the network address.
// Reserved, never handed out: the network address (offset 0), the IPv4 broadcast address (the
// last one), and the MagicDNS resolver address when it falls inside the prefix. An IPv6 prefix
// shorter than /64 is used only in its first 2^62 addresses (offsets fit a signed 64-bit column).
class AddressPool {
 public:
  // IPv4 prefixes up to /30 (two usable addresses) and IPv6 up to /126.
  static absl::StatusOr<AddressPool> Create(const IpPrefix& prefix);
  static absl::StatusOr<AddressPool> Parse(std::string_view prefix_text);

  const IpPrefix& prefix() const { return prefix_; }
  IpFamily family() const { return prefix_.network.family; }
  // Offsets run over [0, size()): every address, reserved ones included.
  uint64_t size() const { return size_; }
  // Addresses a node may hold: size() minus the reserved ones.
  uint64_t usable() const { return usable_; }

  bool IsReserved(uint64_t offset) const;
  // The address at `offset` (< size()).
  IpAddress AddressAt(uint64_t offset) const;
  // NotFound if `address` is outside the pool's range.
  absl::StatusOr<uint64_t> OffsetOf(const IpAddress& address) const;

  // The first offset at or after `start` (wrapping around to 1) that is neither reserved nor
  // `is_used`; ResourceExhausted ("no free IPv4 address left in 100.64.0.0/30") when every usable
  // address is taken, and is_used's error if it fails. `start` outside [1, size()) starts at 1.
  // Calls is_used at most usable() times.
  absl::StatusOr<uint64_t> FindFree(
      uint64_t start, const std::function<absl::StatusOr<bool>(uint64_t)>& is_used) const;

 private:
  explicit AddressPool(IpPrefix prefix);

  IpPrefix prefix_;
  uint64_t size_ = 0;
  uint64_t usable_ = 0;
  uint64_t magic_dns_offset_ = 0;  // 0: the resolver address is outside this prefix
};

// The tailnet's two pools. Addresses are stable per node: a node keeps the pair it was given at
// registration for its whole life, even if the configured prefixes change later.
struct IpamConfig {
  std::string ipv4_prefix{kDefaultIpv4Prefix};
  std::string ipv6_prefix{kDefaultIpv6Prefix};
};

}  // namespace meshvpn::control
