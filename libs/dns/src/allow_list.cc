// IpPrefix parsing and matching, and the allow list of clients.
#include "meshvpn/dns/allow_list.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

#include "absl/strings/str_cat.h"

namespace meshvpn::dns {

absl::StatusOr<IpPrefix> IpPrefix::Parse(std::string_view text) {
  const auto fail = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("prefix \"", std::string(text), "\": ", why));
  };
  const size_t slash = text.find('/');
  const std::string address(text.substr(0, slash));
  IpPrefix p;
  size_t max_bits = 32;
  if (inet_pton(AF_INET, address.c_str(), p.bytes.data()) == 1) {
    p.family = udp::AddressFamily::kIpv4;
  } else if (inet_pton(AF_INET6, address.c_str(), p.bytes.data()) == 1) {
    p.family = udp::AddressFamily::kIpv6;
    max_bits = 128;
  } else {
    return fail("not an IPv4 or IPv6 address");
  }
  size_t bits = max_bits;
  if (slash != std::string_view::npos) {
    const std::string_view length = text.substr(slash + 1);
    const auto [end, ec] = std::from_chars(length.data(), length.data() + length.size(), bits);
    if (length.empty() || ec != std::errc() || end != length.data() + length.size() ||
        bits > max_bits) {
      return fail(absl::StrCat("want a length 0..", max_bits, " after the /"));
    }
  }
  p.bits = static_cast<uint8_t>(bits);
  for (size_t i = 0; i < 16; ++i) {
    const size_t first_bit = i * 8;
    uint8_t keep = 0;
    if (first_bit + 8 <= bits) {
      keep = 0xff;
    } else if (first_bit < bits) {
      keep = static_cast<uint8_t>(0xff << (8 - (bits - first_bit)));
    }
    if ((p.bytes[i] & ~keep) != 0) return fail("host bits are set (did you mean the network?)");
  }
  return p;
}

bool IpPrefix::Contains(udp::AddressFamily f, std::span<const uint8_t> address) const {
  if (f != family) return false;
  size_t i = 0;
  for (; (i + 1) * 8 <= bits; ++i) {
    if (address[i] != bytes[i]) return false;
  }
  if (i * 8 < bits) {
    const uint8_t mask = static_cast<uint8_t>(0xff << (8 - (bits - i * 8)));
    if ((address[i] & mask) != bytes[i]) return false;
  }
  return true;
}

std::string IpPrefix::ToString() const {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(family == udp::AddressFamily::kIpv4 ? AF_INET : AF_INET6, bytes.data(), text,
            sizeof(text));
  return absl::StrCat(text, "/", bits);
}

const IpPrefix& TailnetV4Prefix() {
  static const IpPrefix p = *IpPrefix::Parse("100.64.0.0/10");
  return p;
}

const IpPrefix& TailnetV6Prefix() {
  static const IpPrefix p = *IpPrefix::Parse("fd7a:115c:a1e0::/48");
  return p;
}

AllowList AllowList::TailnetAndLoopback() {
  return AllowList({TailnetV4Prefix(), TailnetV6Prefix(), *IpPrefix::Parse("127.0.0.0/8"),
                    *IpPrefix::Parse("::1/128")});
}

bool AllowList::Allows(const udp::Endpoint& client) const {
  return std::any_of(prefixes_.begin(), prefixes_.end(),
                     [&](const IpPrefix& p) { return p.Contains(client); });
}

}  // namespace meshvpn::dns
