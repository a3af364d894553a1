// IPv4 and IPv6 addresses and prefixes as numbers, so that sets of them are intervals the packet
// filter can search without allocating.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace meshvpn::acl {

using Uint128 = unsigned __int128;

enum class Family : uint8_t { kV4, kV6 };

// An address as a number: IPv4 in the low 32 bits, IPv6 in all 128.
struct Address {
  Family family = Family::kV4;
  Uint128 value = 0;

  static Address V4(uint32_t host_order) { return {Family::kV4, host_order}; }
  static Address V6(Uint128 value) { return {Family::kV6, value}; }
  // From 4 or 16 bytes in network order (an IP header's fields); false for any other size.
  static bool FromBytes(const uint8_t* bytes, size_t size, Address* out);

  bool is_v4() const { return family == Family::kV4; }
  int bits() const { return is_v4() ? 32 : 128; }
  // "100.64.0.1", "fd7a:115c:a1e0::1" (RFC 5952).
  std::string ToString() const;

  friend bool operator==(const Address&, const Address&) = default;
  friend bool operator<(const Address& a, const Address& b) {
    return a.family != b.family ? a.family < b.family : a.value < b.value;
  }
};

// "100.64.0.1" or "fd7a:115c:a1e0::1" (no brackets, no zone).
absl::StatusOr<Address> ParseAddress(std::string_view text);

// A network: the first `length` bits of `address` (host bits are cleared on parse).
struct Prefix {
  Address address;
  int length = 0;

  static Prefix Host(const Address& a) { return {a, a.bits()}; }
  static Prefix All(Family family) { return {{family, 0}, 0}; }
  Address first() const { return address; }
  Address last() const;
  bool Contains(const Address& a) const;
  bool Overlaps(const Prefix& other) const;
  // "100.64.0.0/10"; a host prefix prints as the bare address when `bare_host` is set.
  std::string ToString(bool bare_host = false) const;

  friend bool operator==(const Prefix&, const Prefix&) = default;
};

// "10.0.0.0/8", "fd00::/8", or a bare address (a host prefix). Host bits set ("10.0.0.1/8") are
// cleared, as Tailscale does for `hosts` entries; a length out of range or garbage is an error.
absl::StatusOr<Prefix> ParsePrefix(std::string_view text);

}  // namespace meshvpn::acl
