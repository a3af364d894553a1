// TAI64N timestamps as WireGuard's handshake initiation carries them (whitepaper 5.4.2), with
// the whitening that hides the sender's precise clock and the "strictly newer" replay check.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <span>

#include "meshvpn/base/clock.h"

namespace meshvpn::wg {

// 12 bytes: an 8-byte big-endian TAI64 label followed by 4 big-endian bytes of nanoseconds.
//
//   +---------------------------------------+-------------------+
//   | 2^62 + 10 + unix seconds (u64 BE)     | nanoseconds (BE)  |
//   +---------------------------------------+-------------------+
//   0                                       8                   12
//
// The label base is 2^62 + 10 (0x400000000000000a): TAI64's 2^62 epoch plus the 10 seconds TAI
// was ahead of UTC in 1970, exactly as the Linux module and wireguard-go write it, so a peer
// that switches to or from them does not see its timestamps jump backwards.
class Tai64n {
 public:
  static constexpr size_t kSize = 12;
  static constexpr uint64_t kLabelBase = (uint64_t{1} << 62) + 10;
  // Whitening granularity: nanoseconds are rounded down to a multiple of 2^24 ns (~16.8 ms),
  // the largest power of two below 1 s / 50 (WireGuard's handshake rate per peer), so the
  // timestamp reveals no more than that about the sender's clock.
  static constexpr uint32_t kWhitenBits = 24;
  static constexpr uint32_t kWhitenMask = ~((uint32_t{1} << kWhitenBits) - 1);

  using Bytes12 = std::array<uint8_t, kSize>;

  constexpr Tai64n() = default;  // the zero timestamp: older than any real one
  constexpr Tai64n(uint64_t label, uint32_t nanoseconds)
      : label_(label), nanoseconds_(nanoseconds) {}

  // The exact time `t` (times before 1970 clamp to 1970). Use Whitened() before sending.
  static Tai64n FromWallTime(WallTime t);
  // What a new initiation carries: clock.WallNow(), whitened.
  static Tai64n Now(const Clock& clock) { return FromWallTime(clock.WallNow()).Whitened(); }
  static Tai64n FromBytes(std::span<const uint8_t, kSize> bytes);

  Tai64n Whitened() const { return Tai64n(label_, nanoseconds_ & kWhitenMask); }
  Bytes12 ToBytes() const;
  void ToBytes(std::span<uint8_t, kSize> out) const;

  uint64_t label() const { return label_; }
  uint32_t nanoseconds() const { return nanoseconds_; }
  // Seconds since 1970 (label - kLabelBase; 0 for labels below the base).
  int64_t unix_seconds() const;

  // Ordered by label, then nanoseconds (the order of the 12 bytes compared as big-endian).
  friend constexpr auto operator<=>(const Tai64n&, const Tai64n&) = default;

 private:
  uint64_t label_ = 0;
  uint32_t nanoseconds_ = 0;
};

// The responder's replay defence for one peer's initiations: a timestamp is accepted only if
// it is strictly greater than the greatest one accepted before (whitepaper 5.1). Call Accept
// only after the initiation authenticated. Equal timestamps (two initiations inside one
// whitening step) are refused: that doubles as a rate limit of one initiation per ~16.8 ms.
class TimestampFilter {
 public:
  // True and remembers `t` if t > the greatest accepted so far.
  bool Accept(const Tai64n& t) {
    if (!(t > latest_)) return false;
    latest_ = t;
    return true;
  }
  // True if Accept would accept `t` (does not remember it).
  bool WouldAccept(const Tai64n& t) const { return t > latest_; }
  const Tai64n& latest() const { return latest_; }

 private:
  Tai64n latest_;
};

}  // namespace meshvpn::wg
