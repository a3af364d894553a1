// The device's table of our 32-bit session indices (whitepaper 5.4.2: "sender index"): which
// peer, and which pending handshake or keypair, a received message's receiver index names.
#pragma once

#include <cstdint>
#include <optional>

#include "absl/container/flat_hash_map.h"

namespace meshvpn::wg {

struct Keypair;
using PeerId = uint32_t;

struct IndexEntry {
  PeerId peer = 0;
  Keypair* keypair = nullptr;  // nullptr: the index of the peer's pending initiation
};

// Indices are random (so they reveal nothing and cannot be guessed) and unique in the table.
// Not thread-safe. Changes allocate (handshakes only); lookups do not.
class IndexTable {
 public:
  // A fresh random index, registered for `entry`.
  uint32_t Register(IndexEntry entry);
  // Points an existing index at a keypair (the handshake's index becomes the session's).
  void Update(uint32_t index, IndexEntry entry);
  void Unregister(uint32_t index);
  std::optional<IndexEntry> Lookup(uint32_t index) const;
  size_t size() const { return map_.size(); }

 private:
  absl::flat_hash_map<uint32_t, IndexEntry> map_;
};

}  // namespace meshvpn::wg
