// PortSpray: random ports without repetition, at most once each - the destination ports the
// easy side of a birthday probe tries on a hard NAT's public address.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace meshvpn::holepunch {

// Ports lo..hi in a pseudo-random order (seeded: reproducible in tests), each at most once.
// Not a cryptographic generator: the order only has to be spread, not secret. Allocates once.
class PortSpray {
 public:
  explicit PortSpray(uint64_t seed, uint16_t lo = 1024, uint16_t hi = 65535);

  // The next untried port, or nullopt once every port of the range was returned.
  std::optional<uint16_t> Next();
  size_t tried() const { return tried_; }
  size_t range_size() const { return static_cast<size_t>(hi_ - lo_) + 1; }
  // Marks a port as tried without returning it (e.g. one the peer already told us about).
  void Skip(uint16_t port);

 private:
  uint64_t NextRandom();
  bool Used(uint16_t port) const;
  void Mark(uint16_t port);

  uint16_t lo_;
  uint16_t hi_;
  uint64_t state_;
  size_t tried_ = 0;
  std::vector<uint64_t> used_;  // one bit per port of the range
};

}  // namespace meshvpn::holepunch
