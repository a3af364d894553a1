#include "meshvpn/holepunch/port_spray.h"

namespace meshvpn::holepunch {

PortSpray::PortSpray(uint64_t seed, uint16_t lo, uint16_t hi)
    : lo_(lo <= hi ? lo : hi), hi_(lo <= hi ? hi : lo), state_(seed) {
  used_.assign((range_size() + 63) / 64, 0);
}

// splitmix64: small, fast and well spread; plenty for choosing probe ports.
uint64_t PortSpray::NextRandom() {
  state_ += 0x9E3779B97F4A7C15ull;
  uint64_t z = state_;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

bool PortSpray::Used(uint16_t port) const {
  const size_t i = port - lo_;
  return (used_[i / 64] >> (i % 64)) & 1u;
}

void PortSpray::Mark(uint16_t port) {
  const size_t i = port - lo_;
  used_[i / 64] |= uint64_t{1} << (i % 64);
  ++tried_;
}

void PortSpray::Skip(uint16_t port) {
  if (port < lo_ || port > hi_ || Used(port)) return;
  Mark(port);
}

std::optional<uint16_t> PortSpray::Next() {
  const size_t n = range_size();
  if (tried_ >= n) return std::nullopt;
  // A random start, then the next untried port after it: each port at most once, and the
  // scan is short while most of the range is untried (the only regime birthday probing uses).
  size_t i = NextRandom() % n;
  for (size_t step = 0; step < n; ++step, i = (i + 1) % n) {
    const uint16_t port = static_cast<uint16_t>(lo_ + i);
    if (!Used(port)) {
      Mark(port);
      return port;
    }
  }
  return std::nullopt;
}

}  // namespace meshvpn::holepunch
