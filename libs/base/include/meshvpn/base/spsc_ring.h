// A bounded single-producer single-consumer queue without locks: one thread pushes, one other
// thread pops, each touching only its own index plus an acquire/release load of the other's.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <new>
#include <optional>

namespace meshvpn {

// Capacity is rounded up to a power of two. T must be default-constructible and copyable (jobs
// and pointers). Push() from the producer thread only, Pop() from the consumer thread only;
// empty()/size() from either (a snapshot). Allocates once, in the constructor.
template <typename T>
class SpscRing {
 public:
  explicit SpscRing(size_t capacity)
      : mask_(RoundUp(capacity) - 1), slots_(std::make_unique<T[]>(mask_ + 1)) {}
  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  size_t capacity() const { return mask_ + 1; }

  // False when full (nothing is stored).
  bool Push(const T& value) {
    const size_t tail = tail_.load(std::memory_order_relaxed);
    if (tail - head_cache_ > mask_) {
      head_cache_ = head_.load(std::memory_order_acquire);
      if (tail - head_cache_ > mask_) return false;
    }
    slots_[tail & mask_] = value;
    tail_.store(tail + 1, std::memory_order_release);
    return true;
  }

  // The oldest value, or nullopt when empty.
  std::optional<T> Pop() {
    const size_t head = head_.load(std::memory_order_relaxed);
    if (head == tail_cache_) {
      tail_cache_ = tail_.load(std::memory_order_acquire);
      if (head == tail_cache_) return std::nullopt;
    }
    T value = slots_[head & mask_];
    head_.store(head + 1, std::memory_order_release);
    return value;
  }

  bool empty() const {
    return head_.load(std::memory_order_acquire) == tail_.load(std::memory_order_acquire);
  }

 private:
  static size_t RoundUp(size_t n) {
    size_t p = 1;
    while (p < n) p <<= 1;
    return p;
  }
  // Producer and consumer indices on their own cache lines, so the two threads do not bounce
  // one line between cores on every packet.
  static constexpr size_t kLine = 64;

  const size_t mask_;
  std::unique_ptr<T[]> slots_;
  alignas(kLine) std::atomic<size_t> head_{0};  // next slot to pop (written by the consumer)
  size_t tail_cache_ = 0;                       // the consumer's last look at tail_
  alignas(kLine) std::atomic<size_t> tail_{0};  // next slot to push (written by the producer)
  size_t head_cache_ = 0;                       // the producer's last look at head_
};

}  // namespace meshvpn
