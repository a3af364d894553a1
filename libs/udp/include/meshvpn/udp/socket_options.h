// How a UDP socket is set up (address, dual-stack, buffer sizes, batch size, send queue bound) and
// what the kernel granted.
#pragma once

#include <cstddef>
#include <string>

#include "meshvpn/base/clock.h"
#include "meshvpn/base/log.h"
#include "meshvpn/udp/endpoint.h"
#include "meshvpn/udp/messages.h"

namespace meshvpn::udp {

struct UdpSocketOptions {
  // Where to bind. The default, [::]:0, takes any free port on every address of both families.
  Endpoint bind = Endpoint::Any(AddressFamily::kIpv6, 0);
  // For an IPv6 bind: also serve IPv4 (IPV6_V6ONLY off); IPv4 peers appear as IPv4 Endpoints.
  bool dual_stack = true;
  // If the host has no IPv6 (socket(AF_INET6) fails), bind the IPv4 wildcard instead of failing.
  // Applies to the [::] wildcard only.
  bool fall_back_to_ipv4 = true;

  // SO_RCVBUF / SO_SNDBUF requests in bytes; 0 keeps the kernel default. When the kernel caps a
  // request (net.core.rmem_max / wmem_max) and the process may (CAP_NET_ADMIN), the socket retries
  // with SO_RCVBUFFORCE / SO_SNDBUFFORCE. What was granted is in UdpSocket::buffer_sizes().
  int receive_buffer_bytes = 0;
  int send_buffer_bytes = 0;

  // Datagrams per recvmmsg/sendmmsg call, 1..kMaxBatch. 1 uses recvmsg/sendmsg, one system call
  // per datagram (the unbatched baseline the benchmark compares against).
  size_t batch_size = kMaxBatch;
  // UDP segmentation offload on send (Linux UDP_SEGMENT): consecutive datagrams of one size to
  // one destination leave as a single super-datagram that the kernel splits (the last may be
  // shorter), so the stack is walked once per group instead of once per datagram. Switched off
  // for the socket's lifetime, with a log line, the first time the kernel refuses it. Not used
  // with batch_size 1 (the one-call-per-datagram baseline).
  bool gso = true;
  // UDP receive coalescing (Linux UDP_GRO): the kernel may hand over a run of datagrams from one
  // sender as one buffer with their segment size; the socket splits it back into datagrams, one
  // pool buffer each (copied out of a 64 KiB read area per slot). Off if the kernel lacks it.
  bool gro = true;
  // recvmmsg calls per readiness event before yielding to other handles on the loop.
  size_t max_reads_per_wakeup = 8;
  // After each read call, ask the kernel how full the receive queue still is and how many
  // datagrams it dropped for want of room (SO_MEMINFO: one getsockopt per read call, up to 128
  // datagrams). UdpSocket::receive_queue() then tells a receiver that it is falling behind, and
  // UdpStats::kernel_receive_drops counts what was lost before the socket saw it.
  bool measure_receive_queue = false;
  // Datagrams Send() keeps while the socket buffer is full; beyond it they are dropped.
  size_t send_queue_limit = kDefaultSendQueueLimit;

  // The clock peer tracking reads (once per batch). Null: the real monotonic clock.
  const Clock* clock = nullptr;
  // Setup and error lines only; nothing is logged per packet.
  Logger logger;
};

// Socket buffer sizes as getsockopt reports them after setup. Linux doubles what is asked (half
// is for its own bookkeeping) and caps plain requests at net.core.{r,w}mem_max.
struct SocketBufferSizes {
  int receive_requested = 0;
  int receive_granted = 0;
  bool receive_forced = false;  // SO_RCVBUFFORCE was needed and worked
  int send_requested = 0;
  int send_granted = 0;
  bool send_forced = false;
};

// How full the kernel's receive queue was after the last read (measure_receive_queue).
struct ReceiveQueue {
  uint32_t queued_bytes = 0;    // sk_rmem_alloc: what waits, in kernel memory (truesize)
  uint32_t capacity_bytes = 0;  // sk_rcvbuf: beyond it the kernel drops
  // True when more than 1/`fraction` of the buffer is in use.
  bool FullerThan(uint32_t fraction) const {
    return capacity_bytes != 0 && uint64_t{queued_bytes} * fraction > capacity_bytes;
  }
};

// One line for logs and tools: "receive 425984 bytes (asked 4194304, forced), send 212992 bytes".
std::string ToString(const SocketBufferSizes& sizes);

}  // namespace meshvpn::udp
