#include "meshvpn/wg/inner_packet.h"

namespace meshvpn::wg {
namespace {

size_t ReadBe16(ByteSpan bytes, size_t offset) {
  return (static_cast<size_t>(bytes[offset]) << 8) | bytes[offset + 1];
}

}  // namespace

std::optional<InnerHeader> ParseInnerHeader(ByteSpan packet) {
  if (packet.empty()) return std::nullopt;
  const uint8_t version = packet[0] >> 4;
  InnerHeader header;
  if (version == 4) {
    if (packet.size() < 20) return std::nullopt;
    const size_t ihl = static_cast<size_t>(packet[0] & 0x0f) * 4;
    header.total_length = ReadBe16(packet, 2);
    if (ihl < 20 || header.total_length < ihl || header.total_length > packet.size()) {
      return std::nullopt;
    }
    header.source = packet.subspan(12, 4);
    header.destination = packet.subspan(16, 4);
    return header;
  }
  if (version == 6) {
    if (packet.size() < 40) return std::nullopt;
    header.total_length = 40 + ReadBe16(packet, 4);
    if (header.total_length > packet.size()) return std::nullopt;
    header.source = packet.subspan(8, 16);
    header.destination = packet.subspan(24, 16);
    return header;
  }
  return std::nullopt;
}

}  // namespace meshvpn::wg
