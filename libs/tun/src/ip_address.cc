#include "meshvpn/tun/ip_address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"

namespace meshvpn::tun {

IpAddress IpAddress::FromBytes(ByteSpan bytes) {
  IpAddress a;
  if (bytes.size() == 4) {
    a.family_ = Family::kV4;
  } else if (bytes.size() == 16) {
    a.family_ = Family::kV6;
  } else {
    return a;
  }
  std::memcpy(a.bytes_.data(), bytes.data(), bytes.size());
  return a;
}

IpAddress IpAddress::V4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  const uint8_t bytes[4] = {a, b, c, d};
  return FromBytes(bytes);
}

absl::StatusOr<IpAddress> IpAddress::Parse(std::string_view text) {
  char buf[kMaxTextSize];
  if (text.empty() || text.size() >= sizeof(buf)) {
    return absl::InvalidArgumentError(absl::StrFormat("not an IP address: \"%s\"", text));
  }
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  uint8_t bytes[16];
  if (inet_pton(AF_INET, buf, bytes) == 1) return FromBytes(ByteSpan(bytes, 4));
  if (inet_pton(AF_INET6, buf, bytes) == 1) return FromBytes(ByteSpan(bytes, 16));
  return absl::InvalidArgumentError(absl::StrFormat("not an IP address: \"%s\"", text));
}

size_t IpAddress::Format(char* out, size_t out_size) const {
  char buf[kMaxTextSize];
  const char* text = "none";
  if (family_ != Family::kNone &&
      inet_ntop(is_v4() ? AF_INET : AF_INET6, bytes_.data(), buf, sizeof(buf)) != nullptr) {
    text = buf;
  }
  const size_t n = std::min(std::strlen(text), out_size);
  std::memcpy(out, text, n);
  return n;
}

std::string IpAddress::ToString() const {
  char buf[kMaxTextSize];
  return std::string(buf, Format(buf, sizeof(buf)));
}

absl::StatusOr<IpPrefix> IpPrefix::Parse(std::string_view text) {
  const size_t slash = text.find('/');
  auto address = IpAddress::Parse(text.substr(0, slash));
  if (!address.ok()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("not an address/prefix like 10.0.0.1/24 or fd00::1/64: \"%s\"", text));
  }
  const int max_length = address->is_v4() ? 32 : 128;
  if (slash == std::string_view::npos) return IpPrefix{*address, max_length};
  const std::string_view digits = text.substr(slash + 1);
  int length = -1;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), length);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || length < 0 ||
      length > max_length) {
    return absl::InvalidArgumentError(
        absl::StrFormat("bad prefix length in \"%s\" (0..%d)", text, max_length));
  }
  return IpPrefix{*address, length};
}

bool IpPrefix::Contains(const IpAddress& other) const {
  if (other.family() != address.family() || address.family() == IpAddress::Family::kNone) {
    return false;
  }
  const ByteSpan a = address.bytes();
  const ByteSpan b = other.bytes();
  const int full = length / 8;
  if (std::memcmp(a.data(), b.data(), full) != 0) return false;
  const int rest = length % 8;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}

std::string IpPrefix::ToString() const {
  return absl::StrFormat("%s/%d", address.ToString(), length);
}

}  // namespace meshvpn::tun
