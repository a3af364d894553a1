#include "meshvpn/wg/device_stats.h"

#include "absl/strings/str_format.h"
#include "meshvpn/wg/device_tracer.h"

namespace meshvpn::wg {

std::string_view ToString(DropReason reason) {
  switch (reason) {
    case DropReason::kMalformedMessage:
      return "malformed-message";
    case DropReason::kInvalidMac1:
      return "invalid-mac1";
    case DropReason::kCookieReplySent:
      return "cookie-reply-sent";
    case DropReason::kRateLimited:
      return "rate-limited";
    case DropReason::kHandshakeShed:
      return "handshake-shed";
    case DropReason::kHandshakeFailed:
      return "handshake-failed";
    case DropReason::kUnknownPeer:
      return "unknown-peer";
    case DropReason::kReplayedInitiation:
      return "replayed-initiation";
    case DropReason::kInitiationFlood:
      return "initiation-flood";
    case DropReason::kUnknownIndex:
      return "unknown-index";
    case DropReason::kUnexpectedResponse:
      return "unexpected-response";
    case DropReason::kBadCookieReply:
      return "bad-cookie-reply";
    case DropReason::kExpiredKeypair:
      return "expired-keypair";
    case DropReason::kReplayedPacket:
      return "replayed-packet";
    case DropReason::kDecryptFailed:
      return "decrypt-failed";
    case DropReason::kBadInnerPacket:
      return "bad-inner-packet";
    case DropReason::kWrongSourceAddress:
      return "wrong-source-address";
    case DropReason::kNoRoute:
      return "no-route";
    case DropReason::kNoEndpoint:
      return "no-endpoint";
    case DropReason::kNoPrivateKey:
      return "no-private-key";
    case DropReason::kStagedQueueFull:
      return "staged-queue-full";
    case DropReason::kHandshakeGaveUp:
      return "handshake-gave-up";
    case DropReason::kNoBufferRoom:
      return "no-buffer-room";
    case DropReason::kPoolExhausted:
      return "pool-exhausted";
    case DropReason::kCount:
      break;
  }
  return "unknown";
}

std::string_view ToString(HandshakeEvent event) {
  switch (event) {
    case HandshakeEvent::kInitiationSent:
      return "initiation-sent";
    case HandshakeEvent::kInitiationReceived:
      return "initiation-received";
    case HandshakeEvent::kResponseSent:
      return "response-sent";
    case HandshakeEvent::kResponseReceived:
      return "response-received";
    case HandshakeEvent::kSessionConfirmed:
      return "session-confirmed";
    case HandshakeEvent::kCookieReplyReceived:
      return "cookie-reply-received";
  }
  return "unknown";
}

uint64_t DeviceStats::total_dropped() const {
  uint64_t total = 0;
  for (uint64_t n : drops) total += n;
  return total;
}

std::string FormatDrops(const DeviceStats& stats) {
  std::string out;
  for (size_t i = 0; i < kDropReasonCount; ++i) {
    if (stats.drops[i] == 0) continue;
    if (!out.empty()) out += ' ';
    absl::StrAppendFormat(&out, "%s=%d", ToString(static_cast<DropReason>(i)), stats.drops[i]);
  }
  return out.empty() ? "none" : out;
}

}  // namespace meshvpn::wg
