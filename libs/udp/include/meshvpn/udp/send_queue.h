// SendQueue: the bounded FIFO of pool buffers waiting for a UDP socket to become writable.
#pragma once

#include <cstddef>
#include <memory>

#include "meshvpn/udp/datagram.h"

namespace meshvpn::udp {

// A ring of fixed capacity, allocated once. Push() refuses when full (the caller drops and
// counts); PushFront() puts back a packet just taken from the front that could not be sent, so
// order is kept. Does not own the buffers' memory: the socket releases them to their pool.
class SendQueue {
 public:
  explicit SendQueue(size_t capacity)
      : capacity_(capacity), ring_(capacity > 0 ? new OutgoingPacket[capacity] : nullptr) {}

  // False (nothing stored) when full.
  [[nodiscard]] bool Push(const OutgoingPacket& packet) {
    if (size_ == capacity_) return false;
    ring_[(head_ + size_) % capacity_] = packet;
    ++size_;
    return true;
  }
  // False when full; only fails if the caller did not pop first.
  [[nodiscard]] bool PushFront(const OutgoingPacket& packet) {
    if (size_ == capacity_) return false;
    head_ = (head_ + capacity_ - 1) % capacity_;
    ring_[head_] = packet;
    ++size_;
    return true;
  }
  // The front packet; the queue must not be empty.
  OutgoingPacket PopFront() {
    const OutgoingPacket packet = ring_[head_];
    head_ = (head_ + 1) % capacity_;
    --size_;
    return packet;
  }

  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  bool empty() const { return size_ == 0; }
  bool full() const { return size_ == capacity_; }

 private:
  size_t capacity_;
  std::unique_ptr<OutgoingPacket[]> ring_;
  size_t head_ = 0;
  size_t size_ = 0;
};

}  // namespace meshvpn::udp
