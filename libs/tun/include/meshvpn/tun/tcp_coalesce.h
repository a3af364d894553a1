// Receive-side coalescing for TUN writes with virtio-net headers, the userspace twin of the
// kernel's TCP GRO: consecutive segments of one TCP flow in a batch are planned as one TSO
// super-packet, so the kernel's stack takes one packet (and one write) instead of dozens.
// Sans-I/O; fuzzed (the plan, re-cut with SplitTso, gives back the original segments).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "meshvpn/base/bytes.h"
#include "meshvpn/tun/virtio_net.h"

namespace meshvpn::tun {

// One write the coalescer planned: `count` packets of the batch, starting with `head`; the others
// follow through TcpCoalescer::next(). With count == 1 the header is all zero (no offload) and the
// packet is written as it is. With count > 1 the header says TSO (TCPv4/TCPv6, NEEDS_CSUM) and
// the write is: the header, the whole head packet (its headers already rewritten for the
// super-packet), then each follower's payload, skipping its first follower_skip() bytes.
struct CoalescedWrite {
  VirtioNetHeader header;
  uint16_t head = 0;
  uint16_t count = 0;
  uint32_t bytes = 0;  // the IP packet this write gives the kernel (without the virtio header)
};

// Plans the writes of one batch. A segment joins the open group of its flow when it continues it
// exactly: same addresses and ports, next sequence number, same ACK number, window, urgent
// pointer, data offset/reserved bits and TCP options (byte for byte, as the kernel's GRO asks),
// only ACK (and PSH on a group's last segment) set, same
// IPv4 TOS/TTL/DF (IPv6 traffic class, flow label and hop limit), IPv4 IDs counting up unless DF
// is set, no IP options or extension headers, a payload no larger than the head's (a shorter one
// or a PSH ends the group), at most kMaxSegments and 65535 IP bytes in all. Anything else is a
// write of its own, and a TCP packet that cannot join ends its flow's group first, so each flow's
// packets keep their order. Packets of different flows may be written in a different order than
// they came in (as GRO does).
//
// TCP checksums are not verified: the packets come out of an authenticated WireGuard session, as
// in the Linux module (receive.c marks decrypted packets CHECKSUM_UNNECESSARY).
//
// Not thread-safe; allocation-free after construction.
class TcpCoalescer {
 public:
  static constexpr size_t kMaxPackets = 256;  // per Plan() call
  static constexpr size_t kMaxSegments = 64;  // per super-packet
  static constexpr uint16_t kEnd = 0xffff;    // next() after a write's last packet

  TcpCoalescer();

  // Plans writes for `packets` (each one whole IP packet; at most kMaxPackets). Rewrites the
  // headers of every head that got followers: IPv4 total length and header checksum, IPv6 payload
  // length, PSH if the last follower had it, and the TCP checksum field set to the pseudo-header
  // sum the kernel completes (NEEDS_CSUM). The plan is valid until the next call.
  std::span<const CoalescedWrite> Plan(std::span<const MutableByteSpan> packets);

  // The packet after `index` in its write, or kEnd.
  uint16_t next(uint16_t index) const { return next_[index]; }
  // The header bytes (IP + TCP) a follower's write leaves out.
  uint16_t follower_skip(uint16_t index) const { return skip_[index]; }

 private:
  static constexpr size_t kMaxOpenGroups = 8;  // flows coalescing at once; the oldest is closed
  // What Plan() reads of a packet.
  struct Segment {
    bool tcp = false;       // an IPv4/IPv6 TCP packet whose headers we could read
    bool joinable = false;  // ... that may start or join a group (see the class comment)
    bool v4 = false;
    uint8_t ip_len = 0;
    uint8_t tcp_len = 0;
    uint8_t flags = 0;
    uint16_t payload = 0;
    uint32_t seq = 0;
    uint32_t ack = 0;
  };
  // A flow's group that later segments may still join.
  struct Group {
    uint16_t write = 0;  // index in writes_
    uint16_t head = 0;
    uint16_t tail = 0;
    uint16_t gso_size = 0;
    uint16_t next_id = 0;  // the IPv4 ID the next segment must carry (unless DF)
    uint32_t next_seq = 0;
  };
  static Segment Read(ByteSpan packet);
  // The open group of `packet`'s flow, or nullptr.
  Group* FindGroup(ByteSpan packet, const Segment& segment,
                   std::span<const MutableByteSpan> packets);
  bool CanJoin(const Group& group, ByteSpan packet, const Segment& segment,
               std::span<const MutableByteSpan> packets) const;
  void Open(uint16_t index, const Segment& segment, ByteSpan packet);
  void Close(Group* group);
  void Finish(CoalescedWrite& write, std::span<const MutableByteSpan> packets);

  std::vector<CoalescedWrite> writes_;
  std::array<uint16_t, kMaxPackets> next_{};
  std::array<uint16_t, kMaxPackets> skip_{};
  std::array<Group, kMaxOpenGroups> open_{};
  size_t open_count_ = 0;
};

}  // namespace meshvpn::tun
