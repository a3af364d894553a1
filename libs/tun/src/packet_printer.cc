#include "meshvpn/tun/packet_printer.h"

#include "absl/strings/str_format.h"
#include "meshvpn/tun/messages.h"

namespace meshvpn::tun {
namespace {

bool HasPorts(const IpPacket& p) {
  return p.has_transport && (p.protocol == kProtoTcp || p.protocol == kProtoUdp);
}

void AppendEndpoint(std::string& out, const IpAddress& address, bool with_port, uint16_t port) {
  const std::string text = address.ToString();
  if (!with_port) {
    out += text;
  } else if (address.is_v6()) {
    absl::StrAppendFormat(&out, "[%s]:%d", text, port);
  } else {
    absl::StrAppendFormat(&out, "%s:%d", text, port);
  }
}

std::string ProtocolLabel(uint8_t protocol) {
  const std::string_view name = IpProtocolName(protocol);
  if (!name.empty()) return std::string(name);
  return absl::StrFormat("IP protocol %d", protocol);
}

}  // namespace

std::string_view IcmpTypeName(uint8_t type) {
  switch (type) {
    case icmp::kEchoReply:
      return "Echo Reply";
    case icmp::kDestinationUnreachable:
      return "Destination Unreachable";
    case icmp::kRedirect:
      return "Redirect";
    case icmp::kEchoRequest:
      return "Echo Request";
    case icmp::kTimeExceeded:
      return "Time Exceeded";
    case icmp::kParameterProblem:
      return "Parameter Problem";
    default:
      return {};
  }
}

std::string_view Icmpv6TypeName(uint8_t type) {
  switch (type) {
    case icmpv6::kDestinationUnreachable:
      return "Destination Unreachable";
    case icmpv6::kPacketTooBig:
      return "Packet Too Big";
    case icmpv6::kTimeExceeded:
      return "Time Exceeded";
    case icmpv6::kParameterProblem:
      return "Parameter Problem";
    case icmpv6::kEchoRequest:
      return "Echo Request";
    case icmpv6::kEchoReply:
      return "Echo Reply";
    case icmpv6::kMldQuery:
      return "Multicast Listener Query";
    case icmpv6::kMldReport:
      return "Multicast Listener Report";
    case icmpv6::kMldDone:
      return "Multicast Listener Done";
    case icmpv6::kRouterSolicitation:
      return "Router Solicitation";
    case icmpv6::kRouterAdvertisement:
      return "Router Advertisement";
    case icmpv6::kNeighborSolicitation:
      return "Neighbor Solicitation";
    case icmpv6::kNeighborAdvertisement:
      return "Neighbor Advertisement";
    case icmpv6::kRedirect:
      return "Redirect";
    case icmpv6::kMldv2Report:
      return "Multicast Listener Report v2";
    default:
      return {};
  }
}

std::string_view IpProtocolName(uint8_t protocol) {
  switch (protocol) {
    case kProtoIcmp:
      return "ICMP";
    case kProtoTcp:
      return "TCP";
    case kProtoUdp:
      return "UDP";
    case 47:
      return "GRE";
    case kProtoEsp:
      return "ESP";
    case kProtoAh:
      return "AH";
    case kProtoIcmpv6:
      return "ICMPv6";
    case kProtoNoNextHeader:
      return "No Next Header";
    case 132:
      return "SCTP";
    default:
      return {};
  }
}

std::string TcpFlagsToString(uint8_t flags) {
  static constexpr std::string_view kNames[8] = {"FIN", "SYN", "RST", "PSH",
                                                 "ACK", "URG", "ECE", "CWR"};
  std::string out;
  for (int bit = 0; bit < 8; ++bit) {
    if ((flags & (1u << bit)) == 0) continue;
    if (!out.empty()) out += ", ";
    out += kNames[bit];
  }
  return out.empty() ? "none" : out;
}

std::string_view ExtensionHeaderName(uint8_t next_header) {
  switch (next_header) {
    case kProtoHopByHop:
      return "HBH";
    case kProtoRouting:
      return "RH";
    case kProtoFragment:
      return "FRAG";
    case kProtoDestOptions:
      return "DST";
    case kProtoAh:
      return "AH";
    default:
      return "?";
  }
}

std::string DescribeTransport(const IpPacket& p) {
  if (!p.has_transport) {
    std::string out = ProtocolLabel(p.protocol);
    if (p.fragment.offset != 0) out += " (later fragment, no header)";
    return out;
  }
  switch (p.protocol) {
    case kProtoTcp: {
      std::string out =
          absl::StrFormat("TCP [%s] seq=%u", TcpFlagsToString(p.tcp_flags), p.tcp_seq);
      if (p.tcp_flags & tcp::kAck) absl::StrAppendFormat(&out, " ack=%u", p.tcp_ack);
      return out;
    }
    case kProtoUdp:
      return p.transport_checksum == ChecksumStatus::kAbsent ? "UDP (no checksum)" : "UDP";
    case kProtoIcmp:
    case kProtoIcmpv6: {
      const bool v6 = p.protocol == kProtoIcmpv6;
      const std::string_view family = v6 ? "ICMPv6" : "ICMP";
      const std::string_view name = v6 ? Icmpv6TypeName(p.icmp_type) : IcmpTypeName(p.icmp_type);
      if (name.empty()) {
        return absl::StrFormat("%s type %d code %d", family, p.icmp_type, p.icmp_code);
      }
      std::string out = absl::StrFormat("%s %s", family, name);
      if (p.icmp_code != 0) absl::StrAppendFormat(&out, " (code %d)", p.icmp_code);
      return out;
    }
    default:
      return ProtocolLabel(p.protocol);
  }
}

std::string FormatPacketLine(std::string_view label, const ParseResult& result, size_t wire_size) {
  const IpPacket& p = result.packet;
  std::string out = absl::StrFormat("[%s] ", label);
  const bool have_addresses = p.source.family() != IpAddress::Family::kNone;
  if (have_addresses) {
    const bool ports = HasPorts(p);
    AppendEndpoint(out, p.source, ports, p.source_port);
    out += " -> ";
    AppendEndpoint(out, p.destination, ports, p.destination_port);
    out += " | ";
  }
  if (!result.ok()) {
    if (result.error == ParseError::kBadTransportChecksum) {
      absl::StrAppendFormat(&out, "malformed: bad %s checksum", ProtocolLabel(p.protocol));
    } else {
      absl::StrAppendFormat(&out, "malformed: %s", ToString(result.error));
    }
    absl::StrAppendFormat(&out, " | %d bytes", wire_size);
    return out;
  }
  out += DescribeTransport(p);
  if (p.extension_header_count > 0) {
    out += " | ext";
    for (size_t i = 0; i < p.extension_header_count; ++i) {
      absl::StrAppendFormat(&out, "%s%s", i == 0 ? " " : ",",
                            ExtensionHeaderName(p.extension_headers[i]));
    }
  }
  if (p.fragment.is_fragment) {
    if (p.version == 4) {
      absl::StrAppendFormat(&out, " | fragment id=%u offset=%u", p.fragment.id, p.fragment.offset);
    } else {
      absl::StrAppendFormat(&out, " | fragment id=0x%08x offset=%u", p.fragment.id,
                            p.fragment.offset);
    }
    if (p.fragment.more_fragments) out += " MF";
  }
  absl::StrAppendFormat(&out, " | %d bytes", p.transport_length);
  return out;
}

std::string HexDump(ByteSpan data) {
  std::string out;
  for (size_t line = 0; line < data.size(); line += 16) {
    absl::StrAppendFormat(&out, "  %04x ", line);
    for (size_t i = line; i < line + 16; ++i) {
      if (i == line + 8) out += ' ';
      if (i < data.size()) {
        absl::StrAppendFormat(&out, " %02x", data[i]);
      } else {
        out += "   ";
      }
    }
    out += "  ";
    for (size_t i = line; i < line + 16 && i < data.size(); ++i) {
      const uint8_t c = data[i];
      out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '.';
    }
    out += '\n';
  }
  return out;
}

}  // namespace meshvpn::tun
