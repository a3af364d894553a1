// Event: what a peer-side core (RendezvousClient, Punch, Session) reports to its embedder - the
// progress lines a tool prints. Produced on state changes only, never per packet.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "meshvpn/base/clock.h"
#include "meshvpn/holepunch/candidate.h"
#include "meshvpn/udp/endpoint.h"

namespace meshvpn::holepunch {

// Events wait in a queue until the embedder drains it (NextEvent()); an embedder that never does
// loses the oldest beyond this many, instead of growing memory without bound.
inline constexpr size_t kMaxQueuedEvents = 1024;

enum class EventType : uint8_t {
  // Session: discovery and rendezvous
  kCandidates,             // gathering finished: count = candidates, flag = hard NAT
  kStunMapped,             // one STUN server answered: endpoint = mapped, peer_endpoint = server
  kRegistered,             // the rendezvous server acked: endpoint = where it saw us
  kPeerFound,              // PeerInfo arrived: text = peer name, count = its candidates
  kRendezvousUnreachable,  // no answer from the rendezvous server within its bound
  kRegisterRejected,       // the server refused: text = why
  kPeerTimeout,            // the peer never showed up at the rendezvous
  kPeerKeyMismatch,        // the peer's key is not the pinned one
  // Punch
  kPunchStarted,      // count = candidate paths, flag = birthday probing planned
  kAttempt,           // count = attempt number (from 1), value = pings sent in it
  kPeerReflexive,     // a valid ping came from an unknown address: candidate = it, slot
  kPathConfirmed,     // a pong came back on a path: candidate, slot, rtt
  kDirect,            // a direct path is chosen: candidate, slot, rtt, endpoint = our public
                      //   side as the peer saw it (from the pong), flag = found by birthday
  kPathChanged,       // a better path replaced the current one: candidate, slot, rtt
  kPathLost,          // no pong on the chosen path for path_timeout: punching again
  kRelayFallback,     // no direct path within the bound: value = pings sent, count = attempts
                      //   (elapsed: since this round of punching started)
  kBirthdayStarted,   // text = "hard side" / "easy side", count = sockets or probes per second
  kBirthdayGaveUp,    // birthday probing ended without a path: value = probes sent
  kKeepalive,         // a keepalive pong on the chosen path: rtt
  kMessageReceived,   // text = the message
  kMessageDelivered,  // the peer acked our message: rtt (from the first send)
  kMessageFailed,     // no ack after every resend
};
std::string_view ToString(EventType t);

struct Event {
  EventType type = EventType::kCandidates;
  MonoTime at{};
  Candidate candidate;          // a remote candidate (path events)
  uint16_t slot = 0;            // the local socket of a path
  udp::Endpoint endpoint;       // an address of ours (mapped, observed)
  udp::Endpoint peer_endpoint;  // another address (a STUN server)
  Duration rtt{};
  Duration elapsed{};  // since the phase started (punch events: since Start)
  int64_t count = 0;
  int64_t value = 0;
  bool flag = false;
  std::string text;
};

}  // namespace meshvpn::holepunch
