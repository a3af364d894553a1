#include "meshvpn/wg/replay_window.h"

#include <algorithm>

namespace meshvpn::wg {

bool ReplayWindow::IsPlausible(uint64_t counter) const {
  if (counter >= limit_) return false;
  if (counter > newest_) return true;
  if (newest_ - counter > kWindowSize) return false;
  const uint64_t bit = uint64_t{1} << (counter % kBlockBits);
  return (ring_[(counter / kBlockBits) % kBlocks] & bit) == 0;
}

bool ReplayWindow::CheckAndUpdate(uint64_t counter) {
  if (counter >= limit_) return false;
  const uint64_t block = counter / kBlockBits;
  if (counter > newest_) {
    // Slide forward: the blocks between the old newest and this one hold counters never seen
    // (they are all above the old newest), so clear them. At most the whole ring.
    const uint64_t newest_block = newest_ / kBlockBits;
    const uint64_t advance = std::min(block - newest_block, kBlocks);
    for (uint64_t i = 1; i <= advance; ++i) ring_[(newest_block + i) % kBlocks] = 0;
    newest_ = counter;
  } else if (newest_ - counter > kWindowSize) {
    return false;  // too old: its block may already hold newer counters
  }
  uint64_t& word = ring_[block % kBlocks];
  const uint64_t bit = uint64_t{1} << (counter % kBlockBits);
  if (word & bit) return false;  // replay
  word |= bit;
  return true;
}

void ReplayWindow::Reset() {
  ring_.fill(0);
  newest_ = 0;
}

}  // namespace meshvpn::wg
