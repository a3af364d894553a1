// Address and prefix parsing and printing (inet_pton / inet_ntop underneath).
#include "meshvpn/acl/address.h"

#include <arpa/inet.h>

#include <charconv>

#include "absl/strings/str_cat.h"

namespace meshvpn::acl {
namespace {

Uint128 HostMask(int bits, int length) {
  if (length >= bits) return 0;
  const int host_bits = bits - length;
  if (host_bits >= 128) return ~Uint128{0};
  return (Uint128{1} << host_bits) - 1;
}

}  // namespace

bool Address::FromBytes(const uint8_t* bytes, size_t size, Address* out) {
  if (size != 4 && size != 16) return false;
  Uint128 v = 0;
  for (size_t i = 0; i < size; ++i) v = (v << 8) | bytes[i];
  *out = {size == 4 ? Family::kV4 : Family::kV6, v};
  return true;
}

std::string Address::ToString() const {
  uint8_t bytes[16];
  const size_t n = is_v4() ? 4 : 16;
  Uint128 v = value;
  for (size_t i = n; i-- > 0;) {
    bytes[i] = static_cast<uint8_t>(v);
    v >>= 8;
  }
  char text[INET6_ADDRSTRLEN];
  if (inet_ntop(is_v4() ? AF_INET : AF_INET6, bytes, text, sizeof text) == nullptr) return "?";
  return text;
}

absl::StatusOr<Address> ParseAddress(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) {
    return absl::InvalidArgumentError(
        absl::StrCat("not an IP address: \"", std::string(text), "\""));
  }
  const std::string copy(text);
  uint8_t bytes[16];
  Address out;
  if (inet_pton(AF_INET, copy.c_str(), bytes) == 1) {
    Address::FromBytes(bytes, 4, &out);
    return out;
  }
  if (inet_pton(AF_INET6, copy.c_str(), bytes) == 1) {
    Address::FromBytes(bytes, 16, &out);
    return out;
  }
  return absl::InvalidArgumentError(absl::StrCat("not an IP address: \"", copy, "\""));
}

Address Prefix::last() const {
  return {address.family, address.value | HostMask(address.bits(), length)};
}

bool Prefix::Contains(const Address& a) const {
  if (a.family != address.family) return false;
  return (a.value & ~HostMask(a.bits(), length)) == address.value;
}

bool Prefix::Overlaps(const Prefix& other) const {
  if (other.address.family != address.family) return false;
  return length <= other.length ? Contains(other.address) : other.Contains(address);
}

std::string Prefix::ToString(bool bare_host) const {
  if (bare_host && length == address.bits()) return address.ToString();
  return absl::StrCat(address.ToString(), "/", length);
}

absl::StatusOr<Prefix> ParsePrefix(std::string_view text) {
  const size_t slash = text.find('/');
  absl::StatusOr<Address> address = ParseAddress(text.substr(0, slash));
  if (!address.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not an IP prefix: \"", std::string(text), "\""));
  }
  if (slash == std::string_view::npos) return Prefix::Host(*address);
  const std::string_view digits = text.substr(slash + 1);
  int length = -1;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), length);
  if (digits.empty() || digits.size() > 3 || ec != std::errc() ||
      end != digits.data() + digits.size() || length < 0 || length > address->bits() ||
      (digits.size() > 1 && digits[0] == '0')) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad prefix length in \"", std::string(text), "\""));
  }
  Prefix p{*address, length};
  p.address.value &= ~HostMask(p.address.bits(), length);
  return p;
}

}  // namespace meshvpn::acl
