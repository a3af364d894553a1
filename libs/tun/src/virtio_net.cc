#include "meshvpn/tun/virtio_net.h"

#include <algorithm>
#include <cstring>

#include "byte_order.h"
#include "meshvpn/tun/checksum.h"

namespace meshvpn::tun {
namespace {

using internal::Be16;
using internal::Be32;
using internal::Le16;
using internal::PutBe16;
using internal::PutBe32;
using internal::PutLe16;

constexpr uint8_t kTcpFin = 0x01;
constexpr uint8_t kTcpPsh = 0x08;
constexpr uint8_t kTcpCwr = 0x80;

}  // namespace

VirtioNetHeader VirtioNetHeader::Parse(std::span<const uint8_t, kSize> b) {
  VirtioNetHeader h;
  h.flags = b[0];
  h.gso_type = b[1];
  h.hdr_len = Le16(&b[2]);
  h.gso_size = Le16(&b[4]);
  h.csum_start = Le16(&b[6]);
  h.csum_offset = Le16(&b[8]);
  return h;
}

void VirtioNetHeader::Encode(std::span<uint8_t, kSize> out) const {
  out[0] = flags;
  out[1] = gso_type;
  PutLe16(&out[2], hdr_len);
  PutLe16(&out[4], gso_size);
  PutLe16(&out[6], csum_start);
  PutLe16(&out[8], csum_offset);
}

std::string_view ToString(OffloadError error) {
  switch (error) {
    case OffloadError::kOk:
      return "ok";
    case OffloadError::kBadChecksumPlace:
      return "bad-checksum-place";
    case OffloadError::kUnsupportedGso:
      return "unsupported-gso";
    case OffloadError::kBadGsoPacket:
      return "bad-gso-packet";
    case OffloadError::kTooManySegments:
      return "too-many-segments";
  }
  return "unknown";
}

OffloadError CompleteChecksum(const VirtioNetHeader& header, MutableByteSpan packet) {
  if ((header.flags & VirtioNetHeader::kFlagNeedsCsum) == 0) return OffloadError::kOk;
  const size_t start = header.csum_start;
  const size_t field = start + header.csum_offset;
  if (start > packet.size() || field + 2 > packet.size()) return OffloadError::kBadChecksumPlace;
  // The field holds the folded pseudo-header sum; summing the data over it finishes the job.
  uint16_t sum = InternetChecksum(packet.subspan(start));
  if (sum == 0 && header.csum_offset == 6) sum = 0xffff;  // UDP: 0 means "no checksum"
  PutBe16(&packet[field], sum);
  return OffloadError::kOk;
}

OffloadError SplitTso(const VirtioNetHeader& header, ByteSpan packet, SegmentSink& sink,
                      size_t* count) {
  *count = 0;
  const uint8_t gso = header.gso_type;
  if (gso != VirtioNetHeader::kGsoTcpV4 && gso != VirtioNetHeader::kGsoTcpV6) {
    return OffloadError::kUnsupportedGso;
  }
  const bool v4 = gso == VirtioNetHeader::kGsoTcpV4;
  if (header.gso_size == 0 || packet.empty()) return OffloadError::kBadGsoPacket;
  // Find the IP and TCP headers ourselves rather than trusting hdr_len.
  size_t ip_len;
  if (v4) {
    if (packet.size() < 20 || (packet[0] >> 4) != 4 || packet[9] != 6) {
      return OffloadError::kBadGsoPacket;
    }
    ip_len = static_cast<size_t>(packet[0] & 0x0f) * 4;
  } else {
    if (packet.size() < 40 || (packet[0] >> 4) != 6 || packet[6] != 6) {
      return OffloadError::kBadGsoPacket;  // extension headers are not offloaded to us
    }
    ip_len = 40;
  }
  if (ip_len < 20 || packet.size() < ip_len + 20) return OffloadError::kBadGsoPacket;
  const size_t tcp_len = static_cast<size_t>(packet[ip_len + 12] >> 4) * 4;
  const size_t headers = ip_len + tcp_len;
  if (tcp_len < 20 || packet.size() < headers) return OffloadError::kBadGsoPacket;
  const ByteSpan payload = packet.subspan(headers);
  const size_t mss = header.gso_size;
  const uint32_t first_seq = Be32(&packet[ip_len + 4]);
  const uint16_t first_id = v4 ? Be16(&packet[4]) : 0;
  const uint8_t flags = packet[ip_len + 13];
  const size_t segments = payload.empty() ? 1 : (payload.size() + mss - 1) / mss;

  for (size_t i = 0; i < segments; ++i) {
    const size_t offset = i * mss;
    const size_t data = std::min(mss, payload.size() - std::min(offset, payload.size()));
    const size_t size = headers + data;
    MutableByteSpan out = sink.NextSegment(i, size);
    if (out.size() < size) return OffloadError::kTooManySegments;
    std::memcpy(out.data(), packet.data(), headers);
    std::memcpy(out.data() + headers, payload.data() + offset, data);
    uint8_t* ip = out.data();
    uint8_t* tcp = out.data() + ip_len;
    const bool last = i + 1 == segments;
    uint8_t f = flags;
    if (!last) f &= static_cast<uint8_t>(~(kTcpFin | kTcpPsh));
    if (i > 0) f &= static_cast<uint8_t>(~kTcpCwr);
    tcp[13] = f;
    PutBe32(tcp + 4, first_seq + static_cast<uint32_t>(offset));
    if (v4) {
      PutBe16(ip + 2, static_cast<uint16_t>(size));
      PutBe16(ip + 4, static_cast<uint16_t>(first_id + i));
      PutBe16(ip + 10, 0);
      PutBe16(ip + 10, InternetChecksum(ByteSpan(ip, ip_len)));
    } else {
      PutBe16(ip + 4, static_cast<uint16_t>(size - 40));
    }
    PutBe16(tcp + 16, 0);
    ChecksumAccumulator acc;
    const size_t tcp_bytes = tcp_len + data;
    if (v4) {
      AddIpv4PseudoHeader(acc, ByteSpan(ip + 12, 4), ByteSpan(ip + 16, 4), 6,
                          static_cast<uint16_t>(tcp_bytes));
    } else {
      AddIpv6PseudoHeader(acc, ByteSpan(ip + 8, 16), ByteSpan(ip + 24, 16), 6,
                          static_cast<uint32_t>(tcp_bytes));
    }
    acc.Add(ByteSpan(tcp, tcp_bytes));
    PutBe16(tcp + 16, acc.Finish());
    ++*count;
  }
  return OffloadError::kOk;
}

}  // namespace meshvpn::tun
