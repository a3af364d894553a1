#include "meshvpn/stun/nat_discovery.h"

#include "absl/strings/str_format.h"

namespace meshvpn::stun {

std::string_view ToString(Behavior b) {
  switch (b) {
    case Behavior::kUnknown:
      return "unknown";
    case Behavior::kNoNat:
      return "no NAT";
    case Behavior::kEndpointIndependent:
      return "endpoint-independent";
    case Behavior::kAddressDependent:
      return "address-dependent";
    case Behavior::kAddressAndPortDependent:
      return "address-and-port-dependent";
    case Behavior::kVariesByDestination:
      return "varies by destination";
  }
  return "?";
}

std::string_view ToString(Hairpinning h) {
  switch (h) {
    case Hairpinning::kUnknown:
      return "Unknown";
    case Hairpinning::kSupported:
      return "Supported";
    case Hairpinning::kNotSupported:
      return "Not supported";
  }
  return "?";
}

std::string_view ToString(NatDiscovery::Phase p) {
  switch (p) {
    case NatDiscovery::Phase::kBinding:
      return "binding";
    case NatDiscovery::Phase::kFilteringII:
      return "filtering test II";
    case NatDiscovery::Phase::kFilteringIII:
      return "filtering test III";
    case NatDiscovery::Phase::kMappingII:
      return "mapping test II";
    case NatDiscovery::Phase::kMappingIII:
      return "mapping test III";
    case NatDiscovery::Phase::kHairpin:
      return "hairpinning";
    case NatDiscovery::Phase::kDone:
      return "done";
  }
  return "?";
}

std::string NatReport::ClassicName() const {
  if (udp_blocked) return "UDP blocked";
  switch (mapping) {
    case Behavior::kNoNat:
      if (filtering == Behavior::kEndpointIndependent) return "Open Internet (no NAT)";
      if (filtering == Behavior::kUnknown) return "No NAT (filtering not tested)";
      return "No NAT, behind a stateful firewall";
    case Behavior::kEndpointIndependent:
      switch (filtering) {
        case Behavior::kEndpointIndependent:
          return "Full Cone NAT";
        case Behavior::kAddressDependent:
          return "Restricted Cone NAT";
        case Behavior::kAddressAndPortDependent:
          return "Port-Restricted Cone NAT";
        default:
          return "Cone NAT (filtering not tested)";
      }
    case Behavior::kAddressDependent:
    case Behavior::kAddressAndPortDependent:
    case Behavior::kVariesByDestination:
      return "Symmetric NAT";
    case Behavior::kUnknown:
      break;
  }
  return "Unknown";
}

std::string NatReport::Recommendation() const {
  if (udp_blocked) {
    return "UDP is blocked: peers can only be reached through a relay (DERP over TCP/443)";
  }
  switch (mapping) {
    case Behavior::kNoNat:
      return filtering == Behavior::kEndpointIndependent
                 ? "Direct P2P connections will work: this host is reachable as it is"
                 : "Direct P2P connections should work with hole punching";
    case Behavior::kEndpointIndependent:
      return "Direct P2P connections should work with hole punching";
    case Behavior::kAddressDependent:
    case Behavior::kAddressAndPortDependent:
    case Behavior::kVariesByDestination:
      return "Hole punching works only toward peers with easy NATs; expect a relay (DERP) for "
             "peers that are also behind symmetric NATs";
    case Behavior::kUnknown:
      break;
  }
  return "Not enough information: query a server with RFC 5780 support (OTHER-ADDRESS) or "
         "several servers";
}

absl::StatusOr<std::unique_ptr<NatDiscovery>> NatDiscovery::Create(NatDiscoveryOptions options,
                                                                   MonoTime now) {
  if (options.servers.empty()) return absl::InvalidArgumentError("nat discovery: no servers");
  if (!options.local.empty() && options.local.size() != options.servers.size()) {
    return absl::InvalidArgumentError("nat discovery: one local address per server, or none");
  }
  std::unique_ptr<NatDiscovery> d(new NatDiscovery(std::move(options)));
  for (size_t i = 0; i < d->options_.servers.size(); ++i) {
    ServerProbe probe;
    probe.server = d->options_.servers[i];
    if (!d->options_.local.empty()) probe.local = d->options_.local[i];
    probe.result.server = probe.server;
    d->report_.probes.push_back(probe);
  }
  for (const udp::Endpoint& server : d->options_.servers) {
    d->Start(server, now, false, false, false);
  }
  return d;
}

void NatDiscovery::Start(const udp::Endpoint& to, MonoTime now, bool change_ip, bool change_port,
                         bool short_policy) {
  BindingOptions o;
  o.policy = short_policy ? options_.short_policy : options_.policy;
  o.change_ip = change_ip;
  o.change_port = change_port;
  o.software = options_.software;
  if (client_.StartBinding(to, now, o).ok()) {
    ++outstanding_;
  } else {
    // Cannot happen with distinct random IDs and a bounded number of servers; count it as an
    // immediate silence so that the machine still moves on.
    TransactionResult r;
    r.server = to;
    OnResult(r, now);
  }
}

std::optional<OutgoingDatagram> NatDiscovery::NextSend(MonoTime now) {
  return client_.NextSend(now);
}

void NatDiscovery::OnDatagram(ByteSpan data, const udp::Endpoint& from, MonoTime now) {
  client_.OnDatagram(data, from, now);
  Collect(now);
}

void NatDiscovery::HandleExpiry(MonoTime now) {
  client_.HandleExpiry(now);
  Collect(now);
}

void NatDiscovery::Collect(MonoTime now) {
  while (auto r = client_.NextResult()) {
    if (outstanding_ > 0) --outstanding_;
    OnResult(*r, now);
  }
}

void NatDiscovery::OnResult(const TransactionResult& r, MonoTime now) {
  const bool answered = r.outcome == Outcome::kSuccess && r.mapped.has_value();
  switch (phase_) {
    case Phase::kBinding:
      for (ServerProbe& p : report_.probes) {
        if (p.server == r.server && p.result.sends == 0) {
          p.result = r;
          break;
        }
      }
      if (outstanding_ == 0) FinishBinding(now);
      return;
    case Phase::kFilteringII:
      if (answered) {
        report_.filtering = Behavior::kEndpointIndependent;
        Enter(Phase::kMappingII, now);
      } else {
        Enter(Phase::kFilteringIII, now);
      }
      return;
    case Phase::kFilteringIII:
      report_.filtering =
          answered ? Behavior::kAddressDependent : Behavior::kAddressAndPortDependent;
      Enter(Phase::kMappingII, now);
      return;
    case Phase::kMappingII:
      if (!answered) {
        report_.note = "no answer from the server's alternate address (mapping test II)";
        Enter(Phase::kHairpin, now);
      } else if (*r.mapped == mapped_i_) {
        if (report_.mapping != Behavior::kNoNat) report_.mapping = Behavior::kEndpointIndependent;
        Enter(Phase::kHairpin, now);
      } else {
        mapped_ii_ = *r.mapped;
        Enter(Phase::kMappingIII, now);
      }
      return;
    case Phase::kMappingIII:
      if (!answered) {
        report_.mapping = Behavior::kVariesByDestination;
        report_.note = "no answer from the server's alternate address and port (mapping test III)";
      } else {
        report_.mapping = *r.mapped == mapped_ii_ ? Behavior::kAddressDependent
                                                  : Behavior::kAddressAndPortDependent;
      }
      Enter(Phase::kHairpin, now);
      return;
    case Phase::kHairpin:
      report_.hairpinning =
          r.outcome == Outcome::kLoopedBack ? Hairpinning::kSupported : Hairpinning::kNotSupported;
      Enter(Phase::kDone, now);
      return;
    case Phase::kDone:
      return;
  }
}

void NatDiscovery::FinishBinding(MonoTime now) {
  const ServerProbe* first = nullptr;
  const ServerProbe* rfc5780 = nullptr;
  std::vector<const ServerProbe*> answered;
  for (const ServerProbe& p : report_.probes) {
    if (p.result.outcome != Outcome::kSuccess || !p.result.mapped) continue;
    answered.push_back(&p);
    if (first == nullptr) first = &p;
    if (rfc5780 == nullptr && p.result.other_address) rfc5780 = &p;
  }
  if (first == nullptr) {
    report_.udp_blocked = true;
    report_.note = "no server answered";
    Enter(Phase::kDone, now);
    return;
  }
  const ServerProbe& main = rfc5780 != nullptr ? *rfc5780 : *first;
  report_.public_endpoint = main.result.mapped;
  mapped_i_ = *main.result.mapped;
  if (main.local && *main.local == mapped_i_) report_.mapping = Behavior::kNoNat;

  if (rfc5780 != nullptr && options_.test_filtering) {
    report_.rfc5780_server = rfc5780->server;
    primary_server_ = rfc5780->server;
    other_address_ = *rfc5780->result.other_address;
    Enter(Phase::kFilteringII, now);
    return;
  }
  if (rfc5780 != nullptr) {
    report_.rfc5780_server = rfc5780->server;
    primary_server_ = rfc5780->server;
    other_address_ = *rfc5780->result.other_address;
    Enter(Phase::kMappingII, now);
    return;
  }
  // No RFC 5780 server: compare what several servers saw.
  report_.note = "no server sent OTHER-ADDRESS (RFC 5780), so filtering was not tested";
  if (report_.mapping != Behavior::kNoNat) {
    if (answered.size() >= 2) {
      bool same = true;
      for (const ServerProbe* p : answered) same = same && *p->result.mapped == mapped_i_;
      report_.mapping = same ? Behavior::kEndpointIndependent : Behavior::kVariesByDestination;
    } else {
      report_.note = "only one server answered and it sent no OTHER-ADDRESS (RFC 5780)";
    }
  }
  Enter(Phase::kHairpin, now);
}

void NatDiscovery::Enter(Phase phase, MonoTime now) {
  phase_ = phase;
  switch (phase) {
    case Phase::kFilteringII:
      Start(primary_server_, now, true, true, true);
      return;
    case Phase::kFilteringIII:
      Start(primary_server_, now, false, true, true);
      return;
    case Phase::kMappingII:
      // B:P: the alternate address with the primary port.
      Start(other_address_.WithPort(primary_server_.port()), now, false, false, false);
      return;
    case Phase::kMappingIII:
      Start(other_address_, now, false, false, false);
      return;
    case Phase::kHairpin:
      if (!options_.test_hairpinning || !report_.public_endpoint ||
          report_.mapping == Behavior::kNoNat) {
        Enter(Phase::kDone, now);
        return;
      }
      Start(*report_.public_endpoint, now, false, false, true);
      return;
    case Phase::kBinding:
    case Phase::kDone:
      return;
  }
}

}  // namespace meshvpn::stun
