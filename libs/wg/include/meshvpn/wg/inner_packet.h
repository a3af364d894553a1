// The few IP header fields WireGuard's cryptokey routing reads from a tunnelled packet: the
// destination (send: which peer), the source (receive: is it allowed) and the real length
// (receive: strip the padding). No allocation; never reads past the span.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "meshvpn/base/bytes.h"

namespace meshvpn::wg {

struct InnerHeader {
  ByteSpan source;          // 4 or 16 bytes inside the packet
  ByteSpan destination;     // 4 or 16 bytes inside the packet
  size_t total_length = 0;  // from the header: IPv4 total length, IPv6 40 + payload length
};

// IPv4 (20+ bytes, IHL >= 5) or IPv6 (40+ bytes) header; nullopt for anything else or a length
// field that claims more bytes than `packet` has or fewer than the header itself.
std::optional<InnerHeader> ParseInnerHeader(ByteSpan packet);

// Just the destination, for the send path (nullopt as above).
inline std::optional<ByteSpan> InnerDestination(ByteSpan packet) {
  std::optional<InnerHeader> header = ParseInnerHeader(packet);
  if (!header) return std::nullopt;
  return header->destination;
}

}  // namespace meshvpn::wg
