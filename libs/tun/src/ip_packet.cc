#include "meshvpn/tun/ip_packet.h"

#include "byte_order.h"
#include "meshvpn/tun/checksum.h"
#include "meshvpn/tun/messages.h"

namespace meshvpn::tun {
namespace {

// Every read goes through a span whose size was checked just before (byte_order.h takes raw
// pointers).
using internal::Be16;
using internal::Be32;

bool IsWalkedExtensionHeader(uint8_t next_header) {
  switch (next_header) {
    case kProtoHopByHop:
    case kProtoRouting:
    case kProtoFragment:
    case kProtoDestOptions:
    case kProtoAh:
      return true;
    default:
      return false;
  }
}

// Where the checksum's pseudo-header comes from: the addresses to use, or that it cannot be built.
struct PseudoHeader {
  ByteSpan source;
  ByteSpan destination;
  bool known = true;
};

// The final destination named by an IPv6 routing header with segments left, for the
// pseudo-header (RFC 8200 8.1). `header` is the whole routing header (length already checked).
bool FindFinalDestination(ByteSpan header, ByteSpan* out) {
  const uint8_t type = header[2];
  if (header.size() < ipv6::kRoutingAddressesOffset + ipv6::kAddressSize) return false;
  const size_t list_bytes = header.size() - ipv6::kRoutingAddressesOffset;
  switch (type) {
    case ipv6::kRoutingType0:  // addresses in visiting order: the last one is final
      if (list_bytes % ipv6::kAddressSize != 0) return false;
      *out = header.last(ipv6::kAddressSize);
      return true;
    case ipv6::kRoutingType2:    // one address: the home address, which is final
    case ipv6::kRoutingSegment:  // Segment List[0] is the last segment (RFC 8754 4.1)
      *out = header.subspan(ipv6::kRoutingAddressesOffset, ipv6::kAddressSize);
      return true;
    default:
      return false;
  }
}

// Sets packet.transport_checksum for the message `message` (whose checksum field is inside it).
// Returns kBadTransportChecksum on a mismatch.
ParseError VerifyTransportChecksum(IpPacket& packet, ByteSpan message, const PseudoHeader* pseudo,
                                   uint32_t pseudo_length, const ParseOptions& options) {
  if (!options.verify_checksums) {
    packet.transport_checksum = ChecksumStatus::kNotChecked;
    return ParseError::kOk;
  }
  if (packet.fragment.is_fragment || (pseudo != nullptr && !pseudo->known)) {
    packet.transport_checksum = ChecksumStatus::kUnverifiable;
    return ParseError::kOk;
  }
  ChecksumAccumulator acc;
  if (pseudo != nullptr && packet.version == 4) {
    AddIpv4PseudoHeader(acc, pseudo->source, pseudo->destination, packet.protocol,
                        static_cast<uint16_t>(pseudo_length));
  } else if (pseudo != nullptr) {
    AddIpv6PseudoHeader(acc, pseudo->source, pseudo->destination, packet.protocol, pseudo_length);
  }
  acc.Add(message);
  if (acc.Sum() != 0xffff) return ParseError::kBadTransportChecksum;
  packet.transport_checksum = ChecksumStatus::kValid;
  return ParseError::kOk;
}

// Parses the TCP/UDP/ICMP/ICMPv6 header at the start of `message` (the upper-layer bytes in this
// packet). For a first fragment, `message` is only this fragment's part.
ParseError ParseTransport(IpPacket& packet, ByteSpan message, const PseudoHeader& pseudo,
                          const ParseOptions& options) {
  const bool whole = !packet.fragment.is_fragment;
  packet.payload = message;
  switch (packet.protocol) {
    case kProtoTcp: {
      if (message.size() < tcp::kMinHeaderSize) return ParseError::kTransportTruncated;
      const uint8_t* h = message.data();
      const size_t header_size = static_cast<size_t>(h[tcp::kDataOffsetOffset] >> 4) * 4;
      if (header_size < tcp::kMinHeaderSize || header_size > message.size()) {
        return ParseError::kTcpBadDataOffset;
      }
      packet.has_transport = true;
      packet.source_port = Be16(h);
      packet.destination_port = Be16(h + 2);
      packet.tcp_seq = Be32(h + tcp::kSeqOffset);
      packet.tcp_ack = Be32(h + tcp::kAckOffset);
      packet.tcp_flags = h[tcp::kFlagsOffset];
      packet.tcp_window = Be16(h + tcp::kWindowOffset);
      packet.payload = message.subspan(header_size);
      return VerifyTransportChecksum(packet, message, &pseudo,
                                     static_cast<uint32_t>(message.size()), options);
    }
    case kProtoUdp: {
      if (message.size() < udp::kHeaderSize) return ParseError::kTransportTruncated;
      const uint8_t* h = message.data();
      const uint16_t length = Be16(h + udp::kLengthOffset);
      // In a first fragment the length describes the whole datagram, not this piece.
      if (length < udp::kHeaderSize || (whole && length > message.size())) {
        return ParseError::kUdpBadLength;
      }
      packet.has_transport = true;
      packet.source_port = Be16(h);
      packet.destination_port = Be16(h + 2);
      if (whole) {
        message = message.first(length);  // bytes past the UDP length are padding
        packet.transport_length = length;
      }
      packet.payload = message.subspan(udp::kHeaderSize);
      if (Be16(h + udp::kChecksumOffset) == 0) {
        if (packet.version == 6) return ParseError::kUdpZeroChecksumIpv6;
        packet.transport_checksum = ChecksumStatus::kAbsent;
        return ParseError::kOk;
      }
      return VerifyTransportChecksum(packet, message, &pseudo, length, options);
    }
    case kProtoIcmp:
    case kProtoIcmpv6: {
      // ICMP belongs to IPv4 and ICMPv6 to IPv6; the other pairing is just an unknown protocol.
      const bool v6 = packet.protocol == kProtoIcmpv6;
      if (v6 != (packet.version == 6)) return ParseError::kOk;
      if (message.size() < icmp::kHeaderSize) return ParseError::kTransportTruncated;
      const uint8_t* h = message.data();
      packet.has_transport = true;
      packet.icmp_type = h[0];
      packet.icmp_code = h[1];
      const bool echo = v6 ? (h[0] == icmpv6::kEchoRequest || h[0] == icmpv6::kEchoReply)
                           : (h[0] == icmp::kEchoRequest || h[0] == icmp::kEchoReply);
      if (echo) {
        packet.icmp_id = Be16(h + 4);
        packet.icmp_sequence = Be16(h + 6);
      }
      packet.payload = message.subspan(icmp::kHeaderSize);
      return VerifyTransportChecksum(packet, message, v6 ? &pseudo : nullptr,
                                     static_cast<uint32_t>(message.size()), options);
    }
    default:
      return ParseError::kOk;  // another protocol: no header read, payload is the whole message
  }
}

ParseError ParseIpv4(ByteSpan data, const ParseOptions& options, IpPacket& packet) {
  packet.version = 4;
  if (data.size() < ipv4::kMinHeaderSize) return ParseError::kIpv4Truncated;
  const uint8_t* h = data.data();
  packet.traffic_class = h[1];
  packet.fragment.id = Be16(h + ipv4::kIdOffset);
  const uint16_t flags_offset = Be16(h + ipv4::kFlagsFragmentOffset);
  packet.dont_fragment = (flags_offset & ipv4::kFlagDontFragment) != 0;
  packet.fragment.more_fragments = (flags_offset & ipv4::kFlagMoreFragments) != 0;
  packet.fragment.offset = static_cast<uint32_t>(flags_offset & ipv4::kFragmentOffsetMask) * 8;
  packet.fragment.is_fragment = packet.fragment.more_fragments || packet.fragment.offset != 0;
  packet.ttl = h[ipv4::kTtlOffset];
  packet.protocol = h[ipv4::kProtocolOffset];
  packet.source = IpAddress::FromBytes(data.subspan(ipv4::kSourceOffset, 4));
  packet.destination = IpAddress::FromBytes(data.subspan(ipv4::kDestinationOffset, 4));

  const size_t header_size = static_cast<size_t>(h[0] & 0x0fu) * 4;
  if (header_size < ipv4::kMinHeaderSize) return ParseError::kIpv4BadHeaderLength;
  if (header_size > data.size()) return ParseError::kIpv4Truncated;
  const size_t total = Be16(h + ipv4::kTotalLengthOffset);
  if (total < header_size) return ParseError::kIpv4BadTotalLength;
  if (total > data.size()) return ParseError::kIpv4Truncated;
  packet.header_length = static_cast<uint32_t>(header_size);
  packet.total_length = static_cast<uint32_t>(total);

  if (options.verify_checksums) {
    ChecksumAccumulator acc;
    acc.Add(data.first(header_size));
    if (acc.Sum() != 0xffff) return ParseError::kIpv4BadHeaderChecksum;
    packet.ipv4_header_checksum = ChecksumStatus::kValid;
  }
  const size_t data_size = total - header_size;
  // Reassembled, the data may not exceed 65535 bytes minus the smallest header.
  if (packet.fragment.offset + data_size > ipv4::kMaxDatagramSize - ipv4::kMinHeaderSize) {
    return ParseError::kIpv4FragmentTooLong;
  }

  const ByteSpan message = data.subspan(header_size, data_size);
  packet.transport_offset = static_cast<uint32_t>(header_size);
  packet.transport_length = static_cast<uint32_t>(data_size);
  packet.payload = message;
  if (packet.fragment.offset != 0) {
    packet.transport_checksum = ChecksumStatus::kUnverifiable;  // no header in a later fragment
    return ParseError::kOk;
  }
  const PseudoHeader pseudo{data.subspan(ipv4::kSourceOffset, 4),
                            data.subspan(ipv4::kDestinationOffset, 4)};
  return ParseTransport(packet, message, pseudo, options);
}

ParseError ParseIpv6(ByteSpan data, const ParseOptions& options, IpPacket& packet) {
  packet.version = 6;
  if (data.size() < ipv6::kHeaderSize) return ParseError::kIpv6Truncated;
  const uint8_t* h = data.data();
  packet.traffic_class = static_cast<uint8_t>(((h[0] & 0x0f) << 4) | (h[1] >> 4));
  packet.flow_label = (static_cast<uint32_t>(h[1] & 0x0fu) << 16) | (uint32_t{h[2]} << 8) | h[3];
  packet.ttl = h[ipv6::kHopLimitOffset];
  packet.protocol = h[ipv6::kNextHeaderOffset];
  const ByteSpan source = data.subspan(ipv6::kSourceOffset, ipv6::kAddressSize);
  const ByteSpan destination = data.subspan(ipv6::kDestinationOffset, ipv6::kAddressSize);
  packet.source = IpAddress::FromBytes(source);
  packet.destination = IpAddress::FromBytes(destination);

  const size_t end = ipv6::kHeaderSize + Be16(h + ipv6::kPayloadLengthOffset);
  if (end > data.size()) return ParseError::kIpv6Truncated;
  packet.total_length = static_cast<uint32_t>(end);

  PseudoHeader pseudo{source, destination};
  size_t offset = ipv6::kHeaderSize;
  uint8_t next_header = h[ipv6::kNextHeaderOffset];
  bool seen_fragment_header = false;
  // Walk the chain. Every extension header is at least 8 bytes and says its own length, so each
  // step checks that header's 8 bytes, then its full length, against the payload end.
  while (IsWalkedExtensionHeader(next_header)) {
    if (next_header == kProtoHopByHop && packet.extension_header_count > 0) {
      return ParseError::kHopByHopNotFirst;
    }
    if (packet.extension_header_count == kMaxExtensionHeaders) {
      return ParseError::kTooManyExtensionHeaders;
    }
    if (end - offset < ipv6::kExtensionHeaderMinSize) return ParseError::kExtensionHeaderTruncated;
    const uint8_t* ext = data.data() + offset;
    size_t size;
    if (next_header == kProtoFragment) {
      if (seen_fragment_header) return ParseError::kRepeatedFragmentHeader;
      seen_fragment_header = true;
      size = ipv6::kFragmentHeaderSize;
      const uint16_t offset_flags = Be16(ext + 2);
      packet.fragment.offset = offset_flags & ipv6::kFragmentOffsetMask;
      packet.fragment.more_fragments = (offset_flags & ipv6::kFragmentMoreFlag) != 0;
      packet.fragment.id = Be32(ext + 4);
      packet.fragment.is_fragment = packet.fragment.more_fragments || packet.fragment.offset != 0;
    } else if (next_header == kProtoAh) {
      size = (size_t{ext[1]} + 2) * 4;  // RFC 4302: 4-byte units, minus 2
    } else {
      size = (size_t{ext[1]} + 1) * 8;
    }
    if (size > end - offset) return ParseError::kExtensionHeaderTruncated;
    if (next_header == kProtoRouting && ext[3] != 0) {  // segments left: not yet at the final hop
      pseudo.known = FindFinalDestination(data.subspan(offset, size), &pseudo.destination);
    }
    packet.extension_headers[packet.extension_header_count++] = next_header;
    next_header = ext[0];
    offset += size;
    // In a later fragment, what follows the fragment header is the middle of the datagram.
    if (packet.fragment.offset != 0) break;
  }
  packet.protocol = next_header;
  packet.header_length = static_cast<uint32_t>(offset);

  const ByteSpan message = data.subspan(offset, end - offset);
  packet.transport_offset = static_cast<uint32_t>(offset);
  packet.transport_length = static_cast<uint32_t>(end - offset);
  packet.payload = message;
  if (packet.fragment.offset != 0) {
    packet.transport_checksum = ChecksumStatus::kUnverifiable;
    return ParseError::kOk;
  }
  return ParseTransport(packet, message, pseudo, options);
}

}  // namespace

ParseResult ParseIpPacket(ByteSpan data, ParseOptions options) {
  ParseResult result;
  if (data.empty()) {
    result.error = ParseError::kEmpty;
    return result;
  }
  switch (data[0] >> 4) {
    case 4:
      result.error = ParseIpv4(data, options, result.packet);
      break;
    case 6:
      result.error = ParseIpv6(data, options, result.packet);
      break;
    default:
      result.error = ParseError::kUnknownVersion;
      break;
  }
  return result;
}

std::string_view ToString(ParseError error) {
  switch (error) {
    case ParseError::kOk:
      return "ok";
    case ParseError::kEmpty:
      return "empty packet";
    case ParseError::kUnknownVersion:
      return "not IPv4 or IPv6";
    case ParseError::kIpv4Truncated:
      return "truncated IPv4 packet";
    case ParseError::kIpv4BadHeaderLength:
      return "bad IPv4 header length";
    case ParseError::kIpv4BadTotalLength:
      return "bad IPv4 total length";
    case ParseError::kIpv4BadHeaderChecksum:
      return "bad IPv4 header checksum";
    case ParseError::kIpv4FragmentTooLong:
      return "IPv4 fragment past 65535 bytes";
    case ParseError::kIpv6Truncated:
      return "truncated IPv6 packet";
    case ParseError::kExtensionHeaderTruncated:
      return "truncated IPv6 extension header";
    case ParseError::kHopByHopNotFirst:
      return "IPv6 hop-by-hop header not first";
    case ParseError::kTooManyExtensionHeaders:
      return "too many IPv6 extension headers";
    case ParseError::kRepeatedFragmentHeader:
      return "repeated IPv6 fragment header";
    case ParseError::kTransportTruncated:
      return "truncated transport header";
    case ParseError::kTcpBadDataOffset:
      return "bad TCP data offset";
    case ParseError::kUdpBadLength:
      return "bad UDP length";
    case ParseError::kUdpZeroChecksumIpv6:
      return "UDP over IPv6 without checksum";
    case ParseError::kBadTransportChecksum:
      return "bad transport checksum";
  }
  return "unknown parse error";
}

std::string_view ToString(ChecksumStatus status) {
  switch (status) {
    case ChecksumStatus::kNotChecked:
      return "not checked";
    case ChecksumStatus::kValid:
      return "valid";
    case ChecksumStatus::kAbsent:
      return "absent";
    case ChecksumStatus::kUnverifiable:
      return "unverifiable";
  }
  return "unknown";
}

}  // namespace meshvpn::tun
