#include "meshvpn/udp/stats.h"

namespace meshvpn::udp {

std::string_view ToString(DropReason reason) {
  switch (reason) {
    case DropReason::kNoBuffer:
      return "no_buffer";
    case DropReason::kTruncated:
      return "truncated";
    case DropReason::kUnsupportedAddress:
      return "unsupported_address";
    case DropReason::kReceiveError:
      return "receive_error";
    case DropReason::kSendWouldBlock:
      return "send_would_block";
    case DropReason::kSendQueueFull:
      return "send_queue_full";
    case DropReason::kSendError:
      return "send_error";
    case DropReason::kSocketClosed:
      return "socket_closed";
  }
  return "unknown";
}

uint64_t UdpStats::total_drops() const {
  uint64_t total = 0;
  for (uint64_t n : drops) total += n;
  return total;
}

}  // namespace meshvpn::udp
