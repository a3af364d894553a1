#include "meshvpn/base/packet_buffer.h"

namespace meshvpn {

PacketPool::PacketPool(size_t count, size_t buffer_capacity, size_t headroom)
    : buffer_capacity_(buffer_capacity), storage_(new uint8_t[count * buffer_capacity]) {
  buffers_.reserve(count);
  free_.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    buffers_.emplace_back(storage_.get() + i * buffer_capacity, buffer_capacity, headroom);
  }
  for (size_t i = count; i > 0; --i) free_.push_back(&buffers_[i - 1]);
}

PacketBuffer* PacketPool::Acquire() {
  if (free_.empty()) return nullptr;
  PacketBuffer* buffer = free_.back();
  free_.pop_back();
  buffer->Reset();
  return buffer;
}

void PacketPool::Release(PacketBuffer* buffer) {
  assert(buffer >= buffers_.data() && buffer < buffers_.data() + buffers_.size());
  assert(free_.size() < buffers_.size());
  free_.push_back(buffer);
}

}  // namespace meshvpn
