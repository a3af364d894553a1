#include "meshvpn/tun/uv_tun.h"

#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_format.h"
#include "meshvpn/base/errno_status.h"
#include "meshvpn/base/uv_status.h"
#include "meshvpn/tun/virtio_net.h"

namespace meshvpn::tun {

absl::StatusOr<std::unique_ptr<UvTunDriver>> UvTunDriver::Create(uv_loop_t* loop, int fd,
                                                                 PacketPool* pool,
                                                                 TunPacketHandler* handler,
                                                                 UvTunOptions options) {
  if (pool == nullptr || handler == nullptr) {
    return absl::InvalidArgumentError("tun: driver needs a packet pool and a handler");
  }
  if (options.max_batch == 0 || options.max_batch > kMaxBatch) {
    return absl::InvalidArgumentError(
        absl::StrFormat("tun: max_batch %d is outside 1..%d", options.max_batch, kMaxBatch));
  }
  std::unique_ptr<UvTunDriver> driver(new UvTunDriver(
      fd, pool, handler, options.max_batch, options.vnet_header, options.coalesce_writes,
      options.writev != nullptr ? options.writev : &::writev));
  // uv_poll_init also puts the descriptor in non-blocking mode.
  auto poll = UvPoll::Create(loop, uv_poll_init, fd);
  if (!poll.ok()) {
    return absl::Status(poll.status().code(), absl::StrFormat("tun: watch descriptor %d: %s", fd,
                                                              poll.status().message()));
  }
  driver->poll_ = std::move(*poll);
  driver->poll_.set_owner(driver.get());
  return driver;
}

namespace {
constexpr size_t kOffloadAreaSize = VirtioNetHeader::kSize + 65536;
}  // namespace

UvTunDriver::UvTunDriver(int fd, PacketPool* pool, TunPacketHandler* handler, size_t max_batch,
                         bool vnet_header, bool coalesce, ssize_t (*writev)(int, const iovec*, int))
    : fd_(fd),
      pool_(pool),
      handler_(handler),
      max_batch_(max_batch),
      batch_(max_batch, nullptr),
      scratch_(new uint8_t[vnet_header ? kOffloadAreaSize : pool->buffer_capacity()]),
      scratch_size_(vnet_header ? kOffloadAreaSize : pool->buffer_capacity()),
      vnet_header_(vnet_header),
      writev_(writev) {
  if (vnet_header && coalesce) {
    coalescer_ = std::make_unique<TcpCoalescer>();
    write_spans_.reserve(TcpCoalescer::kMaxPackets);
  }
}

UvTunDriver::~UvTunDriver() { Stop(); }

absl::Status UvTunDriver::Start() {
  if (reading_) return absl::OkStatus();
  if (int rc = uv_poll_start(poll_.get(), UV_READABLE, &UvTunDriver::OnPoll); rc < 0) {
    return UvToStatus(rc, "tun: start reading");
  }
  reading_ = true;
  return absl::OkStatus();
}

void UvTunDriver::Stop() {
  if (!reading_) return;
  uv_poll_stop(poll_.get());
  reading_ = false;
}

void UvTunDriver::OnPoll(uv_poll_t* handle, int status, int events) {
  auto* self = static_cast<UvTunDriver*>(handle->data);
  if (self == nullptr) return;
  if (status < 0) {
    self->Fail(UvToStatus(status, "tun: poll"));
    return;
  }
  if (events & UV_READABLE) self->OnReadable();
}

// Cuts a TSO super-packet straight into pool buffers, handing over full batches as it goes.
class UvTunDriver::SegmentWriter final : public SegmentSink {
 public:
  SegmentWriter(UvTunDriver* driver, size_t* count) : driver_(driver), count_(count) {}
  MutableByteSpan NextSegment(size_t, size_t size) override {
    if (*count_ == driver_->max_batch_) {
      driver_->Deliver(*count_);
      *count_ = 0;
    }
    PacketBuffer* buffer = driver_->pool_->Acquire();
    if (buffer == nullptr) return {};
    buffer->Reset();
    if (!buffer->SetSize(size)) {
      driver_->pool_->Release(buffer);
      return {};
    }
    driver_->batch_[(*count_)++] = buffer;
    return buffer->span();
  }

 private:
  UvTunDriver* driver_;
  size_t* count_;
};

// One read with a virtio-net header. False when there is nothing more to read (or it failed).
bool UvTunDriver::ReadOffloaded(size_t* count) {
  ssize_t n;
  do {
    n = ::read(fd_, scratch_.get(), scratch_size_);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) {
    const int error = errno;
    if (n < 0 && (error == EAGAIN || error == EWOULDBLOCK)) return false;
    stats_.CountDrop(TunDropReason::kReadError);
    if (*count > 0) Deliver(*count);
    *count = 0;
    Fail(n == 0 ? absl::UnavailableError("tun: read: end of file")
                : ErrnoToStatus(error, "tun: read"));
    return false;
  }
  if (static_cast<size_t>(n) < VirtioNetHeader::kSize) {
    stats_.CountDrop(TunDropReason::kBadOffload);
    return true;
  }
  const VirtioNetHeader header = VirtioNetHeader::Parse(
      std::span<const uint8_t, VirtioNetHeader::kSize>(scratch_.get(), VirtioNetHeader::kSize));
  MutableByteSpan packet(scratch_.get() + VirtioNetHeader::kSize,
                         static_cast<size_t>(n) - VirtioNetHeader::kSize);
  if (header.gso_type != VirtioNetHeader::kGsoNone) {
    size_t segments = 0;
    SegmentWriter writer(this, count);
    const OffloadError error = SplitTso(header, packet, writer, &segments);
    ++stats_.tso_packets;
    stats_.tso_segments += segments;
    stats_.packets_read += segments;
    stats_.bytes_read += packet.size();
    if (error != OffloadError::kOk) {
      stats_.CountDrop(error == OffloadError::kTooManySegments ? TunDropReason::kPoolExhausted
                                                               : TunDropReason::kBadOffload);
    }
    return true;
  }
  if (CompleteChecksum(header, packet) != OffloadError::kOk) {
    stats_.CountDrop(TunDropReason::kBadOffload);
    return true;
  }
  if (*count == max_batch_) {
    Deliver(*count);
    *count = 0;
  }
  PacketBuffer* buffer = pool_->Acquire();
  if (buffer == nullptr) {
    stats_.CountDrop(TunDropReason::kPoolExhausted);
    return true;
  }
  buffer->Reset();
  if (!buffer->SetSize(packet.size())) {
    pool_->Release(buffer);
    stats_.CountDrop(TunDropReason::kTooBig);
    return true;
  }
  std::memcpy(buffer->data(), packet.data(), packet.size());
  ++stats_.packets_read;
  stats_.bytes_read += packet.size();
  batch_[(*count)++] = buffer;
  return true;
}

void UvTunDriver::OnReadable() {
  size_t count = 0;
  if (vnet_header_) {
    for (size_t reads = 0; reads < max_batch_ && reading_; ++reads) {
      if (!ReadOffloaded(&count)) break;
    }
    if (count > 0) Deliver(count);
    return;
  }
  // At most max_batch_ packets per wake-up, so one busy device cannot starve the loop.
  for (size_t reads = 0; reads < max_batch_ && reading_; ++reads) {
    PacketBuffer* buffer = pool_->Acquire();
    if (buffer == nullptr && count > 0) {
      // The pool is smaller than a batch: hand over what we have, which frees buffers.
      Deliver(count);
      count = 0;
      buffer = pool_->Acquire();
    }
    if (buffer == nullptr) {
      // Every buffer is held elsewhere (queued by the handler). Reading into scratch and
      // dropping keeps the level-triggered poll from spinning and the kernel queue moving.
      if (!DrainOne()) break;
      continue;
    }
    // One spare byte after the buffer: a TUN read truncates silently, so a packet that spills
    // into it was larger than the buffer.
    const MutableByteSpan space = buffer->writable();
    iovec parts[2] = {{space.data(), space.size()}, {scratch_.get(), 1}};
    const ssize_t n = ::readv(fd_, parts, 2);
    if (n < 0) {
      const int error = errno;
      pool_->Release(buffer);
      if (error == EAGAIN || error == EWOULDBLOCK) break;
      if (error == EINTR) continue;
      if (error == EFAULT || error == EMSGSIZE) {
        stats_.CountDrop(TunDropReason::kTooBig);
        continue;
      }
      stats_.CountDrop(TunDropReason::kReadError);
      if (count > 0) Deliver(count);
      Fail(ErrnoToStatus(error, "tun: read"));
      return;
    }
    if (n == 0) {
      // A TUN never returns 0; a socket does when its peer closed.
      pool_->Release(buffer);
      if (count > 0) Deliver(count);
      Fail(absl::UnavailableError("tun: read: end of file"));
      return;
    }
    if (static_cast<size_t>(n) > space.size() || !buffer->SetSize(static_cast<size_t>(n))) {
      pool_->Release(buffer);
      stats_.CountDrop(TunDropReason::kTooBig);
      continue;
    }
    ++stats_.packets_read;
    stats_.bytes_read += static_cast<uint64_t>(n);
    batch_[count++] = buffer;
  }
  if (count > 0) Deliver(count);
}

bool UvTunDriver::DrainOne() {
  for (;;) {
    const ssize_t n = ::read(fd_, scratch_.get(), scratch_size_);
    if (n > 0) {
      stats_.CountDrop(TunDropReason::kPoolExhausted);
      return true;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;
    if (n < 0 && (errno == EFAULT || errno == EMSGSIZE)) {
      stats_.CountDrop(TunDropReason::kPoolExhausted);
      return true;
    }
    const int error = errno;
    stats_.CountDrop(TunDropReason::kReadError);
    Fail(n == 0 ? absl::UnavailableError("tun: read: end of file")
                : ErrnoToStatus(error, "tun: read"));
    return false;
  }
}

void UvTunDriver::Deliver(size_t count) {
  const std::span<PacketBuffer*> batch(batch_.data(), count);
  ++stats_.read_batches;
  if (count > stats_.largest_batch) stats_.largest_batch = count;
  handler_->OnTunPackets(batch);
  for (PacketBuffer*& buffer : batch) {
    if (buffer != nullptr) pool_->Release(buffer);
    buffer = nullptr;
  }
}

void UvTunDriver::Fail(const absl::Status& error) {
  Stop();
  handler_->OnTunError(error);
}

bool UvTunDriver::Write(ByteSpan packet) {
  static const uint8_t kNoOffload[VirtioNetHeader::kSize] = {};
  for (;;) {
    ssize_t n;
    if (vnet_header_) {
      iovec parts[2] = {{const_cast<uint8_t*>(kNoOffload), sizeof kNoOffload},
                        {const_cast<uint8_t*>(packet.data()), packet.size()}};
      n = writev_(fd_, parts, 2);
      if (n >= static_cast<ssize_t>(sizeof kNoOffload)) n -= sizeof kNoOffload;
    } else {
      n = ::write(fd_, packet.data(), packet.size());
    }
    if (n >= 0) {
      ++stats_.packets_written;
      stats_.bytes_written += static_cast<uint64_t>(n);
      return true;
    }
    if (errno == EINTR) continue;
    stats_.CountDrop(errno == EAGAIN || errno == EWOULDBLOCK ? TunDropReason::kWriteWouldBlock
                                                             : TunDropReason::kWriteError);
    return false;
  }
}

size_t UvTunDriver::WriteBatch(std::span<PacketBuffer* const> packets) {
  size_t written = 0;
  if (coalescer_ && coalescing_) {
    while (!packets.empty()) {
      const size_t n = std::min(packets.size(), TcpCoalescer::kMaxPackets);
      written += WriteCoalesced(packets.first(n));
      packets = packets.subspan(n);
    }
    return written;
  }
  for (const PacketBuffer* packet : packets) {
    if (packet != nullptr && Write(packet->span())) ++written;
  }
  return written;
}

size_t UvTunDriver::WriteCoalesced(std::span<PacketBuffer* const> packets) {
  write_spans_.clear();
  for (PacketBuffer* packet : packets) {
    if (packet != nullptr) write_spans_.push_back(packet->span());
  }
  size_t written = 0;
  for (const CoalescedWrite& write : coalescer_->Plan(write_spans_)) {
    if (write.count == 1) {
      if (Write(write_spans_[write.head])) ++written;
    } else if (WriteSuperPacket(write)) {
      written += write.count;
    }
  }
  return written;
}

bool UvTunDriver::WriteSuperPacket(const CoalescedWrite& write) {
  uint8_t header[VirtioNetHeader::kSize];
  write.header.Encode(header);
  iovec parts[TcpCoalescer::kMaxSegments + 1];
  size_t n = 0;
  parts[n++] = {header, sizeof header};
  for (uint16_t i = write.head; i != TcpCoalescer::kEnd; i = coalescer_->next(i)) {
    const MutableByteSpan packet = write_spans_[i];
    const size_t skip = coalescer_->follower_skip(i);
    parts[n++] = {packet.data() + skip, packet.size() - skip};
  }
  for (;;) {
    const ssize_t sent = writev_(fd_, parts, static_cast<int>(n));
    if (sent >= 0) {
      stats_.packets_written += write.count;
      stats_.bytes_written += write.bytes;
      ++stats_.coalesced_writes;
      stats_.coalesced_segments += write.count;
      return true;
    }
    if (errno == EINTR) continue;
    if (errno == EINVAL) return WriteSegmentsOf(write);
    stats_.CountDrop(errno == EAGAIN || errno == EWOULDBLOCK ? TunDropReason::kWriteWouldBlock
                                                             : TunDropReason::kWriteError,
                     write.count);
    return false;
  }
}

// Collects SplitTso's segments one after another in the fallback area.
class UvTunDriver::FallbackSegments final : public SegmentSink {
 public:
  explicit FallbackSegments(MutableByteSpan area) : area_(area) {}
  MutableByteSpan NextSegment(size_t index, size_t size) override {
    if (index >= TcpCoalescer::kMaxSegments || size > area_.size() - used_) return {};
    segments_[index] = area_.subspan(used_, size);
    used_ += size;
    return segments_[index];
  }
  MutableByteSpan segment(size_t index) const { return segments_[index]; }

 private:
  MutableByteSpan area_;
  size_t used_ = 0;
  MutableByteSpan segments_[TcpCoalescer::kMaxSegments];
};

bool UvTunDriver::WriteSegmentsOf(const CoalescedWrite& write) {
  // This kernel takes no TSO writes: cut this one back into its segments, and coalesce no more.
  if (coalescing_) ++stats_.coalesce_fallbacks;
  coalescing_ = false;
  constexpr size_t kSuperMax = 65536;
  constexpr size_t kFallbackArea = 2 * kSuperMax + TcpCoalescer::kMaxSegments * 128;
  if (!fallback_area_) fallback_area_.reset(new uint8_t[kFallbackArea]);
  uint8_t* super = fallback_area_.get();
  size_t used = 0;
  for (uint16_t i = write.head; i != TcpCoalescer::kEnd; i = coalescer_->next(i)) {
    const ByteSpan part = ByteSpan(write_spans_[i]).subspan(coalescer_->follower_skip(i));
    std::memcpy(super + used, part.data(), part.size());
    used += part.size();
  }
  FallbackSegments segments(
      MutableByteSpan(fallback_area_.get() + kSuperMax, kFallbackArea - kSuperMax));
  size_t count = 0;
  const OffloadError error = SplitTso(write.header, ByteSpan(super, used), segments, &count);
  bool all = error == OffloadError::kOk && count == write.count;
  if (!all) stats_.CountDrop(TunDropReason::kBadOffload, write.count);
  for (size_t i = 0; all && i < count; ++i) all = Write(segments.segment(i));
  return all;
}

}  // namespace meshvpn::tun
