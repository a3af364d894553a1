// Candidate gathering (sans-I/O): the socket's own addresses, and the public address STUN
// servers see for it (via the stun library's client) - with a verdict on whether the NAT maps
// each destination to a different public port (a "hard" NAT).
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "meshvpn/holepunch/candidate.h"
#include "meshvpn/holepunch/sans_io.h"
#include "meshvpn/stun/client.h"

namespace meshvpn::holepunch {

struct GatherOptions {
  // STUN servers asked at once from the punch socket. Two servers (or two addresses of one
  // RFC 5780 server) show whether the mapping depends on the destination.
  std::vector<udp::Endpoint> stun_servers;
  // The socket's own addresses (InterfaceAddresses()) and its port: the local candidates.
  std::vector<udp::Endpoint> local_addresses;
  uint16_t port = 0;
  size_t max_local = 6;
  // Short: a server that does not answer within ~2 s is not worth waiting for here.
  // Sends at 0, 0.2, 0.6, 1.4 s; gives up at 2.2 s.
  stun::RetransmitPolicy policy{std::chrono::milliseconds(200), 4, 4};
};

struct StunAnswer {
  udp::Endpoint server;
  stun::Outcome outcome = stun::Outcome::kTimeout;
  std::optional<udp::Endpoint> mapped;
  Duration rtt{};
};

struct GatherResult {
  // Local candidates first, then the distinct STUN-mapped ones.
  std::vector<Candidate> candidates;
  std::vector<StunAnswer> answers;  // one per server, in the order given
  // Two servers saw different public endpoints: the NAT's mapping depends on the destination
  // (symmetric, "hard"): the peer cannot predict our port for it.
  bool mapping_varies = false;
};

// True if the endpoints are not all equal.
bool MappingVaries(const std::vector<udp::Endpoint>& mapped);
// Local candidates: each address with `port`, at most `max`, duplicates and wildcards left out.
std::vector<Candidate> LocalCandidates(const std::vector<udp::Endpoint>& addresses, uint16_t port,
                                       size_t max);

// Runs one binding transaction per STUN server on slot 0; Done() when every one has an answer
// or timed out (with no servers: at once). Not thread-safe.
class CandidateGatherer final : public Core {
 public:
  static absl::StatusOr<std::unique_ptr<CandidateGatherer>> Create(GatherOptions options,
                                                                   MonoTime now);

  std::optional<Outgoing> NextSend(MonoTime now) override;
  void OnDatagram(ByteSpan data, const udp::Endpoint& from, uint16_t slot, MonoTime now) override;
  std::optional<MonoTime> NextExpiry() const override { return client_.NextExpiry(); }
  void HandleExpiry(MonoTime now) override;

  bool Done() const { return done_; }
  const GatherResult& result() const { return result_; }
  const stun::Client& client() const { return client_; }

 private:
  explicit CandidateGatherer(GatherOptions options) : options_(std::move(options)) {}
  void Collect();

  GatherOptions options_;
  stun::Client client_{32};
  std::vector<stun::TransactionId> ids_;
  GatherResult result_;
  bool done_ = false;
};

}  // namespace meshvpn::holepunch
