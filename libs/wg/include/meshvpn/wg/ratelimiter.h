// Per-source rate limiting of handshake messages (a token bucket per IP address), so that a
// flood from one address cannot make the responder spend all its time on X25519.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "meshvpn/base/bytes.h"
#include "meshvpn/base/clock.h"
#include "meshvpn/tun/ip_address.h"

namespace meshvpn::wg {

// Each source gets a bucket of `burst` tokens that refills at `per_second` tokens a second; a
// handshake message costs one token. The defaults are the Linux module's: 20 a second, bursts of
// 5. IPv4 sources are limited per address, IPv6 sources per /64 (one host usually owns a whole
// /64, so limiting per address would let it pick a fresh address for every message).
//
//   tokens(now) = min(burst, tokens(last) + (now - last) * per_second)
//   allow if tokens(now) >= 1, then tokens -= 1
//
// The table is bounded: at most `max_entries` sources are tracked; when it is full, new sources
// are refused until entries expire (an entry idle for `idle_expiry` has a full bucket again, so
// forgetting it changes nothing). Expired entries are swept at most once per `idle_expiry`, in
// Allow. The device consults it only while under load, after mac1 (and mac2) were checked.
//
// Sans-I/O: time comes in as `now`. Allow never allocates (both tables are sized in the
// constructor). Not thread-safe.
class RateLimiter {
 public:
  struct Options {
    uint32_t per_second = 20;
    uint32_t burst = 5;
    size_t max_entries = 8192;
    Duration idle_expiry = std::chrono::seconds(1);
  };

  RateLimiter() : RateLimiter(Options{}) {}
  explicit RateLimiter(Options options);

  // True if a handshake message from `source` may be processed now (and charges its bucket).
  // A source of family kNone is refused.
  bool Allow(const tun::IpAddress& source, MonoTime now);
  // The same for a raw 4- or 16-byte address; other sizes are refused.
  bool Allow(ByteSpan source, MonoTime now);

  size_t size() const { return size_; }  // sources tracked
  void Clear();

 private:
  struct Slot {
    uint64_t key = 0;
    uint8_t family = 0;  // 0: empty, 4 or 6
    int64_t tokens = 0;  // in nanoseconds of refill: one message costs cost_
    MonoTime last{};
  };

  Slot* Find(std::vector<Slot>& table, uint64_t key, uint8_t family);
  void Sweep(MonoTime now);

  Options options_;
  int64_t cost_;        // ns of refill per message
  int64_t max_tokens_;  // cost_ * burst
  uint64_t seed_ = 0;   // keys the slot hash so sources cannot aim at one chain
  std::vector<Slot> table_;
  std::vector<Slot> spare_;  // the sweep copies live entries into it, then swaps
  size_t size_ = 0;
  MonoTime last_sweep_{};
};

}  // namespace meshvpn::wg
