#include "meshvpn/tun/tcp_coalesce.h"

#include <algorithm>
#include <cstring>

#include "byte_order.h"
#include "meshvpn/tun/checksum.h"

namespace meshvpn::tun {
namespace {

using internal::Be16;
using internal::Be32;
using internal::PutBe16;

constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kTcpPsh = 0x08;
constexpr uint8_t kTcpAck = 0x10;
constexpr uint8_t kIpv4DontFragment = 0x40;  // in byte 6 of the IPv4 header
constexpr size_t kMaxIpBytes = 65535;

// Source and destination addresses in the IP header, then the two ports: the flow.
bool SameFlow(ByteSpan a, ByteSpan b, bool v4, size_t ip_len) {
  const size_t addresses = v4 ? 12 : 8;
  const size_t length = v4 ? 8 : 32;
  return std::memcmp(a.data() + addresses, b.data() + addresses, length) == 0 &&
         std::memcmp(a.data() + ip_len, b.data() + ip_len, 4) == 0;
}

// An IP packet that may carry TCP where Read() did not find it.
bool MaybeTcp(ByteSpan p) {
  if (p.size() >= 20 && (p[0] >> 4) == 4) return p[9] == kProtoTcp;
  if (p.size() < 40 || (p[0] >> 4) != 6) return false;
  switch (p[6]) {
    case kProtoTcp:
    case 0:   // hop-by-hop options
    case 43:  // routing
    case 44:  // fragment
    case 50:  // ESP
    case 51:  // AH
    case 60:  // destination options
      return true;
    default:
      return false;
  }
}

}  // namespace

TcpCoalescer::TcpCoalescer() { writes_.reserve(kMaxPackets); }

TcpCoalescer::Segment TcpCoalescer::Read(ByteSpan p) {
  Segment s;
  if (p.empty()) return s;
  const uint8_t version = p[0] >> 4;
  if (version == 4) {
    if (p.size() < 20 || p[9] != kProtoTcp) return s;
    // No options, not a fragment, no reserved flag; the length field agrees with what we hold.
    if ((p[0] & 0x0f) != 5 || (p[6] & 0xbf) != 0 || p[7] != 0 || Be16(&p[2]) != p.size()) {
      return s;
    }
    s.v4 = true;
    s.ip_len = 20;
  } else if (version == 6) {
    if (p.size() < 40 || p[6] != kProtoTcp || Be16(&p[4]) + 40u != p.size()) return s;
    s.ip_len = 40;
  } else {
    return s;
  }
  if (p.size() < s.ip_len + 20u) return s;
  const uint8_t* tcp = p.data() + s.ip_len;
  const size_t tcp_len = static_cast<size_t>(tcp[12] >> 4) * 4;
  if (tcp_len < 20 || s.ip_len + tcp_len > p.size()) return s;
  s.tcp = true;
  s.tcp_len = static_cast<uint8_t>(tcp_len);
  s.flags = tcp[13];
  s.payload = static_cast<uint16_t>(p.size() - s.ip_len - tcp_len);
  s.seq = Be32(tcp + 4);
  s.ack = Be32(tcp + 8);
  s.joinable = s.payload > 0 && (s.flags & ~kTcpPsh) == kTcpAck;
  return s;
}

std::span<const CoalescedWrite> TcpCoalescer::Plan(std::span<const MutableByteSpan> packets) {
  writes_.clear();
  open_count_ = 0;
  const size_t n = std::min(packets.size(), kMaxPackets);
  for (size_t i = 0; i < n; ++i) {
    const auto index = static_cast<uint16_t>(i);
    const ByteSpan packet = packets[i];
    next_[i] = kEnd;
    skip_[i] = 0;
    const Segment segment = Read(packet);
    if (!segment.tcp) {
      // Maybe TCP, but we cannot place it in a flow (a fragment, IP options, extension headers):
      // close every group so that no flow's packets can overtake it.
      if (MaybeTcp(packet)) open_count_ = 0;
    } else if (Group* group = FindGroup(packet, segment, packets)) {
      if (segment.joinable && CanJoin(*group, packet, segment, packets)) {
        CoalescedWrite& write = writes_[group->write];
        next_[group->tail] = index;
        skip_[i] = static_cast<uint16_t>(segment.ip_len + segment.tcp_len);
        group->tail = index;
        group->next_seq = segment.seq + segment.payload;
        ++group->next_id;
        ++write.count;
        write.bytes += segment.payload;
        // A short segment or a PSH ends the super-packet, as it ends a TSO burst.
        if (segment.payload < group->gso_size || (segment.flags & kTcpPsh) != 0) Close(group);
        continue;
      }
      Close(group);
    }
    CoalescedWrite write;
    write.head = index;
    write.count = 1;
    write.bytes = static_cast<uint32_t>(packet.size());
    writes_.push_back(write);
    if (segment.joinable && (segment.flags & kTcpPsh) == 0) Open(index, segment, packet);
  }
  for (CoalescedWrite& write : writes_) {
    if (write.count > 1) Finish(write, packets);
  }
  return writes_;
}

TcpCoalescer::Group* TcpCoalescer::FindGroup(ByteSpan packet, const Segment& segment,
                                             std::span<const MutableByteSpan> packets) {
  for (size_t g = 0; g < open_count_; ++g) {
    const ByteSpan head = packets[open_[g].head];
    if ((head[0] >> 4) == (packet[0] >> 4) && SameFlow(head, packet, segment.v4, segment.ip_len)) {
      return &open_[g];
    }
  }
  return nullptr;
}

bool TcpCoalescer::CanJoin(const Group& group, ByteSpan packet, const Segment& segment,
                           std::span<const MutableByteSpan> packets) const {
  const ByteSpan head = packets[group.head];
  const CoalescedWrite& write = writes_[group.write];
  if (segment.seq != group.next_seq || segment.payload > group.gso_size) return false;
  if (write.count >= kMaxSegments || write.bytes + segment.payload > kMaxIpBytes) return false;
  const uint8_t* h = head.data();
  const uint8_t* p = packet.data();
  if (segment.v4) {
    // TOS, TTL and DF alike; without DF the IDs must count up as TSO would make them.
    if (h[1] != p[1] || h[8] != p[8] || (h[6] & kIpv4DontFragment) != (p[6] & kIpv4DontFragment)) {
      return false;
    }
    if ((p[6] & kIpv4DontFragment) == 0 && Be16(p + 4) != group.next_id) return false;
  } else {
    // Version, traffic class and flow label; hop limit.
    if (std::memcmp(h, p, 4) != 0 || h[7] != p[7]) return false;
  }
  const uint8_t* head_tcp = h + segment.ip_len;
  const uint8_t* tcp = p + segment.ip_len;
  // Byte for byte: the ACK number, data offset with the reserved and AE bits, window, urgent
  // pointer and options (timestamps included). The super-packet's one header speaks for all.
  return head_tcp[12] == tcp[12] && std::memcmp(head_tcp + 8, tcp + 8, 4) == 0 &&
         std::memcmp(head_tcp + 14, tcp + 14, 2) == 0 &&
         std::memcmp(head_tcp + 18, tcp + 18, 2) == 0 &&
         std::memcmp(head_tcp + 20, tcp + 20, segment.tcp_len - 20) == 0;
}

void TcpCoalescer::Open(uint16_t index, const Segment& segment, ByteSpan packet) {
  if (open_count_ == kMaxOpenGroups) {
    // Close the oldest: its write stays in the plan, it just takes no more segments.
    std::move(open_.begin() + 1, open_.end(), open_.begin());
    --open_count_;
  }
  Group& group = open_[open_count_++];
  group.write = static_cast<uint16_t>(writes_.size() - 1);
  group.head = index;
  group.tail = index;
  group.gso_size = segment.payload;
  group.next_seq = segment.seq + segment.payload;
  group.next_id = segment.v4 ? static_cast<uint16_t>(Be16(packet.data() + 4) + 1) : 0;
}

void TcpCoalescer::Close(Group* group) {
  const size_t g = static_cast<size_t>(group - open_.data());
  std::move(open_.begin() + static_cast<std::ptrdiff_t>(g) + 1,
            open_.begin() + static_cast<std::ptrdiff_t>(open_count_),
            open_.begin() + static_cast<std::ptrdiff_t>(g));
  --open_count_;
}

void TcpCoalescer::Finish(CoalescedWrite& write, std::span<const MutableByteSpan> packets) {
  const MutableByteSpan head = packets[write.head];
  const Segment segment = Read(head);
  uint8_t* ip = head.data();
  uint8_t* tcp = ip + segment.ip_len;
  const auto headers = static_cast<uint16_t>(segment.ip_len + segment.tcp_len);
  uint16_t last = write.head;
  while (next_[last] != kEnd) last = next_[last];
  const ByteSpan tail = packets[last];
  tcp[13] = static_cast<uint8_t>(tcp[13] | (tail[segment.ip_len + 13] & kTcpPsh));

  const uint32_t tcp_bytes = write.bytes - segment.ip_len;
  ChecksumAccumulator pseudo;
  if (segment.v4) {
    PutBe16(ip + 2, static_cast<uint16_t>(write.bytes));
    PutBe16(ip + 10, 0);
    PutBe16(ip + 10, InternetChecksum(ByteSpan(ip, 20)));
    AddIpv4PseudoHeader(pseudo, ByteSpan(ip + 12, 4), ByteSpan(ip + 16, 4), kProtoTcp,
                        static_cast<uint16_t>(tcp_bytes));
  } else {
    PutBe16(ip + 4, static_cast<uint16_t>(write.bytes - 40));
    AddIpv6PseudoHeader(pseudo, ByteSpan(ip + 8, 16), ByteSpan(ip + 24, 16), kProtoTcp, tcp_bytes);
  }
  // NEEDS_CSUM: the field holds the folded pseudo-header sum; the kernel adds the rest.
  PutBe16(tcp + 16, pseudo.Sum());

  write.header.flags = VirtioNetHeader::kFlagNeedsCsum;
  write.header.gso_type = segment.v4 ? VirtioNetHeader::kGsoTcpV4 : VirtioNetHeader::kGsoTcpV6;
  write.header.hdr_len = headers;
  write.header.gso_size = static_cast<uint16_t>(head.size() - headers);
  write.header.csum_start = segment.ip_len;
  write.header.csum_offset = 16;
}

}  // namespace meshvpn::tun
