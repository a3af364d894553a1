// Shows packets to people: one summary line per packet (tun_logger's format) and hex dumps. For
// tools and debugging, not the per-packet data path (these build strings).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "meshvpn/base/bytes.h"
#include "meshvpn/tun/ip_packet.h"

namespace meshvpn::tun {

// One line, no newline:
//
//   [TUN0] 192.168.1.100 -> 8.8.8.8 | ICMP Echo Request | 64 bytes
//   [TUN0] 10.0.0.1:55538 -> 10.0.0.2:80 | TCP [SYN] seq=3678064338 | 40 bytes
//   [TUN0] [fd00::1]:40904 -> [fd00::2]:53 | UDP | 37 bytes
//   [TUN0] fd00::1 -> fd00::2 | ICMPv6 Echo Request | ext FRAG | fragment id=0xe367c7b2 offset=0 MF
//   | 1368 bytes [TUN0] 10.0.0.1 -> 10.0.0.2 | malformed: bad IPv4 header checksum | 84 bytes
//
// "N bytes" is the upper-layer message (transport_length: ICMP header + data, which is what ping
// calls "64 bytes"; the IP header is not counted). For a malformed packet it is `wire_size`, the
// number of bytes read. Addresses with a port are written address:port, IPv6 as [address]:port.
std::string FormatPacketLine(std::string_view label, const ParseResult& result, size_t wire_size);

// The middle part alone: "ICMP Echo Request", "TCP [SYN, ACK] seq=1 ack=2", "UDP".
std::string DescribeTransport(const IpPacket& packet);

// "Echo Request", "Destination Unreachable"...; empty for types without a name here.
std::string_view IcmpTypeName(uint8_t type);
std::string_view Icmpv6TypeName(uint8_t type);
// "TCP", "UDP", "GRE"...; empty for numbers without a name here.
std::string_view IpProtocolName(uint8_t protocol);
// "SYN, ACK" in the order the bits sit on the wire from the lowest (FIN) up; "none" for 0.
std::string TcpFlagsToString(uint8_t flags);
// Short names of IPv6 extension headers as tcpdump writes them: HBH, RH, FRAG, DST, AH.
std::string_view ExtensionHeaderName(uint8_t next_header);

// Sixteen bytes per line, each line "  0000  45 00 00 54 ... 40 00  40 01 ...  E..TYA@.@...\n":
// the offset, the bytes in hex (a gap after eight), and the printable ASCII ('.' otherwise).
std::string HexDump(ByteSpan data);

}  // namespace meshvpn::tun
