// Counters of a TUN driver: packets and bytes each way, read batches, and drops by reason.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace meshvpn::tun {

// Why a packet was dropped by the driver (not by the parser: see ParseError).
enum class TunDropReason : uint8_t {
  kPoolExhausted,    // no free PacketBuffer: the packet was read into scratch space and dropped
  kTooBig,           // larger than a pool buffer's writable space (the read spilled over)
  kReadError,        // read() failed with something other than EAGAIN/EINTR
  kWriteWouldBlock,  // write() said EAGAIN: the device queue is full
  kWriteError,       // write() failed otherwise (EINVAL for an empty packet, EIO if down...)
  kBadOffload,       // a virtio-net header the driver cannot honour (see OffloadError)
};
inline constexpr size_t kTunDropReasonCount = static_cast<size_t>(TunDropReason::kBadOffload) + 1;
// "pool exhausted", "too big", ...
std::string_view ToString(TunDropReason reason);

struct TunStats {
  uint64_t packets_read = 0;
  uint64_t bytes_read = 0;
  uint64_t packets_written = 0;
  uint64_t bytes_written = 0;
  uint64_t read_batches = 0;        // handler calls (each with >= 1 packet)
  uint64_t largest_batch = 0;       // the most packets one handler call received
  uint64_t tso_packets = 0;         // TSO super-packets read (with offloads on)
  uint64_t tso_segments = 0;        // the packets they were cut into
  uint64_t coalesced_writes = 0;    // TSO super-packets written (receive-side coalescing)
  uint64_t coalesced_segments = 0;  // the packets they carried
  uint64_t coalesce_fallbacks = 0;  // the kernel refused a super-packet: coalescing turned off
  std::array<uint64_t, kTunDropReasonCount> drops{};

  uint64_t dropped(TunDropReason reason) const { return drops[static_cast<size_t>(reason)]; }
  uint64_t total_dropped() const;
  void CountDrop(TunDropReason reason, uint64_t packets = 1) {
    drops[static_cast<size_t>(reason)] += packets;
  }
};

}  // namespace meshvpn::tun
