#include "meshvpn/holepunch/candidate.h"

#include "absl/strings/str_format.h"

namespace meshvpn::holepunch {

std::string_view ToString(CandidateKind kind) {
  switch (kind) {
    case CandidateKind::kLocal:
      return "local";
    case CandidateKind::kStun:
      return "stun";
    case CandidateKind::kRendezvous:
      return "rendezvous";
    case CandidateKind::kPeerReflexive:
      return "peer-reflexive";
    case CandidateKind::kPredicted:
      return "predicted";
  }
  return "unknown";
}

int Rank(CandidateKind kind) {
  switch (kind) {
    case CandidateKind::kLocal:
      return 3;
    case CandidateKind::kStun:
    case CandidateKind::kRendezvous:
      return 2;
    case CandidateKind::kPeerReflexive:
    case CandidateKind::kPredicted:
      return 1;
  }
  return 0;
}

std::string ToString(const Candidate& c) {
  return absl::StrFormat("%s (%s)", c.endpoint.ToString(), ToString(c.kind));
}

}  // namespace meshvpn::holepunch
