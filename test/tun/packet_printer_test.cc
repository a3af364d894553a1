#include "meshvpn/tun/packet_printer.h"

#include <catch2/catch.hpp>

#include "meshvpn/tun/checksum.h"
#include "meshvpn/tun/messages.h"
#include "testdata.h"

namespace meshvpn::tun {
namespace {

using test::LoadPacket;

std::string Line(const Bytes& bytes) {
  return FormatPacketLine("TUN0", ParseIpPacket(bytes), bytes.size());
}

TEST_CASE("the seed's example line is reproduced exactly") {
  // "[TUN0] 192.168.1.100 -> 8.8.8.8 | ICMP Echo Request | 64 bytes" (C project 1): a default
  // ping (56 data bytes + 8 ICMP header) from 192.168.1.100 to 8.8.8.8. Take a captured echo
  // request and readdress it, updating the header checksum incrementally.
  Bytes p = LoadPacket("v4_icmp_echo");
  REQUIRE(p.size() == 84);
  const uint8_t source[4] = {192, 168, 1, 100};
  const uint8_t destination[4] = {8, 8, 8, 8};
  uint16_t checksum = test::GetBe16(p, 10);
  checksum = ChecksumUpdate(checksum, ByteSpan(p).subspan(12, 4), source);
  checksum = ChecksumUpdate(checksum, ByteSpan(p).subspan(16, 4), destination);
  std::copy(std::begin(source), std::end(source), p.begin() + 12);
  std::copy(std::begin(destination), std::end(destination), p.begin() + 16);
  test::PutBe16(p, 10, checksum);
  REQUIRE(ParseIpPacket(p).ok());
  CHECK(Line(p) == "[TUN0] 192.168.1.100 -> 8.8.8.8 | ICMP Echo Request | 64 bytes");
}

TEST_CASE("every captured packet prints as one exact line") {
  struct Case {
    const char* file;
    const char* line;
  };
  const Case cases[] = {
      {"v4_icmp_echo", "[TUN0] 10.77.0.1 -> 10.77.0.2 | ICMP Echo Request | 64 bytes"},
      {"v4_icmp_record_route", "[TUN0] 10.77.0.1 -> 10.77.0.2 | ICMP Echo Request | 64 bytes"},
      {"v6_icmp_echo", "[TUN0] fd77::1 -> fd77::2 | ICMPv6 Echo Request | 64 bytes"},
      {"v6_icmp_router_solicitation",
       "[TUN0] fe80::6f5a:1676:7f20:b997 -> ff02::2 | ICMPv6 Router Solicitation | 8 bytes"},
      {"v4_tcp_syn",
       "[TUN0] 10.77.0.1:55538 -> 10.77.0.2:80 | TCP [SYN] seq=3678064338 | 40 bytes"},
      {"v6_tcp_syn",
       "[TUN0] [fd77::1]:40904 -> [fd77::2]:443 | TCP [SYN] seq=3515395616 | 40 bytes"},
      {"v4_udp_dns", "[TUN0] 10.77.0.1:39570 -> 10.77.0.2:53 | UDP | 37 bytes"},
      {"v6_udp_dns", "[TUN0] [fd77::1]:58376 -> [fd77::2]:53 | UDP | 37 bytes"},
      {"v4_udp_no_checksum",
       "[TUN0] 10.77.0.1:48077 -> 10.77.0.2:9999 | UDP (no checksum) | 19 bytes"},
      {"v6_udp_ext_headers",
       "[TUN0] [fd77::1]:41818 -> [fd77::2]:9999 | UDP | ext HBH,DST | 20 bytes"},
      {"v6_udp_routing_header",
       "[TUN0] [fd77::1]:40000 -> [fd77::a]:9999 | UDP | ext HBH,RH,DST | 14 bytes"},
      {"v4_icmp_fragment_first",
       "[TUN0] 10.77.0.1 -> 10.77.0.2 | ICMP Echo Request | fragment id=24747 offset=0 MF | "
       "1400 bytes"},
      {"v4_icmp_fragment_last",
       "[TUN0] 10.77.0.1 -> 10.77.0.2 | ICMP (later fragment, no header) | fragment id=24747 "
       "offset=1400 | 608 bytes"},
      {"v6_icmp_fragment_first",
       "[TUN0] fd77::1 -> fd77::2 | ICMPv6 Echo Request | ext FRAG | fragment id=0xe367c7b2 "
       "offset=0 MF | 1368 bytes"},
      {"v6_icmp_fragment_last",
       "[TUN0] fd77::1 -> fd77::2 | ICMPv6 (later fragment, no header) | ext FRAG | fragment "
       "id=0xe367c7b2 offset=1368 | 640 bytes"},
      {"v6_udp_fragment_chain",
       "[TUN0] [fd77::1]:40001 -> [fd77::2]:53 | UDP | ext HBH,FRAG | fragment id=0xcafef00d "
       "offset=0 MF | 24 bytes"},
  };
  for (const Case& c : cases) {
    INFO(c.file);
    const Bytes bytes = LoadPacket(c.file);
    REQUIRE(!bytes.empty());
    CHECK(Line(bytes) == c.line);
  }
}

TEST_CASE("malformed packets print the reason and the bytes read") {
  SECTION("bad IPv4 header checksum: addresses are known") {
    Bytes p = LoadPacket("v4_icmp_echo");
    p[8] ^= 1;
    CHECK(Line(p) ==
          "[TUN0] 10.77.0.1 -> 10.77.0.2 | malformed: bad IPv4 header checksum | 84 bytes");
  }
  SECTION("bad UDP checksum: ports are known too") {
    Bytes p = LoadPacket("v4_udp_dns");
    p.back() ^= 1;
    CHECK(Line(p) ==
          "[TUN0] 10.77.0.1:39570 -> 10.77.0.2:53 | malformed: bad UDP checksum | 57 bytes");
  }
  SECTION("bad ICMPv6 checksum") {
    Bytes p = LoadPacket("v6_icmp_echo");
    p.back() ^= 1;
    CHECK(Line(p) == "[TUN0] fd77::1 -> fd77::2 | malformed: bad ICMPv6 checksum | 104 bytes");
  }
  SECTION("too short for an IP header: no addresses") {
    const Bytes full = LoadPacket("v4_icmp_echo");
    REQUIRE(full.size() == 84);
    const Bytes p(full.begin(), full.begin() + 10);
    CHECK(Line(p) == "[TUN0] malformed: truncated IPv4 packet | 10 bytes");
  }
  SECTION("empty") { CHECK(Line(Bytes()) == "[TUN0] malformed: empty packet | 0 bytes"); }
}

TEST_CASE("transport descriptions") {
  IpPacket p;
  p.has_transport = true;
  SECTION("TCP flags and the acknowledgment number") {
    p.protocol = kProtoTcp;
    p.tcp_flags = tcp::kSyn | tcp::kAck;
    p.tcp_seq = 1;
    p.tcp_ack = 2;
    CHECK(DescribeTransport(p) == "TCP [SYN, ACK] seq=1 ack=2");
  }
  SECTION("ICMP with a code, and an unnamed type") {
    p.protocol = kProtoIcmp;
    p.icmp_type = icmp::kDestinationUnreachable;
    p.icmp_code = 3;
    CHECK(DescribeTransport(p) == "ICMP Destination Unreachable (code 3)");
    p.icmp_type = 42;
    p.icmp_code = 0;
    CHECK(DescribeTransport(p) == "ICMP type 42 code 0");
  }
  SECTION("protocols without a parser") {
    p.has_transport = false;
    p.protocol = 47;
    CHECK(DescribeTransport(p) == "GRE");
    p.protocol = 253;
    CHECK(DescribeTransport(p) == "IP protocol 253");
  }
  CHECK(TcpFlagsToString(0) == "none");
  CHECK(TcpFlagsToString(0xff) == "FIN, SYN, RST, PSH, ACK, URG, ECE, CWR");
  CHECK(ExtensionHeaderName(kProtoRouting) == "RH");
}

TEST_CASE("hex dumps show offset, bytes and ASCII, sixteen to a line") {
  const uint8_t data[] = {0x45, 0x00, 0x00, 0x54, 0x59, 0x41, 0x40, 0x00, 0x40,
                          0x01, 0xc8, 0x0d, 0x0a, 0x4d, 0x00, 0x01, 0x41, 0x42};
  const std::string expected =
      "  0000  45 00 00 54 59 41 40 00  40 01 c8 0d 0a 4d 00 01  E..TYA@.@....M..\n"
      "  0010  41 42" +
      std::string(45, ' ') + "AB\n";
  CHECK(HexDump(data) == expected);
  CHECK(HexDump({}) == "");
}

}  // namespace
}  // namespace meshvpn::tun
