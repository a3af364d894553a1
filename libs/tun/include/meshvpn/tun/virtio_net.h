// TUN offloads (IFF_VNET_HDR): the virtio-net header the kernel puts before each packet, and the
// userspace work it leaves: finishing a partial checksum and cutting a TSO super-packet into
// MSS-sized TCP segments with their own headers and checksums. Sans-I/O; fuzzed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "meshvpn/base/bytes.h"

namespace meshvpn::tun {

// struct virtio_net_hdr (linux/virtio_net.h), 10 bytes, little-endian on the hosts we run on.
struct VirtioNetHeader {
  static constexpr size_t kSize = 10;
  static constexpr uint8_t kFlagNeedsCsum = 1;  // VIRTIO_NET_HDR_F_NEEDS_CSUM
  static constexpr uint8_t kGsoNone = 0;
  static constexpr uint8_t kGsoTcpV4 = 1;
  static constexpr uint8_t kGsoUdp = 3;
  static constexpr uint8_t kGsoTcpV6 = 4;
  static constexpr uint8_t kGsoEcn = 0x80;

  uint8_t flags = 0;
  uint8_t gso_type = kGsoNone;
  uint16_t hdr_len = 0;      // bytes of headers (IP + TCP) in a GSO packet
  uint16_t gso_size = 0;     // payload bytes per segment (the MSS)
  uint16_t csum_start = 0;   // where the checksummed part starts
  uint16_t csum_offset = 0;  // where, after csum_start, the checksum field is

  static VirtioNetHeader Parse(std::span<const uint8_t, kSize> bytes);
  void Encode(std::span<uint8_t, kSize> out) const;
};

enum class OffloadError : uint8_t {
  kOk = 0,
  kBadChecksumPlace,  // csum_start/csum_offset outside the packet
  kUnsupportedGso,    // a GSO type other than TCPv4/TCPv6 (UDP, ECN)
  kBadGsoPacket,      // not the IP/TCP packet its header claims, or gso_size 0
  kTooManySegments,   // more segments than the caller can take
};
std::string_view ToString(OffloadError error);

// Completes a partial checksum (NEEDS_CSUM): the kernel stored the pseudo-header sum at
// csum_start + csum_offset; the rest of the data from csum_start is added and the result stored.
OffloadError CompleteChecksum(const VirtioNetHeader& header, MutableByteSpan packet);

// Receives the segments of a TSO packet, one at a time: `index`-th, and a buffer of `size` bytes
// to fill. Returns nullptr to stop (no buffer): the split ends with kTooManySegments.
class SegmentSink {
 public:
  virtual ~SegmentSink() = default;
  virtual MutableByteSpan NextSegment(size_t index, size_t size) = 0;
};

// Cuts a TCPv4/TCPv6 GSO packet into segments of at most gso_size payload bytes: each gets the IP
// and TCP headers, its own sequence number, IPv4 total length / identification (+1 each) and
// header checksum / IPv6 payload length, FIN and PSH only on the last segment, CWR only on the
// first, and a full TCP checksum. Returns the number of segments through `*count`.
OffloadError SplitTso(const VirtioNetHeader& header, ByteSpan packet, SegmentSink& sink,
                      size_t* count);

}  // namespace meshvpn::tun
