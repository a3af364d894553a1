// Parses an IPv4 or IPv6 packet and its ICMP, ICMPv6, TCP or UDP header, without I/O or
// allocation: checksums verified, fragments flagged, IPv6 extension headers walked.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "meshvpn/base/bytes.h"
#include "meshvpn/tun/ip_address.h"

namespace meshvpn::tun {

// Why a packet was rejected. Every value but kOk means the packet is malformed (or uses something
// tun refuses, like two fragment headers). A drop counter can be indexed by it.
enum class ParseError : uint8_t {
  kOk = 0,
  kEmpty,                     // zero bytes
  kUnknownVersion,            // the version nibble is neither 4 nor 6
  kIpv4Truncated,             // fewer bytes than 20, than IHL says, or than Total Length says
  kIpv4BadHeaderLength,       // IHL below 5 (20 bytes)
  kIpv4BadTotalLength,        // Total Length smaller than the header
  kIpv4BadHeaderChecksum,     // the header checksum does not match
  kIpv4FragmentTooLong,       // offset + length beyond the 65535-byte datagram ("ping of death")
  kIpv6Truncated,             // fewer bytes than 40, or than 40 + Payload Length
  kExtensionHeaderTruncated,  // an IPv6 extension header runs past the payload
  kHopByHopNotFirst,          // hop-by-hop options anywhere but right after the IPv6 header
  kTooManyExtensionHeaders,   // a chain longer than kMaxExtensionHeaders
  kRepeatedFragmentHeader,    // two IPv6 fragment headers
  kTransportTruncated,        // too short for its TCP, UDP, ICMP or ICMPv6 header
  kTcpBadDataOffset,          // TCP data offset below 5 words or past the segment
  kUdpBadLength,              // UDP Length below 8 or beyond the IP payload
  kUdpZeroChecksumIpv6,       // UDP over IPv6 without a checksum (RFC 8200 8.1 forbids it)
  kBadTransportChecksum,      // the TCP, UDP, ICMP or ICMPv6 checksum does not match
};
inline constexpr size_t kParseErrorCount =
    static_cast<size_t>(ParseError::kBadTransportChecksum) + 1;
// A short lower-case phrase: "bad IPv4 header checksum".
std::string_view ToString(ParseError error);

// What is known about a checksum after parsing.
enum class ChecksumStatus : uint8_t {
  kNotChecked,    // verification was turned off, or the protocol is not one tun checks
  kValid,         // computed and matching
  kAbsent,        // UDP over IPv4 with checksum 0: the sender computed none (allowed)
  kUnverifiable,  // a fragment (the checksum covers the whole datagram), or an IPv6 routing
                  // header of a type whose final destination (pseudo-header) tun cannot find
};
std::string_view ToString(ChecksumStatus status);

// IPv4 fragmentation fields, or the IPv6 fragment extension header.
struct FragmentInfo {
  // Part of a fragmented datagram: offset != 0 or more fragments follow. An IPv6 "atomic
  // fragment" (a fragment header with offset 0 and M=0, RFC 6946) is whole and not flagged.
  bool is_fragment = false;
  bool more_fragments = false;  // IPv4 MF / IPv6 M flag
  uint32_t offset = 0;          // in bytes (the wire counts 8-byte units)
  uint32_t id = 0;              // IPv4 Identification (always read), IPv6 fragment header id

  // The fragment that carries the transport header: offset 0, more to come.
  bool first() const { return is_fragment && offset == 0; }
};

// At most this many IPv6 extension headers are walked before the packet is refused.
inline constexpr size_t kMaxExtensionHeaders = 8;

// Everything the parser read. Spans point into the parsed buffer: valid while it is. When parsing
// fails, the fields read before the failure are filled in (addresses once the fixed IP header was
// there), so that a malformed packet can still be shown.
struct IpPacket {
  uint8_t version = 0;  // 4 or 6; 0 when the packet was empty
  IpAddress source;
  // The destination in the IP header. With an IPv6 routing header that is the next waypoint; the
  // checksums use the final destination from the routing header.
  IpAddress destination;
  uint8_t ttl = 0;             // IPv4 TTL / IPv6 Hop Limit
  uint8_t traffic_class = 0;   // IPv4 DSCP+ECN byte / IPv6 Traffic Class
  uint32_t flow_label = 0;     // IPv6 only
  bool dont_fragment = false;  // IPv4 DF
  // The upper-layer protocol: after the IPv6 extension headers (for a later IPv6 fragment, the
  // fragment header's Next Header).
  uint8_t protocol = 0;
  uint32_t header_length = 0;  // IPv4 header with options / IPv6 header with extension headers
  // The datagram's length as its header says (IPv4 Total Length, 40 + IPv6 Payload Length).
  // Bytes after it in the buffer are link padding and ignored.
  uint32_t total_length = 0;
  // IPv6 extension headers in wire order (their Next Header values: 0, 43, 44, 51, 60).
  std::array<uint8_t, kMaxExtensionHeaders> extension_headers{};
  uint8_t extension_header_count = 0;
  FragmentInfo fragment;
  ChecksumStatus ipv4_header_checksum = ChecksumStatus::kNotChecked;

  // The upper-layer message: where it starts and how long it is (ICMP message, TCP segment, UDP
  // datagram; for a later fragment, the fragment's data). This is what ping counts as "64 bytes".
  uint32_t transport_offset = 0;
  uint32_t transport_length = 0;
  // True when a TCP, UDP, ICMP or ICMPv6 header was read (not for later fragments or other
  // protocols); the fields below are then valid for that protocol.
  bool has_transport = false;
  uint16_t source_port = 0;  // TCP, UDP
  uint16_t destination_port = 0;
  uint32_t tcp_seq = 0;
  uint32_t tcp_ack = 0;
  uint16_t tcp_window = 0;
  uint8_t tcp_flags = 0;  // tcp::kSyn | tcp::kAck ...
  uint8_t icmp_type = 0;  // ICMP and ICMPv6
  uint8_t icmp_code = 0;
  uint16_t icmp_id = 0;  // echo request/reply only
  uint16_t icmp_sequence = 0;
  ChecksumStatus transport_checksum = ChecksumStatus::kNotChecked;
  // The data after the transport header (TCP/UDP payload, ICMP body), or the whole upper-layer
  // message when no header was read.
  ByteSpan payload;
};

struct ParseOptions {
  // Verify the IPv4 header checksum and the TCP/UDP/ICMP/ICMPv6 checksums. A data plane that
  // trusts the kernel (a TUN read) may turn this off to save a pass over the bytes.
  bool verify_checksums = true;
};

struct ParseResult {
  ParseError error = ParseError::kOk;
  IpPacket packet;
  bool ok() const { return error == ParseError::kOk; }
};

// Parses one IP packet (a TUN read: no link header, IFF_NO_PI). Reads only inside `data`, never
// allocates, never logs; safe on any input (fuzzed).
ParseResult ParseIpPacket(ByteSpan data, ParseOptions options = {});

}  // namespace meshvpn::tun
