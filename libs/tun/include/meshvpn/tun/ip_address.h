// IPv4/IPv6 addresses and prefixes as values: parsed from and printed to their text forms.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "meshvpn/base/bytes.h"

namespace meshvpn::tun {

// An IPv4 or IPv6 address held by value (16 bytes, no allocation), or none.
class IpAddress {
 public:
  enum class Family : uint8_t { kNone, kV4, kV6 };

  constexpr IpAddress() = default;
  // From 4 bytes (IPv4) or 16 bytes (IPv6) in network order; any other size gives kNone.
  static IpAddress FromBytes(ByteSpan bytes);
  static IpAddress V4(uint8_t a, uint8_t b, uint8_t c, uint8_t d);
  // "10.0.0.1" or "fd00::1" (inet_pton rules: no zone, no brackets).
  static absl::StatusOr<IpAddress> Parse(std::string_view text);

  Family family() const { return family_; }
  bool is_v4() const { return family_ == Family::kV4; }
  bool is_v6() const { return family_ == Family::kV6; }
  // 4 or 16 bytes in network order; empty for kNone.
  ByteSpan bytes() const { return {bytes_.data(), size()}; }
  size_t size() const { return family_ == Family::kV4 ? 4 : family_ == Family::kV6 ? 16 : 0; }

  // Canonical text ("10.0.0.1", "fd00::1" per RFC 5952); "none" for kNone.
  std::string ToString() const;
  // The same into a caller's buffer (at least kMaxTextSize bytes); returns the length written
  // (no terminating zero). For printing without allocating.
  static constexpr size_t kMaxTextSize = 46;  // INET6_ADDRSTRLEN
  size_t Format(char* out, size_t out_size) const;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;

 private:
  Family family_ = Family::kNone;
  std::array<uint8_t, 16> bytes_{};
};

// An address with a prefix length, as assigned to an interface: 10.0.0.1/24, fd00::1/64. The
// host bits are kept (the interface's own address), unlike a route's network prefix.
struct IpPrefix {
  IpAddress address;
  int length = 0;  // 0..32 for IPv4, 0..128 for IPv6

  // "10.0.0.1/24" or "fd00::1/64"; a bare address means a host prefix (/32 or /128).
  static absl::StatusOr<IpPrefix> Parse(std::string_view text);
  // True if `other` has the same family and its first `length` bits equal this address's.
  bool Contains(const IpAddress& other) const;
  std::string ToString() const;

  friend bool operator==(const IpPrefix&, const IpPrefix&) = default;
};

}  // namespace meshvpn::tun
