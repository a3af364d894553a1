#include "meshvpn/udp/socket_options.h"

#include "absl/strings/str_format.h"

namespace meshvpn::udp {
namespace {

std::string Describe(int granted, int requested, bool forced) {
  if (requested == 0) return absl::StrFormat("%d bytes (kernel default)", granted);
  return absl::StrFormat("%d bytes (asked %d%s)", granted, requested, forced ? ", forced" : "");
}

}  // namespace

std::string ToString(const SocketBufferSizes& sizes) {
  return absl::StrFormat(
      "receive buffer %s, send buffer %s",
      Describe(sizes.receive_granted, sizes.receive_requested, sizes.receive_forced),
      Describe(sizes.send_granted, sizes.send_requested, sizes.send_forced));
}

}  // namespace meshvpn::udp
