#include "meshvpn/dns/compression.h"

#include <cstring>

#include "meshvpn/dns/wire.h"

namespace meshvpn::dns {
namespace {

// Whether the name written at `offset` of `message` (ours: valid, pointers backwards) is
// byte for byte the uncompressed `suffix`.
bool SameName(std::span<const uint8_t> message, size_t offset, const uint8_t* suffix) {
  const uint8_t* m = message.data();
  while (true) {
    const uint8_t b = m[offset];
    if ((b & 0xc0) == 0xc0) {
      offset = (size_t{b & 0x3fu} << 8) | m[offset + 1];
      continue;
    }
    if (b != *suffix) return false;
    if (b == 0) return true;
    if (std::memcmp(m + offset + 1, suffix + 1, b) != 0) return false;
    offset += size_t{b} + 1;
    suffix += size_t{b} + 1;
  }
}

}  // namespace

bool CompressionTable::Find(std::span<const uint8_t> message, std::span<const uint8_t> name,
                            std::span<const uint8_t> label_starts, size_t* label,
                            uint16_t* target) const {
  if (count_ == 0) return false;
  for (size_t l = 0; l < label_starts.size(); ++l) {
    const size_t start = label_starts[l];
    const size_t suffix_size = name.size() - start;
    for (size_t i = 0; i < count_; ++i) {
      const Entry& e = entries_[i];
      if (e.suffix_size != suffix_size) continue;
      if (SameName(message, e.offset, name.data() + start)) {
        *label = l;
        *target = e.offset;
        return true;
      }
    }
  }
  return false;
}

void CompressionTable::Add(size_t offset, std::span<const uint8_t> name,
                           std::span<const uint8_t> label_starts, size_t in_place_labels) {
  for (size_t l = 0; l < in_place_labels && count_ < kCapacity; ++l) {
    const size_t at = offset + label_starts[l];
    if (at > kMaxPointerOffset) return;
    entries_[count_++] = {static_cast<uint16_t>(at),
                          static_cast<uint8_t>(name.size() - label_starts[l])};
  }
}

void CompressionTable::Truncate(size_t offset) {
  while (count_ > 0 && entries_[count_ - 1].offset >= offset) --count_;
}

}  // namespace meshvpn::dns
