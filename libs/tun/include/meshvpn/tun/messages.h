// Wire layouts and constants of the IPv4, IPv6, ICMP, ICMPv6, TCP and UDP headers tun parses.
#pragma once

#include <cstddef>
#include <cstdint>

namespace meshvpn::tun {

// IP protocol numbers (IANA "Assigned Internet Protocol Numbers"); IPv6 uses the same numbers
// for its Next Header field, extension headers included.
inline constexpr uint8_t kProtoHopByHop = 0;  // IPv6 hop-by-hop options (RFC 8200 4.3)
inline constexpr uint8_t kProtoIcmp = 1;
inline constexpr uint8_t kProtoTcp = 6;
inline constexpr uint8_t kProtoUdp = 17;
inline constexpr uint8_t kProtoRouting = 43;   // IPv6 routing header (RFC 8200 4.4)
inline constexpr uint8_t kProtoFragment = 44;  // IPv6 fragment header (RFC 8200 4.5)
inline constexpr uint8_t kProtoEsp = 50;
inline constexpr uint8_t kProtoAh = 51;  // authentication header: length in 4-byte units
inline constexpr uint8_t kProtoIcmpv6 = 58;
inline constexpr uint8_t kProtoNoNextHeader = 59;
inline constexpr uint8_t kProtoDestOptions = 60;  // IPv6 destination options (RFC 8200 4.6)

// IPv4 header (RFC 791), 20 bytes plus up to 40 bytes of options:
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-------+-------+---------------+-------------------------------+
//   |Version|  IHL  |   DSCP/ECN    |          Total Length         |  0
//   +-------+-------+---------------+-----+-------------------------+
//   |         Identification        |Flags|     Fragment Offset     |  4
//   +---------------+---------------+-----+-------------------------+
//   |  Time to Live |    Protocol   |        Header Checksum        |  8
//   +---------------+---------------+-------------------------------+
//   |                        Source Address                         | 12
//   +---------------------------------------------------------------+
//   |                     Destination Address                       | 16
//   +---------------------------------------------------------------+
//   |                    Options (IHL > 5)                          | 20
//
// Flags: bit 0 reserved, DF (don't fragment), MF (more fragments). The fragment offset counts
// 8-byte units. The header checksum covers the header (with options) only.
namespace ipv4 {
inline constexpr size_t kMinHeaderSize = 20;
inline constexpr size_t kMaxHeaderSize = 60;
inline constexpr size_t kTotalLengthOffset = 2;
inline constexpr size_t kIdOffset = 4;
inline constexpr size_t kFlagsFragmentOffset = 6;
inline constexpr size_t kTtlOffset = 8;
inline constexpr size_t kProtocolOffset = 9;
inline constexpr size_t kChecksumOffset = 10;
inline constexpr size_t kSourceOffset = 12;
inline constexpr size_t kDestinationOffset = 16;
inline constexpr uint16_t kFlagDontFragment = 0x4000;
inline constexpr uint16_t kFlagMoreFragments = 0x2000;
inline constexpr uint16_t kFragmentOffsetMask = 0x1fff;  // in 8-byte units
inline constexpr size_t kMaxDatagramSize = 65535;
}  // namespace ipv4

// IPv6 header (RFC 8200), always 40 bytes; extension headers follow, chained by Next Header:
//
//   +-------+---------------+---------------------------------------+
//   |Version| Traffic Class |              Flow Label               |  0
//   +-------+---------------+-------+---------------+---------------+
//   |         Payload Length        |  Next Header  |   Hop Limit   |  4
//   +-------------------------------+---------------+---------------+
//   |                   Source Address (16 bytes)                   |  8
//   +---------------------------------------------------------------+
//   |                Destination Address (16 bytes)                 | 24
//   +---------------------------------------------------------------+
//
// Extension headers (hop-by-hop, routing, destination options) start with Next Header and
// Hdr Ext Len (in 8-byte units, not counting the first 8). The fragment header is 8 bytes:
//
//   +---------------+---------------+-------------------------+-+-+-+
//   |  Next Header  |   Reserved    |     Fragment Offset     |Res|M|
//   +---------------+---------------+-------------------------+---+-+
//   |                        Identification                         |
//   +---------------------------------------------------------------+
namespace ipv6 {
inline constexpr size_t kHeaderSize = 40;
inline constexpr size_t kPayloadLengthOffset = 4;
inline constexpr size_t kNextHeaderOffset = 6;
inline constexpr size_t kHopLimitOffset = 7;
inline constexpr size_t kSourceOffset = 8;
inline constexpr size_t kDestinationOffset = 24;
inline constexpr size_t kAddressSize = 16;
inline constexpr size_t kExtensionHeaderMinSize = 8;
inline constexpr size_t kFragmentHeaderSize = 8;
inline constexpr uint16_t kFragmentOffsetMask = 0xfff8;  // already in bytes (units of 8 << 3)
inline constexpr uint16_t kFragmentMoreFlag = 0x0001;
// Routing types whose final destination the parser can find (for the pseudo-header checksum).
inline constexpr uint8_t kRoutingType0 = 0;           // deprecated (RFC 5095), still parseable
inline constexpr uint8_t kRoutingType2 = 2;           // Mobile IPv6 home address (RFC 6275)
inline constexpr uint8_t kRoutingSegment = 4;         // segment routing header (RFC 8754)
inline constexpr size_t kRoutingAddressesOffset = 8;  // type 0, 2 and 4 lists start here
}  // namespace ipv6

// ICMP (RFC 792) and ICMPv6 (RFC 4443) share the first 8 bytes:
//
//   +---------------+---------------+-------------------------------+
//   |     Type      |     Code      |           Checksum            |
//   +---------------+---------------+-------------------------------+
//   |  Identifier (echo) / unused / MTU / pointer   | Sequence (echo)
//   +---------------------------------------------------------------+
//
// ICMP's checksum covers the message; ICMPv6's also covers the IPv6 pseudo-header.
namespace icmp {
inline constexpr size_t kHeaderSize = 8;
inline constexpr size_t kChecksumOffset = 2;
inline constexpr uint8_t kEchoReply = 0;
inline constexpr uint8_t kDestinationUnreachable = 3;
inline constexpr uint8_t kRedirect = 5;
inline constexpr uint8_t kEchoRequest = 8;
inline constexpr uint8_t kTimeExceeded = 11;
inline constexpr uint8_t kParameterProblem = 12;
}  // namespace icmp

namespace icmpv6 {
inline constexpr uint8_t kDestinationUnreachable = 1;
inline constexpr uint8_t kPacketTooBig = 2;
inline constexpr uint8_t kTimeExceeded = 3;
inline constexpr uint8_t kParameterProblem = 4;
inline constexpr uint8_t kEchoRequest = 128;
inline constexpr uint8_t kEchoReply = 129;
inline constexpr uint8_t kMldQuery = 130;
inline constexpr uint8_t kMldReport = 131;
inline constexpr uint8_t kMldDone = 132;
inline constexpr uint8_t kRouterSolicitation = 133;
inline constexpr uint8_t kRouterAdvertisement = 134;
inline constexpr uint8_t kNeighborSolicitation = 135;
inline constexpr uint8_t kNeighborAdvertisement = 136;
inline constexpr uint8_t kRedirect = 137;
inline constexpr uint8_t kMldv2Report = 143;
}  // namespace icmpv6

// TCP header (RFC 9293), 20 bytes plus options (data offset counts 4-byte words, 5..15):
//
//   +-------------------------------+-------------------------------+
//   |          Source Port          |       Destination Port        |  0
//   +-------------------------------+-------------------------------+
//   |                        Sequence Number                        |  4
//   +---------------------------------------------------------------+
//   |                     Acknowledgment Number                     |  8
//   +-------+-------+---------------+-------------------------------+
//   |  Data |       |C|E|U|A|P|R|S|F|                               |
//   | Offset|  Rsvd |W|C|R|C|S|S|Y|I|            Window             | 12
//   +-------+-------+---------------+-------------------------------+
//   |           Checksum            |         Urgent Pointer        | 16
//   +-------------------------------+-------------------------------+
namespace tcp {
inline constexpr size_t kMinHeaderSize = 20;
inline constexpr size_t kSeqOffset = 4;
inline constexpr size_t kAckOffset = 8;
inline constexpr size_t kDataOffsetOffset = 12;
inline constexpr size_t kFlagsOffset = 13;
inline constexpr size_t kWindowOffset = 14;
inline constexpr size_t kChecksumOffset = 16;
inline constexpr uint8_t kFin = 0x01;
inline constexpr uint8_t kSyn = 0x02;
inline constexpr uint8_t kRst = 0x04;
inline constexpr uint8_t kPsh = 0x08;
inline constexpr uint8_t kAck = 0x10;
inline constexpr uint8_t kUrg = 0x20;
inline constexpr uint8_t kEce = 0x40;
inline constexpr uint8_t kCwr = 0x80;
}  // namespace tcp

// UDP header (RFC 768), 8 bytes; Length counts header and data. Over IPv4 a zero checksum means
// "none computed"; over IPv6 the checksum is mandatory (RFC 8200 8.1). A computed checksum of 0 is
// sent as 0xffff.
//
//   +-------------------------------+-------------------------------+
//   |          Source Port          |       Destination Port        |
//   +-------------------------------+-------------------------------+
//   |            Length             |           Checksum            |
//   +-------------------------------+-------------------------------+
namespace udp {
inline constexpr size_t kHeaderSize = 8;
inline constexpr size_t kLengthOffset = 4;
inline constexpr size_t kChecksumOffset = 6;
}  // namespace udp

static_assert(ipv4::kMinHeaderSize == 5 * 4 && ipv4::kMaxHeaderSize == 15 * 4);
static_assert(ipv6::kHeaderSize == 8 + 2 * ipv6::kAddressSize);
static_assert(tcp::kMinHeaderSize == 5 * 4);

}  // namespace meshvpn::tun
