// Candidate: one address:port at which a peer might be reachable, and how it was learned.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "meshvpn/udp/endpoint.h"

namespace meshvpn::holepunch {

// How a candidate was learned (ICE, RFC 8445, has the same idea under other names: "host",
// "server-reflexive", "peer-reflexive"). The values are on the wire (messages.h).
enum class CandidateKind : uint8_t {
  kLocal = 1,          // an address of one of the peer's own interfaces ("host")
  kStun = 2,           // the public address a STUN server saw ("server-reflexive")
  kRendezvous = 3,     // the public address the rendezvous server saw (server-reflexive too)
  kPeerReflexive = 4,  // the address a valid ping from the peer came from (learned while punching)
  kPredicted = 5,      // a guessed port on the peer's public address (birthday probing)
};
inline constexpr uint8_t kMaxCandidateKind = 5;
std::string_view ToString(CandidateKind kind);

// Paths to candidates of a higher rank are preferred when several work: a LAN address keeps
// traffic off the NATs, a server-reflexive one is what most punches use.
int Rank(CandidateKind kind);

struct Candidate {
  udp::Endpoint endpoint;
  CandidateKind kind = CandidateKind::kLocal;

  friend bool operator==(const Candidate&, const Candidate&) = default;
};

// "203.0.113.101:4000 (stun)". Allocates: for logs and tools.
std::string ToString(const Candidate& c);

}  // namespace meshvpn::holepunch
