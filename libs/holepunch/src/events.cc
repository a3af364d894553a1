#include "meshvpn/holepunch/events.h"

namespace meshvpn::holepunch {

std::string_view ToString(EventType t) {
  switch (t) {
    case EventType::kCandidates:
      return "candidates";
    case EventType::kStunMapped:
      return "stun-mapped";
    case EventType::kRegistered:
      return "registered";
    case EventType::kPeerFound:
      return "peer-found";
    case EventType::kRendezvousUnreachable:
      return "rendezvous-unreachable";
    case EventType::kRegisterRejected:
      return "register-rejected";
    case EventType::kPeerTimeout:
      return "peer-timeout";
    case EventType::kPeerKeyMismatch:
      return "peer-key-mismatch";
    case EventType::kPunchStarted:
      return "punch-started";
    case EventType::kAttempt:
      return "attempt";
    case EventType::kPeerReflexive:
      return "peer-reflexive";
    case EventType::kPathConfirmed:
      return "path-confirmed";
    case EventType::kDirect:
      return "direct";
    case EventType::kPathChanged:
      return "path-changed";
    case EventType::kPathLost:
      return "path-lost";
    case EventType::kRelayFallback:
      return "relay-fallback";
    case EventType::kBirthdayStarted:
      return "birthday-started";
    case EventType::kBirthdayGaveUp:
      return "birthday-gave-up";
    case EventType::kKeepalive:
      return "keepalive";
    case EventType::kMessageReceived:
      return "message-received";
    case EventType::kMessageDelivered:
      return "message-delivered";
    case EventType::kMessageFailed:
      return "message-failed";
  }
  return "unknown";
}

}  // namespace meshvpn::holepunch
