// Counters a UDP socket keeps: datagrams and bytes each way, batches, and drops by reason.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace meshvpn::udp {

// Why a datagram was dropped. Every drop in the udp library bumps exactly one of these.
enum class DropReason : uint8_t {
  kNoBuffer,            // receive: the packet pool was empty; the datagram was read and discarded
  kTruncated,           // receive: larger than a pool buffer's writable room (MSG_TRUNC)
  kUnsupportedAddress,  // receive: sender neither IPv4 nor IPv6; send: family the socket lacks
  kReceiveError,        // receive: recvmmsg failed with something other than EAGAIN
  kSendWouldBlock,      // send: socket buffer full (EAGAIN/ENOBUFS) on a path that does not queue
  kSendQueueFull,       // send: socket buffer full and the bounded send queue was full too
  kSendError,           // send: the kernel refused this datagram (EMSGSIZE, ENETUNREACH, ...)
  kSocketClosed,        // send: queued datagrams still waiting when the socket was closed
};
inline constexpr size_t kDropReasonCount = 8;

// "no_buffer", "truncated", ... (stable names for logs, metrics and the tools' statistics).
std::string_view ToString(DropReason reason);

struct UdpStats {
  uint64_t packets_received = 0;
  uint64_t bytes_received = 0;
  uint64_t packets_sent = 0;
  uint64_t bytes_sent = 0;
  // recvmmsg/recvmsg and sendmmsg/sendmsg calls that moved at least one datagram: packets divided
  // by calls is the average batch.
  uint64_t receive_calls = 0;
  uint64_t send_calls = 0;
  // The largest batch one call moved.
  uint64_t largest_receive_batch = 0;
  uint64_t largest_send_batch = 0;
  // Datagrams that left inside a UDP_SEGMENT super-datagram (2 or more to one destination).
  uint64_t gso_segments_sent = 0;
  // Datagrams that arrived coalesced by UDP_GRO (2 or more in one read).
  uint64_t gro_segments_received = 0;
  std::array<uint64_t, kDropReasonCount> drops{};
  // With UdpSocketOptions::measure_receive_queue: datagrams the kernel dropped because the
  // socket's receive buffer was full (its sk_drops, as of the last read), and the most bytes ever
  // seen waiting in the receive queue after a read. These drops happen before the socket sees
  // the datagram, so they are not in `drops`.
  uint64_t kernel_receive_drops = 0;
  uint64_t largest_receive_queue_bytes = 0;

  uint64_t drops_for(DropReason reason) const { return drops[static_cast<size_t>(reason)]; }
  uint64_t total_drops() const;
  void CountDrop(DropReason reason, uint64_t n = 1) { drops[static_cast<size_t>(reason)] += n; }
};

}  // namespace meshvpn::udp
