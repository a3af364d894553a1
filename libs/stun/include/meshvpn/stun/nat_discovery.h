// NAT behaviour discovery (RFC 5780) as a sans-I/O state machine: mapping and filtering
// behaviour, UDP blocked, hairpinning, the classic NAT names and what they mean for P2P.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "meshvpn/stun/client.h"
#include "meshvpn/stun/sans_io.h"

namespace meshvpn::stun {

// RFC 4787 / RFC 5780 behaviour of a NAT's mapping (which public endpoint an inside socket
// gets) or filtering (which outside senders may reach it).
enum class Behavior : uint8_t {
  kUnknown,                  // not tested (or a test got no answer it could use)
  kNoNat,                    // mapping only: the mapped address is the local address
  kEndpointIndependent,      // the same for every destination / anyone may send
  kAddressDependent,         // per destination address / only addresses we sent to
  kAddressAndPortDependent,  // per destination address and port
  kVariesByDestination,      // mapping only: differs across servers, exact kind untested
};
std::string_view ToString(Behavior b);

enum class Hairpinning : uint8_t { kUnknown, kSupported, kNotSupported };
std::string_view ToString(Hairpinning h);

// One server's answer to the basic Binding test (RFC 5780 test I).
struct ServerProbe {
  udp::Endpoint server;
  std::optional<udp::Endpoint> local;  // the socket's address toward this server, if known
  TransactionResult result;
};

struct NatReport {
  std::vector<ServerProbe> probes;
  bool udp_blocked = false;  // no server answered at all
  std::optional<udp::Endpoint> public_endpoint;
  Behavior mapping = Behavior::kUnknown;
  Behavior filtering = Behavior::kUnknown;
  Hairpinning hairpinning = Hairpinning::kUnknown;
  // The server the RFC 5780 tests ran against (one that sent OTHER-ADDRESS), if any.
  std::optional<udp::Endpoint> rfc5780_server;
  // Why a behaviour is unknown, for the user ("server sent no OTHER-ADDRESS", ...).
  std::string note;

  // "Full Cone NAT", "Restricted Cone NAT", "Port-Restricted Cone NAT", "Symmetric NAT",
  // "Open Internet (no NAT)", "UDP blocked", ...
  std::string ClassicName() const;
  // One line on what it means for direct connections.
  std::string Recommendation() const;
};

struct NatDiscoveryOptions {
  // Servers for test I, queried at once. The RFC 5780 tests use the first that answers with
  // OTHER-ADDRESS; without one, mapping is judged by comparing the servers' answers.
  std::vector<udp::Endpoint> servers;
  // The local address toward each server (same order), to recognise "no NAT"; may be empty.
  std::vector<udp::Endpoint> local;
  RetransmitPolicy policy;
  // For the tests where silence is an expected answer (filtering, hairpinning): keep it short.
  RetransmitPolicy short_policy{std::chrono::milliseconds(200), 3, 4};
  bool test_filtering = true;
  bool test_hairpinning = true;
  std::string software;
};

// The tests, in this order (filtering before the mapping tests II/III, because sending to the
// alternate address would open the very filter holes the filtering tests probe):
//
//   kBinding ---- no answer from any server -------------------------------> kDone (UDP blocked)
//      | answers; one has OTHER-ADDRESS (B:Q)?  no: compare servers' mapped ---> kHairpin
//      v yes
//   kFilteringII   to A:P, CHANGE-REQUEST ip+port: answer => endpoint-independent filtering
//      | silence
//   kFilteringIII  to A:P, CHANGE-REQUEST port:    answer => address-dependent,
//      |                                           silence => address-and-port-dependent
//   kMappingII     to B:P: mapped == test I's      => endpoint-independent mapping
//      | differs
//   kMappingIII    to B:Q: mapped == test II's     => address-dependent, else addr-and-port
//   kHairpin       to our own mapped address: our request comes back => hairpinning
//   kDone
class NatDiscovery final : public DatagramCore {
 public:
  enum class Phase : uint8_t {
    kBinding,
    kFilteringII,
    kFilteringIII,
    kMappingII,
    kMappingIII,
    kHairpin,
    kDone,
  };

  static absl::StatusOr<std::unique_ptr<NatDiscovery>> Create(NatDiscoveryOptions options,
                                                              MonoTime now);

  std::optional<OutgoingDatagram> NextSend(MonoTime now) override;
  void OnDatagram(ByteSpan data, const udp::Endpoint& from, MonoTime now) override;
  std::optional<MonoTime> NextExpiry() const override { return client_.NextExpiry(); }
  void HandleExpiry(MonoTime now) override;
  bool Done() const override { return phase_ == Phase::kDone; }

  Phase phase() const { return phase_; }
  const NatReport& report() const { return report_; }
  const Client& client() const { return client_; }

 private:
  explicit NatDiscovery(NatDiscoveryOptions options) : options_(std::move(options)) {}
  void Collect(MonoTime now);
  void OnResult(const TransactionResult& r, MonoTime now);
  void FinishBinding(MonoTime now);
  void Enter(Phase phase, MonoTime now);
  void Start(const udp::Endpoint& to, MonoTime now, bool change_ip, bool change_port,
             bool short_policy);

  NatDiscoveryOptions options_;
  Client client_{32};
  Phase phase_ = Phase::kBinding;
  NatReport report_;
  size_t outstanding_ = 0;
  udp::Endpoint primary_server_;  // A:P of the RFC 5780 server
  udp::Endpoint other_address_;   // its B:Q
  udp::Endpoint mapped_i_;        // test I's mapped address at that server
  udp::Endpoint mapped_ii_;
};
std::string_view ToString(NatDiscovery::Phase p);

}  // namespace meshvpn::stun
