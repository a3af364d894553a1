// Reverse-lookup (PTR) names: an address to "5.0.64.100.in-addr.arpa" or its ip6.arpa nibble
// form, and such a name back to the address (or prefix) it stands for. No allocation.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "meshvpn/dns/name.h"
#include "meshvpn/udp/endpoint.h"

namespace meshvpn::dns {

// The reverse name of a 4-byte (IPv4) or 16-byte (IPv6) address, network order: "d.c.b.a.
// in-addr.arpa" for a.b.c.d, 32 nibbles (lowest first, lowercase hex) then "ip6.arpa" for IPv6.
// False for other sizes.
bool ReverseName(std::span<const uint8_t> address, Name* out);

enum class ReverseParse : uint8_t {
  kOk,          // an address (prefix_bits 32 / 128) or a prefix of one (fewer labels)
  kNotReverse,  // not in in-addr.arpa or ip6.arpa
  kMalformed,   // in one of them, but a label is not a canonical octet ("0".."255", no
                // leading zero) or a single hex nibble, or there are too many labels
};
std::string_view ToString(ReverseParse r);

// What a reverse name names. A name with fewer labels than a full address, such as
// "64.100.in-addr.arpa", is a prefix (100.64.0.0/16): its remaining bytes are zero. The bare
// zones "in-addr.arpa" and "ip6.arpa" are prefixes of length 0.
struct ReverseAddress {
  udp::AddressFamily family = udp::AddressFamily::kIpv4;
  std::array<uint8_t, 16> bytes{};
  size_t prefix_bits = 0;

  bool full() const { return prefix_bits == (family == udp::AddressFamily::kIpv4 ? 32 : 128); }
  std::span<const uint8_t> address() const {
    return {bytes.data(), family == udp::AddressFamily::kIpv4 ? 4u : 16u};
  }
};

// Parses an uncompressed wire name (any case, e.g. Query::name or Query::lower).
ReverseParse ParseReverseName(std::span<const uint8_t> wire_name, ReverseAddress* out);

}  // namespace meshvpn::dns
