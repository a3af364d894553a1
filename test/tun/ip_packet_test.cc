#include "meshvpn/tun/ip_packet.h"

#include <catch2/catch.hpp>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "meshvpn/tun/messages.h"
#include "testdata.h"

namespace meshvpn::tun {
namespace {

using test::LoadPacket;
using test::PutBe16;

struct Expected {
  const char* file;
  int version;
  const char* source;
  const char* destination;
  uint8_t protocol;
  uint32_t header_length;
  uint32_t total_length;
  uint32_t transport_length;
  bool has_transport;
  uint16_t source_port;
  uint16_t destination_port;
  int icmp_type;  // -1: not ICMP
  bool is_fragment;
  bool more_fragments;
  uint32_t fragment_offset;
  ChecksumStatus transport_checksum;
  std::vector<uint8_t> extension_headers;
};

constexpr auto kValid = ChecksumStatus::kValid;
constexpr auto kUnverifiable = ChecksumStatus::kUnverifiable;

// Every captured and synthetic packet in testdata/ (SOURCES.md says how each was made), with
// what tcpdump -vvv decoded from it.
const std::vector<Expected>& Table() {
  static const std::vector<Expected> table = {
      {"v4_icmp_echo",
       4,
       "10.77.0.1",
       "10.77.0.2",
       1,
       20,
       84,
       64,
       true,
       0,
       0,
       8,
       false,
       false,
       0,
       kValid,
       {}},
      {"v4_icmp_record_route",
       4,
       "10.77.0.1",
       "10.77.0.2",
       1,
       60,
       124,
       64,
       true,
       0,
       0,
       8,
       false,
       false,
       0,
       kValid,
       {}},
      {"v4_tcp_syn",
       4,
       "10.77.0.1",
       "10.77.0.2",
       6,
       20,
       60,
       40,
       true,
       55538,
       80,
       -1,
       false,
       false,
       0,
       kValid,
       {}},
      {"v4_udp_dns",
       4,
       "10.77.0.1",
       "10.77.0.2",
       17,
       20,
       57,
       37,
       true,
       39570,
       53,
       -1,
       false,
       false,
       0,
       kValid,
       {}},
      {"v4_udp_no_checksum",
       4,
       "10.77.0.1",
       "10.77.0.2",
       17,
       20,
       39,
       19,
       true,
       48077,
       9999,
       -1,
       false,
       false,
       0,
       ChecksumStatus::kAbsent,
       {}},
      {"v4_icmp_fragment_first",
       4,
       "10.77.0.1",
       "10.77.0.2",
       1,
       20,
       1420,
       1400,
       true,
       0,
       0,
       8,
       true,
       true,
       0,
       kUnverifiable,
       {}},
      {"v4_icmp_fragment_last",
       4,
       "10.77.0.1",
       "10.77.0.2",
       1,
       20,
       628,
       608,
       false,
       0,
       0,
       -1,
       true,
       false,
       1400,
       kUnverifiable,
       {}},
      {"v6_icmp_echo",
       6,
       "fd77::1",
       "fd77::2",
       58,
       40,
       104,
       64,
       true,
       0,
       0,
       128,
       false,
       false,
       0,
       kValid,
       {}},
      {"v6_icmp_router_solicitation",
       6,
       "fe80::6f5a:1676:7f20:b997",
       "ff02::2",
       58,
       40,
       48,
       8,
       true,
       0,
       0,
       133,
       false,
       false,
       0,
       kValid,
       {}},
      {"v6_tcp_syn",
       6,
       "fd77::1",
       "fd77::2",
       6,
       40,
       80,
       40,
       true,
       40904,
       443,
       -1,
       false,
       false,
       0,
       kValid,
       {}},
      {"v6_udp_dns",
       6,
       "fd77::1",
       "fd77::2",
       17,
       40,
       77,
       37,
       true,
       58376,
       53,
       -1,
       false,
       false,
       0,
       kValid,
       {}},
      {"v6_udp_ext_headers",
       6,
       "fd77::1",
       "fd77::2",
       17,
       56,
       76,
       20,
       true,
       41818,
       9999,
       -1,
       false,
       false,
       0,
       kValid,
       {kProtoHopByHop, kProtoDestOptions}},
      {"v6_udp_routing_header",
       6,
       "fd77::1",
       "fd77::a",
       17,
       96,
       110,
       14,
       true,
       40000,
       9999,
       -1,
       false,
       false,
       0,
       kValid,
       {kProtoHopByHop, kProtoRouting, kProtoDestOptions}},
      {"v6_icmp_fragment_first",
       6,
       "fd77::1",
       "fd77::2",
       58,
       48,
       1416,
       1368,
       true,
       0,
       0,
       128,
       true,
       true,
       0,
       kUnverifiable,
       {kProtoFragment}},
      {"v6_icmp_fragment_last",
       6,
       "fd77::1",
       "fd77::2",
       58,
       48,
       688,
       640,
       false,
       0,
       0,
       -1,
       true,
       false,
       1368,
       kUnverifiable,
       {kProtoFragment}},
      {"v6_udp_fragment_chain",
       6,
       "fd77::1",
       "fd77::2",
       17,
       56,
       80,
       24,
       true,
       40001,
       53,
       -1,
       true,
       true,
       0,
       kUnverifiable,
       {kProtoHopByHop, kProtoFragment}},
  };
  return table;
}

// Parses a copy in a heap block of exactly the packet's size, so AddressSanitizer reports any
// read past the end.
ParseResult ParseExact(ByteSpan bytes, ParseOptions options = {}) {
  std::unique_ptr<uint8_t[]> copy(new uint8_t[bytes.size()]);
  std::copy(bytes.begin(), bytes.end(), copy.get());
  return ParseIpPacket(ByteSpan(copy.get(), bytes.size()), options);
}

TEST_CASE("every captured packet parses to what tcpdump saw") {
  for (const Expected& e : Table()) {
    INFO(e.file);
    const Bytes bytes = LoadPacket(e.file);
    REQUIRE(!bytes.empty());
    const ParseResult r = ParseExact(bytes);
    REQUIRE(r.error == ParseError::kOk);
    const IpPacket& p = r.packet;
    CHECK(p.version == e.version);
    CHECK(p.source.ToString() == e.source);
    CHECK(p.destination.ToString() == e.destination);
    CHECK(int{p.protocol} == int{e.protocol});
    CHECK(p.header_length == e.header_length);
    CHECK(p.total_length == e.total_length);
    CHECK(p.total_length == bytes.size());
    CHECK(p.transport_offset == e.header_length);
    CHECK(p.transport_length == e.transport_length);
    CHECK(p.has_transport == e.has_transport);
    CHECK(p.source_port == e.source_port);
    CHECK(p.destination_port == e.destination_port);
    if (e.icmp_type >= 0) CHECK(int{p.icmp_type} == e.icmp_type);
    CHECK(p.fragment.is_fragment == e.is_fragment);
    CHECK(p.fragment.more_fragments == e.more_fragments);
    CHECK(p.fragment.offset == e.fragment_offset);
    CHECK(p.transport_checksum == e.transport_checksum);
    CHECK(p.ipv4_header_checksum ==
          (e.version == 4 ? ChecksumStatus::kValid : ChecksumStatus::kNotChecked));
    REQUIRE(p.extension_header_count == e.extension_headers.size());
    for (size_t i = 0; i < e.extension_headers.size(); ++i) {
      CHECK(int{p.extension_headers[i]} == int{e.extension_headers[i]});
    }
    // The payload lies inside the transport message, which lies inside the datagram (parsed
    // again in place, so that the spans point into `bytes`).
    const IpPacket in_place = ParseIpPacket(bytes).packet;
    CHECK(in_place.payload.data() >= bytes.data() + in_place.transport_offset);
    CHECK(in_place.payload.data() + in_place.payload.size() <=
          bytes.data() + in_place.transport_offset + in_place.transport_length);
    CHECK(p.transport_offset + p.transport_length <= p.total_length);
  }
}

TEST_CASE("header fields beyond addresses and ports are read") {
  SECTION("ICMP echo identifier and sequence, TTL, DF") {
    const Bytes bytes = LoadPacket("v4_icmp_echo");
    const ParseResult r = ParseIpPacket(bytes);
    REQUIRE(r.ok());
    CHECK(r.packet.icmp_id == 7621);
    CHECK(r.packet.icmp_sequence == 1);
    CHECK(r.packet.ttl == 64);
    CHECK(r.packet.dont_fragment);
    CHECK(r.packet.fragment.id == 22849);
    CHECK(r.packet.payload.size() == 56);
  }
  SECTION("ICMPv6 echo and the flow label") {
    const Bytes bytes = LoadPacket("v6_icmp_echo");
    const ParseResult r = ParseIpPacket(bytes);
    REQUIRE(r.ok());
    CHECK(r.packet.icmp_id == 7622);
    CHECK(r.packet.icmp_sequence == 1);
    CHECK(r.packet.flow_label == 0xeaa0c);
    CHECK(r.packet.ttl == 64);
  }
  SECTION("TCP sequence number, flags and window") {
    const Bytes bytes = LoadPacket("v4_tcp_syn");
    const ParseResult r = ParseIpPacket(bytes);
    REQUIRE(r.ok());
    CHECK(r.packet.tcp_seq == 3678064338u);
    CHECK(r.packet.tcp_flags == tcp::kSyn);
    CHECK(r.packet.tcp_window == 64860);
    CHECK(r.packet.payload.empty());  // the options are part of the 40-byte header
  }
  SECTION("UDP payload after IPv6 extension headers") {
    // Keep the bytes alive: payload is a view into them.
    const Bytes bytes = LoadPacket("v6_udp_ext_headers");
    const ParseResult r = ParseIpPacket(bytes);
    REQUIRE(r.ok());
    CHECK(meshvpn::ToString(r.packet.payload) == "with options");
  }
  SECTION("fragment identifiers") {
    CHECK(ParseIpPacket(LoadPacket("v4_icmp_fragment_first")).packet.fragment.id == 24747);
    CHECK(ParseIpPacket(LoadPacket("v4_icmp_fragment_last")).packet.fragment.id == 24747);
    CHECK(ParseIpPacket(LoadPacket("v6_icmp_fragment_first")).packet.fragment.id == 0xe367c7b2);
    CHECK(ParseIpPacket(LoadPacket("v6_udp_fragment_chain")).packet.fragment.id == 0xcafef00d);
    CHECK(ParseIpPacket(LoadPacket("v6_icmp_fragment_first")).packet.fragment.first());
    CHECK_FALSE(ParseIpPacket(LoadPacket("v6_icmp_fragment_last")).packet.fragment.first());
  }
}

TEST_CASE("every truncation of every packet is rejected without reading past it") {
  for (const Expected& e : Table()) {
    const Bytes bytes = LoadPacket(e.file);
    REQUIRE(bytes.size() == e.total_length);
    for (size_t n = 0; n < bytes.size(); ++n) {
      for (const bool verify : {true, false}) {
        const ParseResult r = ParseExact(ByteSpan(bytes).first(n), ParseOptions{verify});
        // The IP length field is checked before anything it covers, so a cut packet is always
        // reported as truncated at the IP layer.
        const ParseError expected = n == 0           ? ParseError::kEmpty
                                    : e.version == 4 ? ParseError::kIpv4Truncated
                                                     : ParseError::kIpv6Truncated;
        if (r.error != expected) {
          FAIL_CHECK(e.file << " cut to " << n << " bytes: " << ToString(r.error));
        }
      }
    }
  }
}

TEST_CASE("bytes after the datagram are link padding and ignored") {
  for (const Expected& e : Table()) {
    INFO(e.file);
    Bytes bytes = LoadPacket(e.file);
    bytes.insert(bytes.end(), 7, 0xee);
    const ParseResult r = ParseExact(bytes);
    REQUIRE(r.ok());
    CHECK(r.packet.total_length == e.total_length);
    CHECK(r.packet.transport_length == e.transport_length);
  }
}

TEST_CASE("a flipped bit anywhere a checksum covers is detected") {
  struct Covered {
    const char* file;
    size_t from;  // first covered byte; IPv6 has no header checksum, so its first 8 bytes
                  // (version, class, flow, length, next header, hop limit) are not covered
  };
  // In the routing-header packet the header's destination is a waypoint, not part of the
  // pseudo-header, and extension headers are never covered: only flip from the transport on.
  const Covered cases[] = {{"v4_icmp_echo", 0},        {"v4_icmp_record_route", 0},
                           {"v4_tcp_syn", 0},          {"v4_udp_dns", 0},
                           {"v6_icmp_echo", 8},        {"v6_icmp_router_solicitation", 8},
                           {"v6_tcp_syn", 8},          {"v6_udp_dns", 8},
                           {"v6_udp_ext_headers", 56}, {"v6_udp_routing_header", 96}};
  for (const Covered& c : cases) {
    const Bytes original = LoadPacket(c.file);
    REQUIRE(ParseIpPacket(original).ok());
    for (size_t i = c.from; i < original.size(); ++i) {
      for (int bit = 0; bit < 8; ++bit) {
        Bytes bytes = original;
        bytes[i] ^= static_cast<uint8_t>(1 << bit);
        const ParseResult r = ParseExact(bytes);
        if (r.ok()) FAIL_CHECK(c.file << ": flipping bit " << bit << " of byte " << i << " passed");
      }
    }
  }
}

TEST_CASE("checksum failures name the layer") {
  struct Case {
    const char* file;
    size_t byte;
    ParseError expected;
  };
  const Case cases[] = {
      {"v4_icmp_echo", 8, ParseError::kIpv4BadHeaderChecksum},  // TTL
      {"v4_icmp_echo", 83, ParseError::kBadTransportChecksum},
      {"v4_tcp_syn", 59, ParseError::kBadTransportChecksum},
      {"v4_udp_dns", 56, ParseError::kBadTransportChecksum},
      {"v6_icmp_echo", 103, ParseError::kBadTransportChecksum},
      {"v6_tcp_syn", 79, ParseError::kBadTransportChecksum},
      {"v6_udp_dns", 76, ParseError::kBadTransportChecksum},
      {"v6_udp_dns", 9, ParseError::kBadTransportChecksum},  // source address: pseudo-header
  };
  for (const Case& c : cases) {
    INFO(c.file << " byte " << c.byte);
    Bytes bytes = LoadPacket(c.file);
    bytes[c.byte] ^= 0x01;
    const ParseResult r = ParseIpPacket(bytes);
    CHECK(r.error == c.expected);
    // What was read before the failure is still there for a printer.
    CHECK(r.packet.source.family() != IpAddress::Family::kNone);
    // With verification off the same packet is accepted and nothing claims to be valid.
    const ParseResult unchecked = ParseIpPacket(bytes, ParseOptions{.verify_checksums = false});
    REQUIRE(unchecked.ok());
    CHECK(unchecked.packet.transport_checksum == ChecksumStatus::kNotChecked);
    CHECK(unchecked.packet.ipv4_header_checksum == ChecksumStatus::kNotChecked);
  }
}

TEST_CASE("a UDP checksum over IPv4 may be absent, and then a corrupt payload passes") {
  Bytes bytes = LoadPacket("v4_udp_no_checksum");
  bytes.back() ^= 0xff;
  const ParseResult r = ParseIpPacket(bytes);
  REQUIRE(r.ok());
  CHECK(r.packet.transport_checksum == ChecksumStatus::kAbsent);
}

TEST_CASE("an IPv6 routing header's final destination is what the checksum covers") {
  const Bytes original = LoadPacket("v6_udp_routing_header");
  // Layout: IPv6 (40) | hop-by-hop (8) at 40 | SRH (40) at 48 | dest options (8) at 88 | UDP.
  REQUIRE(original.size() == 110);
  REQUIRE(original[48 + 2] == 4);  // routing type: segment routing
  SECTION("with segments left, Segment List[0] (fd77::2) is final: the checksum is valid") {
    CHECK(ParseIpPacket(original).packet.transport_checksum == ChecksumStatus::kValid);
  }
  SECTION("with no segments left the header's destination (fd77::a) is final: a mismatch") {
    Bytes bytes = original;
    bytes[48 + 3] = 0;
    CHECK(ParseIpPacket(bytes).error == ParseError::kBadTransportChecksum);
  }
  SECTION("a routing type tun cannot read makes the checksum unverifiable, not wrong") {
    Bytes bytes = original;
    bytes[48 + 2] = 3;  // RPL source route (RFC 6554): compressed addresses
    const ParseResult r = ParseIpPacket(bytes);
    REQUIRE(r.ok());
    CHECK(r.packet.transport_checksum == ChecksumStatus::kUnverifiable);
  }
}

// An IPv6 packet: the fixed header of `base`, then `count` destination-options headers, then the
// UDP datagram of v6_udp_dns (whose checksum stays valid: extension headers are not covered).
Bytes WithDestinationOptions(size_t count) {
  const Bytes base = LoadPacket("v6_udp_dns");
  Bytes out(base.begin(), base.begin() + 40);
  out[6] = count > 0 ? kProtoDestOptions : kProtoUdp;
  for (size_t i = 0; i < count; ++i) {
    const uint8_t next = i + 1 < count ? kProtoDestOptions : kProtoUdp;
    out.insert(out.end(), {next, 0, 1, 4, 0, 0, 0, 0});
  }
  out.insert(out.end(), base.begin() + 40, base.end());
  test::FixIpv6Length(out);
  return out;
}

TEST_CASE("the extension header chain is bounded") {
  const ParseResult eight = ParseExact(WithDestinationOptions(kMaxExtensionHeaders));
  REQUIRE(eight.ok());
  CHECK(eight.packet.extension_header_count == kMaxExtensionHeaders);
  CHECK(eight.packet.transport_checksum == ChecksumStatus::kValid);
  CHECK(ParseExact(WithDestinationOptions(kMaxExtensionHeaders + 1)).error ==
        ParseError::kTooManyExtensionHeaders);
}

TEST_CASE("malformed packets are rejected with their reason") {
  struct Case {
    const char* name;
    const char* file;
    std::function<void(Bytes&)> edit;
    ParseError expected;
  };
  const std::vector<Case> cases = {
      {"empty", "v4_icmp_echo", [](Bytes& b) { b.clear(); }, ParseError::kEmpty},
      {"version 5", "v4_icmp_echo", [](Bytes& b) { b[0] = 0x55; }, ParseError::kUnknownVersion},
      {"IHL below 5", "v4_icmp_echo", [](Bytes& b) { b[0] = 0x44; },
       ParseError::kIpv4BadHeaderLength},
      {"Total Length below the header", "v4_icmp_echo",
       [](Bytes& b) {
         PutBe16(b, 2, 19);
         test::FixIpv4HeaderChecksum(b);
       },
       ParseError::kIpv4BadTotalLength},
      {"fragment reaching past 65535 bytes", "v4_icmp_echo",
       [](Bytes& b) {
         PutBe16(b, 6, 8189);  // offset 65512 + 64 bytes of data
         test::FixIpv4HeaderChecksum(b);
       },
       ParseError::kIpv4FragmentTooLong},
      {"hop-by-hop after another header", "v6_udp_ext_headers", [](Bytes& b) { b[40] = 0; },
       ParseError::kHopByHopNotFirst},
      {"extension header longer than the payload", "v6_udp_ext_headers",
       [](Bytes& b) { b[41] = 200; }, ParseError::kExtensionHeaderTruncated},
      {"extension header cut by the payload length", "v6_udp_ext_headers",
       [](Bytes& b) {
         b.resize(52);
         test::FixIpv6Length(b);
       },
       ParseError::kExtensionHeaderTruncated},
      {"two fragment headers", "v6_udp_fragment_chain", [](Bytes& b) { b[48] = kProtoFragment; },
       ParseError::kRepeatedFragmentHeader},
      {"UDP header cut short", "v4_udp_dns",
       [](Bytes& b) {
         b.resize(20 + 7);
         test::FixIpv4Lengths(b);
       },
       ParseError::kTransportTruncated},
      {"TCP header cut short", "v4_tcp_syn",
       [](Bytes& b) {
         b.resize(20 + 19);
         test::FixIpv4Lengths(b);
       },
       ParseError::kTransportTruncated},
      {"ICMP header cut short", "v4_icmp_echo",
       [](Bytes& b) {
         b.resize(20 + 7);
         test::FixIpv4Lengths(b);
       },
       ParseError::kTransportTruncated},
      {"ICMPv6 header cut short", "v6_icmp_echo",
       [](Bytes& b) {
         b.resize(40 + 7);
         test::FixIpv6Length(b);
       },
       ParseError::kTransportTruncated},
      {"first fragment too short for its header", "v4_icmp_fragment_first",
       [](Bytes& b) {
         b.resize(20 + 4);
         test::FixIpv4Lengths(b);
       },
       ParseError::kTransportTruncated},
      {"TCP data offset below 5", "v4_tcp_syn", [](Bytes& b) { b[32] = 0x40; },
       ParseError::kTcpBadDataOffset},
      {"TCP data offset past the segment", "v4_tcp_syn", [](Bytes& b) { b[32] = 0xf0; },
       ParseError::kTcpBadDataOffset},
      {"UDP length below 8", "v4_udp_dns", [](Bytes& b) { PutBe16(b, 24, 7); },
       ParseError::kUdpBadLength},
      {"UDP length past the payload", "v4_udp_dns", [](Bytes& b) { PutBe16(b, 24, 38); },
       ParseError::kUdpBadLength},
      {"UDP over IPv6 without checksum", "v6_udp_dns", [](Bytes& b) { PutBe16(b, 46, 0); },
       ParseError::kUdpZeroChecksumIpv6},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    Bytes bytes = LoadPacket(c.file);
    REQUIRE(!bytes.empty());
    c.edit(bytes);
    CHECK(ParseExact(bytes).error == c.expected);
  }
}

TEST_CASE("a UDP length shorter than the IP payload leaves padding out of the checksum") {
  Bytes bytes = LoadPacket("v4_udp_dns");
  bytes.insert(bytes.end(), {0xaa, 0xbb, 0xcc});  // inside the IP datagram, after UDP's end
  test::FixIpv4Lengths(bytes);
  const ParseResult r = ParseExact(bytes);
  REQUIRE(r.ok());
  CHECK(r.packet.total_length == 60);
  CHECK(r.packet.transport_length == 37);
  CHECK(r.packet.payload.size() == 29);
  CHECK(r.packet.transport_checksum == ChecksumStatus::kValid);
}

TEST_CASE("other protocols are carried, not parsed") {
  SECTION("GRE over IPv4") {
    Bytes bytes = LoadPacket("v4_icmp_echo");
    bytes[9] = 47;
    test::FixIpv4HeaderChecksum(bytes);
    const ParseResult r = ParseIpPacket(bytes);
    REQUIRE(r.ok());
    CHECK_FALSE(r.packet.has_transport);
    CHECK(r.packet.protocol == 47);
    CHECK(r.packet.payload.size() == 64);
    CHECK(r.packet.transport_checksum == ChecksumStatus::kNotChecked);
  }
  SECTION("ICMP (for IPv4) inside IPv6 is not ICMPv6") {
    Bytes bytes = LoadPacket("v6_icmp_echo");
    bytes[6] = kProtoIcmp;
    const ParseResult r = ParseIpPacket(bytes);
    REQUIRE(r.ok());
    CHECK_FALSE(r.packet.has_transport);
  }
  SECTION("an IPv6 atomic fragment is whole: its checksum is checked") {
    // IPv6 | fragment header (offset 0, M=0) | the ICMPv6 echo of v6_icmp_echo.
    const Bytes echo = LoadPacket("v6_icmp_echo");
    Bytes bytes(echo.begin(), echo.begin() + 40);
    bytes[6] = kProtoFragment;
    bytes.insert(bytes.end(), {kProtoIcmpv6, 0, 0, 0, 0x12, 0x34, 0x56, 0x78});
    bytes.insert(bytes.end(), echo.begin() + 40, echo.end());
    test::FixIpv6Length(bytes);
    const ParseResult r = ParseExact(bytes);
    REQUIRE(r.ok());
    CHECK_FALSE(r.packet.fragment.is_fragment);
    CHECK(r.packet.extension_header_count == 1);
    CHECK(r.packet.transport_checksum == ChecksumStatus::kValid);
  }
}

TEST_CASE("every parse error and checksum status has its own name") {
  std::set<std::string> names;
  for (size_t i = 0; i < kParseErrorCount; ++i) {
    const std::string_view name = ToString(static_cast<ParseError>(i));
    CHECK(name != "unknown parse error");
    names.insert(std::string(name));
  }
  CHECK(names.size() == kParseErrorCount);
  CHECK(ToString(ParseError::kIpv4BadHeaderChecksum) == "bad IPv4 header checksum");
  CHECK(ToString(ChecksumStatus::kAbsent) == "absent");
}

}  // namespace
}  // namespace meshvpn::tun
