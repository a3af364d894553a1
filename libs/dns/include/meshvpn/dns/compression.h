// Name compression for the writer (RFC 1035 4.1.4): a small fixed table of where name suffixes
// were written, searched for the longest suffix a new name shares with them. No allocation.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace meshvpn::dns {

// Matching is byte-exact, not case-insensitive: a pointer to a differently-cased name would
// change the case of what a client reads back (a 0x20 client compares the question's case, and
// the codec's parse(serialize(m)) == m must hold). A server that writes its answers' owner as
// the question's name gets pointers to the question all the same.
class CompressionTable {
 public:
  // Suffixes remembered; later ones are written uncompressed (correct, only larger). 64 covers
  // a full UDP answer of a few dozen records.
  static constexpr size_t kCapacity = 64;

  void Clear() { count_ = 0; }
  size_t size() const { return count_; }

  // `name` is an uncompressed wire name and label_starts the offsets of its labels in it (the
  // root excluded). Finds the longest suffix already in `message` (the bytes written so far):
  // true with *label the index into label_starts where the shared suffix begins and *target
  // the offset to point to.
  bool Find(std::span<const uint8_t> message, std::span<const uint8_t> name,
            std::span<const uint8_t> label_starts, size_t* label, uint16_t* target) const;

  // Remembers the suffixes of a name written at `offset` whose first `in_place_labels` labels
  // are in place there (the rest, if any, behind a pointer). Offsets past what a pointer can
  // hold (0x3FFF) are not kept.
  void Add(size_t offset, std::span<const uint8_t> name, std::span<const uint8_t> label_starts,
           size_t in_place_labels);

  // Forgets everything at or after `offset` (a record that was rolled back).
  void Truncate(size_t offset);

 private:
  struct Entry {
    uint16_t offset;
    uint8_t suffix_size;  // the suffix's uncompressed length, root included
  };
  std::array<Entry, kCapacity> entries_;
  size_t count_ = 0;
};

}  // namespace meshvpn::dns
