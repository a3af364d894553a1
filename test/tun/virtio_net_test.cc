// TUN offloads without a kernel: the virtio-net header round trip, finishing a partial checksum,
// and cutting TSO super-packets (IPv4 and IPv6) into segments that parse with valid checksums and
// reassemble to the original stream.
#include "meshvpn/tun/virtio_net.h"

#include <catch2/catch.hpp>
#include <vector>

#include "meshvpn/tun/checksum.h"
#include "meshvpn/tun/ip_packet.h"
#include "tun/tcp_packet_checks.h"

namespace meshvpn::tun {
namespace {

using test::VectorSink;

// A TCP packet with `payload` bytes, flags PSH|ACK (and FIN if asked), valid checksums.
Bytes TcpPacket(bool v6, size_t payload, uint8_t flags = 0x18) {
  const size_t ip_len = v6 ? 40 : 20;
  Bytes p(ip_len + 20 + payload);
  for (size_t i = 0; i < payload; ++i) p[ip_len + 20 + i] = static_cast<uint8_t>(i * 7 + 3);
  if (v6) {
    p[0] = 0x60;
    p[4] = static_cast<uint8_t>((20 + payload) >> 8);
    p[5] = static_cast<uint8_t>(20 + payload);
    p[6] = 6;
    p[7] = 64;
    p[8] = 0xfd;
    p[23] = 1;
    p[24] = 0xfd;
    p[39] = 2;
  } else {
    p[0] = 0x45;
    p[2] = static_cast<uint8_t>(p.size() >> 8);
    p[3] = static_cast<uint8_t>(p.size());
    p[4] = 0x12;
    p[5] = 0x34;
    p[8] = 64;
    p[9] = 6;
    p[12] = 10, p[15] = 1;
    p[16] = 10, p[19] = 2;
    const uint16_t c = InternetChecksum(ByteSpan(p.data(), 20));
    p[10] = static_cast<uint8_t>(c >> 8);
    p[11] = static_cast<uint8_t>(c);
  }
  uint8_t* tcp = p.data() + ip_len;
  tcp[0] = 0x9c, tcp[1] = 0x40;                                // port 40000
  tcp[2] = 0x14, tcp[3] = 0x51;                                // port 5201
  tcp[4] = 0x11, tcp[5] = 0x22, tcp[6] = 0x33, tcp[7] = 0x44;  // seq
  tcp[12] = 0x50;
  tcp[13] = flags;
  tcp[14] = 0xff;
  ChecksumAccumulator acc;
  if (v6) {
    AddIpv6PseudoHeader(acc, ByteSpan(p.data() + 8, 16), ByteSpan(p.data() + 24, 16), 6,
                        static_cast<uint32_t>(20 + payload));
  } else {
    AddIpv4PseudoHeader(acc, ByteSpan(p.data() + 12, 4), ByteSpan(p.data() + 16, 4), 6,
                        static_cast<uint16_t>(20 + payload));
  }
  acc.Add(ByteSpan(tcp, 20 + payload));
  const uint16_t c = acc.Finish();
  tcp[16] = static_cast<uint8_t>(c >> 8);
  tcp[17] = static_cast<uint8_t>(c);
  return p;
}

uint32_t Seq(const Bytes& p, size_t ip_len) {
  return (uint32_t{p[ip_len + 4]} << 24) | (uint32_t{p[ip_len + 5]} << 16) |
         (uint32_t{p[ip_len + 6]} << 8) | p[ip_len + 7];
}

TEST_CASE("The virtio-net header encodes and parses back") {
  VirtioNetHeader h;
  h.flags = VirtioNetHeader::kFlagNeedsCsum;
  h.gso_type = VirtioNetHeader::kGsoTcpV6;
  h.hdr_len = 60;
  h.gso_size = 1380;
  h.csum_start = 40;
  h.csum_offset = 16;
  std::array<uint8_t, VirtioNetHeader::kSize> wire{};
  h.Encode(wire);
  CHECK(wire[0] == 1);
  CHECK(wire[4] == (1380 & 0xff));  // little-endian
  const VirtioNetHeader back = VirtioNetHeader::Parse(wire);
  CHECK(back.gso_size == 1380);
  CHECK(back.csum_start == 40);
  CHECK(back.csum_offset == 16);
  CHECK(back.hdr_len == 60);
  CHECK(back.gso_type == VirtioNetHeader::kGsoTcpV6);
}

TEST_CASE("A partial checksum is completed to the real one") {
  for (bool v6 : {false, true}) {
    INFO((v6 ? "IPv6" : "IPv4"));
    const Bytes good = TcpPacket(v6, 333);
    const size_t ip_len = v6 ? 40 : 20;
    Bytes partial = good;
    // What the kernel leaves: the folded pseudo-header sum in the checksum field.
    ChecksumAccumulator pseudo;
    if (v6) {
      AddIpv6PseudoHeader(pseudo, ByteSpan(good.data() + 8, 16), ByteSpan(good.data() + 24, 16), 6,
                          353);
    } else {
      AddIpv4PseudoHeader(pseudo, ByteSpan(good.data() + 12, 4), ByteSpan(good.data() + 16, 4), 6,
                          353);
    }
    partial[ip_len + 16] = static_cast<uint8_t>(pseudo.Sum() >> 8);
    partial[ip_len + 17] = static_cast<uint8_t>(pseudo.Sum());
    VirtioNetHeader h;
    h.flags = VirtioNetHeader::kFlagNeedsCsum;
    h.csum_start = static_cast<uint16_t>(ip_len);
    h.csum_offset = 16;
    REQUIRE(CompleteChecksum(h, partial) == OffloadError::kOk);
    CHECK(partial == good);
    h.csum_start = static_cast<uint16_t>(partial.size() - 1);
    CHECK(CompleteChecksum(h, partial) == OffloadError::kBadChecksumPlace);
  }
}

TEST_CASE("A TSO packet becomes MSS-sized segments that parse and reassemble") {
  for (bool v6 : {false, true}) {
    for (size_t payload : {size_t{1}, size_t{1380}, size_t{1381}, size_t{5000}, size_t{65000}}) {
      INFO((v6 ? "IPv6 " : "IPv4 ") << payload);
      const size_t ip_len = v6 ? 40 : 20;
      const Bytes big = TcpPacket(v6, payload, 0x80 | 0x18 | 0x01);  // CWR PSH ACK FIN
      VirtioNetHeader h;
      h.flags = VirtioNetHeader::kFlagNeedsCsum;
      h.gso_type = v6 ? VirtioNetHeader::kGsoTcpV6 : VirtioNetHeader::kGsoTcpV4;
      h.gso_size = 1380;
      h.hdr_len = static_cast<uint16_t>(ip_len + 20);
      VectorSink sink;
      size_t count = 0;
      REQUIRE(SplitTso(h, big, sink, &count) == OffloadError::kOk);
      REQUIRE(count == (payload + 1379) / 1380);
      Bytes stream;
      for (size_t i = 0; i < count; ++i) {
        const Bytes& s = sink.segments[i];
        const ParseResult parsed = ParseIpPacket(s);
        INFO("segment " << i);
        REQUIRE(parsed.ok());  // IPv4 header and TCP checksums verified by the parser
        CHECK(Seq(s, ip_len) == 0x11223344u + i * 1380);
        const uint8_t flags = s[ip_len + 13];
        CHECK(((flags & 0x80) != 0) == (i == 0));          // CWR only first
        CHECK(((flags & 0x01) != 0) == (i + 1 == count));  // FIN only last
        CHECK(((flags & 0x08) != 0) == (i + 1 == count));  // PSH only last
        if (!v6) CHECK(((s[4] << 8) | s[5]) == 0x1234 + static_cast<int>(i));
        stream.insert(stream.end(), s.begin() + ip_len + 20, s.end());
      }
      CHECK(stream == Bytes(big.begin() + ip_len + 20, big.end()));
    }
  }
}

TEST_CASE("Bad offload requests are refused with a reason") {
  const Bytes big = TcpPacket(false, 3000);
  VirtioNetHeader h;
  h.gso_type = VirtioNetHeader::kGsoTcpV4;
  h.gso_size = 1000;
  size_t count = 0;
  VectorSink few(2);
  CHECK(SplitTso(h, big, few, &count) == OffloadError::kTooManySegments);
  VectorSink sink;
  h.gso_type = VirtioNetHeader::kGsoUdp;
  CHECK(SplitTso(h, big, sink, &count) == OffloadError::kUnsupportedGso);
  h.gso_type = VirtioNetHeader::kGsoTcpV6;  // the packet is IPv4
  CHECK(SplitTso(h, big, sink, &count) == OffloadError::kBadGsoPacket);
  h.gso_type = VirtioNetHeader::kGsoTcpV4;
  h.gso_size = 0;
  CHECK(SplitTso(h, big, sink, &count) == OffloadError::kBadGsoPacket);
  h.gso_size = 1000;
  CHECK(SplitTso(h, ByteSpan(big.data(), 30), sink, &count) == OffloadError::kBadGsoPacket);
}

}  // namespace
}  // namespace meshvpn::tun
