#include "meshvpn/wg/index_table.h"

#include <cstring>
#include <random>

#include "meshvpn/base/secure.h"

namespace meshvpn::wg {

uint32_t IndexTable::Register(IndexEntry entry) {
  for (;;) {
    uint8_t bytes[4] = {};
    uint32_t index;
    if (FillRandom(bytes).ok()) {
      std::memcpy(&index, bytes, sizeof index);
    } else {
      index = static_cast<uint32_t>(std::random_device{}());
    }
    if (map_.try_emplace(index, entry).second) return index;
  }
}

void IndexTable::Update(uint32_t index, IndexEntry entry) { map_[index] = entry; }

void IndexTable::Unregister(uint32_t index) { map_.erase(index); }

std::optional<IndexEntry> IndexTable::Lookup(uint32_t index) const {
  auto it = map_.find(index);
  if (it == map_.end()) return std::nullopt;
  return it->second;
}

}  // namespace meshvpn::wg
