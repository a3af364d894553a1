// Helpers for tests of TCP segmentation and coalescing (virtio_net_test, tcp_coalesce_test, the
// tun_coalesce fuzz target): header field writes, checksums made and checked, where a re-cut
// segment differs from its original, and a SegmentSink into vectors. Header-only; include as
// "tun/tcp_packet_checks.h".
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "meshvpn/base/bytes.h"
#include "meshvpn/tun/checksum.h"
#include "meshvpn/tun/virtio_net.h"

namespace meshvpn::tun::test {

inline uint16_t Get16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
inline void Put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
inline void Put32(uint8_t* p, uint32_t v) {
  Put16(p, static_cast<uint16_t>(v >> 16));
  Put16(p + 2, static_cast<uint16_t>(v));
}

inline bool IsV6(ByteSpan p) { return (p[0] >> 4) == 6; }
// The IP header's length: 40 for IPv6 (no extension headers here), IHL * 4 for IPv4.
inline size_t IpLen(ByteSpan p) { return IsV6(p) ? 40 : static_cast<size_t>(p[0] & 0x0f) * 4; }

// Both checksums of a TCP packet (IPv4 header, TCP over the pseudo-header) are right.
inline bool ChecksumsValid(ByteSpan p) {
  if (p.empty()) return false;
  const size_t ip_len = IpLen(p);
  if (ip_len < 20 || p.size() < ip_len + 20) return false;
  ChecksumAccumulator acc;
  if (IsV6(p)) {
    AddIpv6PseudoHeader(acc, p.subspan(8, 16), p.subspan(24, 16), 6,
                        static_cast<uint32_t>(p.size() - ip_len));
  } else {
    if (InternetChecksum(p.first(ip_len)) != 0) return false;
    AddIpv4PseudoHeader(acc, p.subspan(12, 4), p.subspan(16, 4), 6,
                        static_cast<uint16_t>(p.size() - ip_len));
  }
  acc.Add(p.subspan(ip_len));
  return acc.Sum() == 0xffff;
}

// Computes the IPv4 header checksum and, for TCP, the TCP checksum of a packet a test made.
// Leaves anything that is not IPv4/IPv6 with room for its headers alone.
inline void FixChecksums(Bytes& p) {
  if (p.size() < 20 || ((p[0] >> 4) != 4 && (p[0] >> 4) != 6)) return;
  const bool v6 = IsV6(p);
  const size_t ip_len = IpLen(p);
  if (ip_len < 20 || p.size() < ip_len) return;
  if (!v6) {
    Put16(&p[10], 0);
    Put16(&p[10], InternetChecksum(ByteSpan(p).first(ip_len)));
  }
  if (p[v6 ? 6 : 9] != 6 || p.size() < ip_len + 20) return;
  uint8_t* tcp = p.data() + ip_len;
  Put16(tcp + 16, 0);
  ChecksumAccumulator acc;
  const size_t tcp_bytes = p.size() - ip_len;
  if (v6) {
    AddIpv6PseudoHeader(acc, ByteSpan(p).subspan(8, 16), ByteSpan(p).subspan(24, 16), 6,
                        static_cast<uint32_t>(tcp_bytes));
  } else {
    AddIpv4PseudoHeader(acc, ByteSpan(p).subspan(12, 4), ByteSpan(p).subspan(16, 4), 6,
                        static_cast<uint16_t>(tcp_bytes));
  }
  acc.Add(ByteSpan(tcp, tcp_bytes));
  Put16(tcp + 16, acc.Finish());
}

inline constexpr size_t kSame = std::numeric_limits<size_t>::max();

// Where a segment SplitTso made first differs from the original packet (the shorter size if only
// the sizes differ), or kSame. A super-packet cannot give back what the kernel recomputes per
// segment: the checksums, and the IPv4 ID when DF is set (then the sender's IDs carry no meaning
// and need not count up).
inline size_t FirstDifference(ByteSpan segment, ByteSpan original) {
  const size_t ip_len = IpLen(original);
  const bool v4 = !IsV6(original);
  const bool df = v4 && (original[6] & 0x40) != 0;
  const size_t n = std::min(segment.size(), original.size());
  for (size_t i = 0; i < n; ++i) {
    if (v4 && (i == 10 || i == 11)) continue;
    if (df && (i == 4 || i == 5)) continue;
    if (i == ip_len + 16 || i == ip_len + 17) continue;
    if (segment[i] != original[i]) return i;
  }
  return segment.size() == original.size() ? kSame : n;
}

// Collects SplitTso's segments, at most `limit` of them.
struct VectorSink final : SegmentSink {
  explicit VectorSink(size_t limit = 1000) : limit(limit) {}
  MutableByteSpan NextSegment(size_t index, size_t size) override {
    if (index >= limit) return {};
    segments.emplace_back(size);
    return segments.back();
  }
  size_t limit;
  std::vector<Bytes> segments;
};

}  // namespace meshvpn::tun::test
