// Packet buffers with headroom and tailroom (so headers are prepended and encryption is done in
// place), handed out by a bounded pool that allocates only when it is built.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "meshvpn/base/bytes.h"

namespace meshvpn {

// One packet in a fixed block of memory:
//
//   | headroom | data (size bytes) | tailroom |
//   ^storage   ^data()                        ^storage + capacity
//
// A tunnel reads a packet with room in front, then Prepend()s its header and seals the data in
// place, the tag going into the tailroom; the receive side does the reverse with TrimFront().
class PacketBuffer {
 public:
  // Room kept in front by Reset(): enough for a WireGuard data header (16), a virtio-net header
  // (10/12) and an outer IPv6+UDP header (48) with alignment to spare.
  static constexpr size_t kDefaultHeadroom = 96;

  // `default_headroom` is what Reset() leaves in front; it is capped at the capacity, so small
  // buffers (tests, tiny control messages) simply get less headroom.
  PacketBuffer(uint8_t* storage, size_t capacity, size_t default_headroom = kDefaultHeadroom)
      : storage_(storage),
        capacity_(capacity),
        default_headroom_(default_headroom < capacity ? default_headroom : capacity) {
    Reset();
  }

  uint8_t* data() { return storage_ + offset_; }
  const uint8_t* data() const { return storage_ + offset_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  MutableByteSpan span() { return {data(), size_}; }
  ByteSpan span() const { return {data(), size_}; }

  size_t capacity() const { return capacity_; }
  size_t headroom() const { return offset_; }
  size_t tailroom() const { return capacity_ - offset_ - size_; }
  // Everything from data() to the end of the storage: where a read writes a packet.
  MutableByteSpan writable() { return {data(), capacity_ - offset_}; }

  // Empties the buffer, leaving the default headroom in front.
  void Reset() { Reset(default_headroom_); }
  // Empties the buffer, leaving `headroom` bytes in front (at most the capacity).
  void Reset(size_t headroom) {
    offset_ = headroom < capacity_ ? headroom : capacity_;
    size_ = 0;
  }
  // Sets the data length after a read into writable(). Returns false if it does not fit.
  [[nodiscard]] bool SetSize(size_t n) {
    if (n > capacity_ - offset_) return false;
    size_ = n;
    return true;
  }
  // Grows the data at the front by n bytes (a header); empty span if the headroom is too small.
  MutableByteSpan Prepend(size_t n) {
    if (n > offset_) return {};
    offset_ -= n;
    size_ += n;
    return {data(), n};
  }
  // Grows the data at the end by n bytes (a tag, padding); empty span if the tailroom is too small.
  MutableByteSpan Append(size_t n) {
    if (n > tailroom()) return {};
    size_ += n;
    return {data() + size_ - n, n};
  }
  // Drops n bytes from the front (a parsed header), turning them into headroom.
  [[nodiscard]] bool TrimFront(size_t n) {
    if (n > size_) return false;
    offset_ += n;
    size_ -= n;
    return true;
  }
  // Drops n bytes from the end (a checked tag), turning them into tailroom.
  [[nodiscard]] bool TrimBack(size_t n) {
    if (n > size_) return false;
    size_ -= n;
    return true;
  }

 private:
  uint8_t* storage_;
  size_t capacity_;
  size_t default_headroom_;
  size_t offset_ = 0;
  size_t size_ = 0;
};

// A fixed set of equally sized PacketBuffers in one allocation. Acquire() returns nullptr when all
// are in use: the caller drops the packet and counts it (bounded memory, back-pressure instead of
// growth). Not thread-safe: one pool per thread, or hand buffers across with a queue.
class PacketPool {
 public:
  // `count` buffers of `buffer_capacity` bytes each (headroom + packet + tailroom); Acquire()
  // leaves `headroom` bytes in front (capped at the capacity).
  PacketPool(size_t count, size_t buffer_capacity,
             size_t headroom = PacketBuffer::kDefaultHeadroom);
  PacketPool(const PacketPool&) = delete;
  PacketPool& operator=(const PacketPool&) = delete;

  // A buffer Reset() to the pool's headroom, or nullptr if the pool is exhausted.
  PacketBuffer* Acquire();
  // Returns a buffer from this pool. Releasing a foreign buffer or releasing twice is a bug
  // (checked by assert in debug builds).
  void Release(PacketBuffer* buffer);

  size_t capacity() const { return buffers_.size(); }
  size_t available() const { return free_.size(); }
  size_t buffer_capacity() const { return buffer_capacity_; }

 private:
  size_t buffer_capacity_;
  std::unique_ptr<uint8_t[]> storage_;
  std::vector<PacketBuffer> buffers_;
  std::vector<PacketBuffer*> free_;
};

}  // namespace meshvpn
