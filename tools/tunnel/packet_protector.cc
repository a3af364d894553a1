#include "packet_protector.h"

namespace meshvpn::tunnel {

std::string_view ToString(ProtectResult result) {
  switch (result) {
    case ProtectResult::kOk:
      return "ok";
    case ProtectResult::kNonceExhausted:
      return "nonce counter exhausted";
    case ProtectResult::kNoRoom:
      return "no room for the tunnel header";
    case ProtectResult::kCryptoFailure:
      return "encryption failed";
  }
  return "unknown";
}

std::string_view ToString(UnprotectResult result) {
  switch (result) {
    case UnprotectResult::kOk:
      return "ok";
    case UnprotectResult::kKeepalive:
      return "keepalive";
    case UnprotectResult::kMalformed:
      return "malformed";
    case UnprotectResult::kWrongDirection:
      return "wrong direction";
    case UnprotectResult::kReplay:
      return "replayed";
    case UnprotectResult::kAuthFailed:
      return "authentication failed";
  }
  return "unknown";
}

}  // namespace meshvpn::tunnel
