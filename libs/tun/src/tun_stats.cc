#include "meshvpn/tun/tun_stats.h"

namespace meshvpn::tun {

std::string_view ToString(TunDropReason reason) {
  switch (reason) {
    case TunDropReason::kPoolExhausted:
      return "pool exhausted";
    case TunDropReason::kTooBig:
      return "too big";
    case TunDropReason::kReadError:
      return "read error";
    case TunDropReason::kWriteWouldBlock:
      return "write would block";
    case TunDropReason::kWriteError:
      return "write error";
    case TunDropReason::kBadOffload:
      return "bad offload";
  }
  return "unknown";
}

uint64_t TunStats::total_dropped() const {
  uint64_t total = 0;
  for (uint64_t n : drops) total += n;
  return total;
}

}  // namespace meshvpn::tun
