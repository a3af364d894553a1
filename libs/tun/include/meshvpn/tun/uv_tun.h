// The libuv driver of a TUN device: reads packets in batches into PacketPool buffers until the
// descriptor would block, hands each batch to a handler, and writes packets; drops are counted.
#pragma once

#include <sys/uio.h>
#include <uv.h>

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "meshvpn/base/bytes.h"
#include "meshvpn/base/packet_buffer.h"
#include "meshvpn/base/uv_handle.h"
#include "meshvpn/tun/tcp_coalesce.h"
#include "meshvpn/tun/tun_stats.h"

namespace meshvpn::tun {

// Receives what the driver reads. Called on the loop thread.
class TunPacketHandler {
 public:
  virtual ~TunPacketHandler() = default;
  // 1..max_batch packets read in one wake-up. Each buffer holds one IP packet (data(), size())
  // with the pool's headroom in front, so a header can be Prepend()ed in place. When this
  // returns, the driver releases every buffer still in `batch` to the pool; to keep one (queue it
  // for encryption), set its slot to nullptr and Release() it to the pool later. May call Stop()
  // and Write(); must not destroy the driver.
  virtual void OnTunPackets(std::span<PacketBuffer*> batch) = 0;
  // Reading stopped on an error other than EAGAIN/EINTR (for example the device was deleted).
  virtual void OnTunError(const absl::Status& error) { (void)error; }
};

struct UvTunOptions {
  // Packets per handler call, and per wake-up before the driver yields to the loop (the poll is
  // level-triggered, so the rest is read on the next iteration). At most kMaxBatch.
  size_t max_batch = 128;
  // The descriptor carries virtio-net headers (TunDevice::vnet_header()): reads go through a
  // 64 KiB area, partial checksums are completed and TSO super-packets cut into pool buffers;
  // writes get a zero header in front.
  bool vnet_header = false;
  // With vnet_header: WriteBatch coalesces each flow's consecutive TCP segments into TSO
  // super-packets (TcpCoalescer), one write each. If the kernel refuses one (EINVAL), the
  // driver cuts it back into the original segments, writes those, and stops coalescing.
  bool coalesce_writes = true;
  // With vnet_header: the system call that writes a packet's parts. nullptr: ::writev. Tests put
  // a fake here to play a kernel that refuses TSO writes.
  ssize_t (*writev)(int fd, const iovec* parts, int count) = nullptr;
};

// Watches a TUN descriptor with uv_poll. Per packet it allocates nothing, logs nothing and
// formats nothing: a drop is a TunDropReason counter. Not thread-safe: use it on its loop's
// thread only. Create() on the loop thread; destroy it there too (its poll handle is closed and
// freed by the loop, see UvHandle).
class UvTunDriver {
 public:
  static constexpr size_t kMaxBatch = 128;

  // `fd` is a TunDevice::fd() or any descriptor where one read() returns one packet (tests use a
  // SOCK_SEQPACKET socket pair). It is not owned, and libuv makes it non-blocking. Pool buffers
  // should have writable() space for the device MTU: a larger packet is dropped (kTooBig).
  // `pool` and `handler` must outlive the driver.
  static absl::StatusOr<std::unique_ptr<UvTunDriver>> Create(uv_loop_t* loop, int fd,
                                                             PacketPool* pool,
                                                             TunPacketHandler* handler,
                                                             UvTunOptions options = {});
  UvTunDriver(const UvTunDriver&) = delete;
  UvTunDriver& operator=(const UvTunDriver&) = delete;
  ~UvTunDriver();

  // Starts (or resumes) reading. Idempotent.
  absl::Status Start();
  // Stops reading; writes keep working. Packets queue in the kernel (and beyond its queue the
  // kernel drops them, counted in `ip -s link`).
  void Stop();
  bool reading() const { return reading_; }

  // Writes one packet into the device (the kernel routes it as if it had arrived on the
  // interface). Returns false if it was dropped, with the reason counted.
  bool Write(ByteSpan packet);
  // Writes each buffer's data; returns how many packets were written. Buffers stay the caller's.
  // With coalescing on (UvTunOptions::coalesce_writes) TCP segments of one flow go out as one
  // super-packet, the headers of its first buffer rewritten in place, and packets of different
  // flows may be written in a different order; each flow keeps its own order.
  size_t WriteBatch(std::span<PacketBuffer* const> packets);

  const TunStats& stats() const { return stats_; }

 private:
  UvTunDriver(int fd, PacketPool* pool, TunPacketHandler* handler, size_t max_batch,
              bool vnet_header, bool coalesce, ssize_t (*writev)(int, const iovec*, int));
  class SegmentWriter;
  class FallbackSegments;
  // Writes `packets` (at most TcpCoalescer::kMaxPackets) as the coalescer plans them.
  size_t WriteCoalesced(std::span<PacketBuffer* const> packets);
  // One planned super-packet; on EINVAL falls back to its segments. False if it was dropped.
  bool WriteSuperPacket(const CoalescedWrite& write);
  // The kernel refused a super-packet: re-cut it into segments and write those one by one.
  bool WriteSegmentsOf(const CoalescedWrite& write);
  bool ReadOffloaded(size_t* count);
  static void OnPoll(uv_poll_t* handle, int status, int events);
  void OnReadable();
  // Hands batch_[0..count) to the handler, then releases what it left.
  void Deliver(size_t count);
  // Reads one packet into scratch space and throws it away; false when nothing was there.
  bool DrainOne();
  void Fail(const absl::Status& error);

  int fd_;
  PacketPool* pool_;
  TunPacketHandler* handler_;
  size_t max_batch_;
  UvPoll poll_;
  bool reading_ = false;
  std::vector<PacketBuffer*> batch_;    // sized once, max_batch_ slots
  std::unique_ptr<uint8_t[]> scratch_;  // for reads that have no pool buffer
  size_t scratch_size_;
  bool vnet_header_;
  ssize_t (*writev_)(int, const iovec*, int);
  std::unique_ptr<TcpCoalescer> coalescer_;   // with vnet_header and coalesce_writes
  bool coalescing_ = true;                    // false once the kernel refused a super-packet
  std::vector<MutableByteSpan> write_spans_;  // WriteCoalesced's view of the batch
  std::unique_ptr<uint8_t[]> fallback_area_;  // WriteSegmentsOf's segments, made on first use
  TunStats stats_;
};

}  // namespace meshvpn::tun
