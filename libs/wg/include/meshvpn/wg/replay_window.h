// The sliding replay window of RFC 6479 over 64-bit message counters, as WireGuard uses it.
#pragma once

#include <array>
#include <cstdint>

namespace meshvpn::wg {

// Remembers which counters of the last kWindowSize have been accepted, in a ring of
// kRingBits bits (RFC 6479): moving forward clears whole 64-bit blocks instead of shifting bits,
// so both accepting and moving are O(1) with no per-bit work.
//
//   ring of kBlocks words:  [ block k-31 | ... | block k-1 | block k ]   k = newest >> 6
//                             counters newest-kWindowSize .. newest are all inside the ring
//
// Call CheckAndUpdate only after the packet has been authenticated (so a forger cannot move the
// window); IsPlausible is the cheap test before spending a decryption on a packet.
class ReplayWindow {
 public:
  static constexpr uint64_t kBlockBits = 64;
  static constexpr uint64_t kBlocks = 32;
  static constexpr uint64_t kRingBits = kBlocks * kBlockBits;      // 2048
  static constexpr uint64_t kWindowSize = kRingBits - kBlockBits;  // 1984 counters behind newest

  // `limit`: counters at or above it are never accepted (WireGuard: REJECT_AFTER_MESSAGES).
  explicit ReplayWindow(uint64_t limit = UINT64_MAX) : limit_(limit) {}

  // False if `counter` is certainly a replay or too old; true does not mean it is fresh.
  bool IsPlausible(uint64_t counter) const;
  // Accepts a counter seen for the first time and inside the window, and records it.
  bool CheckAndUpdate(uint64_t counter);
  // Forgets everything (a new key starts a new counter space).
  void Reset();

  // The highest counter accepted so far (0 before the first).
  uint64_t newest() const { return newest_; }

 private:
  std::array<uint64_t, kBlocks> ring_{};
  uint64_t newest_ = 0;
  uint64_t limit_;
};

}  // namespace meshvpn::wg
