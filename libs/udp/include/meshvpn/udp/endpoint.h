// Endpoint: an IPv4 or IPv6 address and a UDP port, as a small hashable value (no I/O).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "absl/hash/hash.h"
#include "absl/status/statusor.h"

namespace meshvpn::udp {

enum class AddressFamily : uint8_t { kIpv4, kIpv6 };
std::string_view ToString(AddressFamily family);

// An address (4 or 16 bytes, network order) plus a port. IPv4-mapped IPv6 addresses
// (::ffff:a.b.c.d) are stored as IPv4, so a peer is the same Endpoint whether a dual-stack socket
// or an IPv4 socket heard it. Copying is cheap (24 bytes); nothing here allocates except
// ToString().
class Endpoint {
 public:
  // 0.0.0.0:0
  constexpr Endpoint() = default;

  static Endpoint V4(std::array<uint8_t, 4> address, uint16_t port);
  static Endpoint V6(const std::array<uint8_t, 16>& address, uint16_t port, uint32_t scope_id = 0);
  // The wildcard address of a family (0.0.0.0 or ::), as used to bind on every interface.
  static Endpoint Any(AddressFamily family, uint16_t port);
  static Endpoint Loopback(AddressFamily family, uint16_t port);

  // Parses a numeric endpoint (no DNS):
  //   "1.2.3.4:4000"      IPv4
  //   "[2001:db8::1]:53"  IPv6, brackets required; "[fe80::1%3]:53" with a numeric zone (scope id)
  //   ":4000"             every address of both families: [::]:4000 (a dual-stack socket binds it)
  // The port is decimal 0..65535 (0 asks the kernel for any free port when binding).
  static absl::StatusOr<Endpoint> Parse(std::string_view text);

  // Converts what the kernel reports (recvmmsg, getsockname). nullopt for other families or a
  // too-short length. IPv4-mapped IPv6 addresses become IPv4.
  static std::optional<Endpoint> FromSockaddr(const sockaddr* addr, socklen_t len);

  // Writes the address for a socket of `socket_family` into *out and returns its length, or 0 if
  // this endpoint cannot be reached from such a socket (IPv6 from an IPv4 socket). An IPv4
  // endpoint on an IPv6 socket becomes ::ffff:a.b.c.d (the socket must be dual-stack).
  socklen_t ToSockaddr(AddressFamily socket_family, sockaddr_storage* out) const;

  AddressFamily family() const { return family_; }
  bool is_v4() const { return family_ == AddressFamily::kIpv4; }
  bool is_v6() const { return family_ == AddressFamily::kIpv6; }
  uint16_t port() const { return port_; }
  uint32_t scope_id() const { return scope_id_; }
  // 4 bytes for IPv4, 16 for IPv6, network order.
  std::span<const uint8_t> address() const { return {address_.data(), is_v4() ? 4u : 16u}; }

  bool IsUnspecified() const;  // 0.0.0.0 or ::
  bool IsLoopback() const;     // 127.0.0.0/8 or ::1

  Endpoint WithPort(uint16_t port) const {
    Endpoint e = *this;
    e.port_ = port;
    return e;
  }

  // "1.2.3.4:4000", "[::1]:4000", "[fe80::1%3]:4000" (RFC 5952 compressed form). Parse() reads
  // every string this returns back to an equal Endpoint. Allocates: not for the per-packet path.
  std::string ToString() const;
  // Only the address: "1.2.3.4", "::1".
  std::string AddressString() const;

  friend bool operator==(const Endpoint& a, const Endpoint& b) {
    return a.family_ == b.family_ && a.port_ == b.port_ && a.scope_id_ == b.scope_id_ &&
           a.address_ == b.address_;
  }

  template <typename H>
  friend H AbslHashValue(H h, const Endpoint& e) {
    return H::combine(H::combine_contiguous(std::move(h), e.address_.data(), e.address_.size()),
                      e.port_, e.family_, e.scope_id_);
  }

 private:
  // Unused bytes (12..15 for IPv4) stay zero so that == and hashing can look at all 16.
  std::array<uint8_t, 16> address_{};
  uint32_t scope_id_ = 0;
  uint16_t port_ = 0;
  AddressFamily family_ = AddressFamily::kIpv4;
};

}  // namespace meshvpn::udp

template <>
struct std::hash<meshvpn::udp::Endpoint> {
  size_t operator()(const meshvpn::udp::Endpoint& e) const {
    return absl::Hash<meshvpn::udp::Endpoint>()(e);
  }
};
