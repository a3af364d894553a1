#include "meshvpn/stun/nat_discovery.h"

#include <catch2/catch.hpp>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "meshvpn/stun/server.h"

namespace meshvpn::stun {
namespace {

const udp::Endpoint kInside = *udp::Endpoint::Parse("10.0.0.2:5000");
const udp::Endpoint kA = *udp::Endpoint::Parse("192.0.2.1:3478");
const udp::Endpoint kB = *udp::Endpoint::Parse("192.0.2.2:3479");
const udp::Endpoint kOther = *udp::Endpoint::Parse("192.0.2.77:3478");  // a plain server

// A NAT with RFC 4787 mapping and filtering behaviour, between one inside socket and STUN
// servers (our Server core) on the outside. kNoNat: packets pass unchanged.
class FakeNetwork {
 public:
  Behavior mapping = Behavior::kEndpointIndependent;
  Behavior filtering = Behavior::kEndpointIndependent;
  bool hairpin = false;
  bool blocked = false;

  void AddServer(Server s) { servers_.push_back(std::move(s)); }

  // The public endpoint the NAT uses for traffic from kInside to `to`.
  udp::Endpoint Map(const udp::Endpoint& to) {
    if (mapping == Behavior::kNoNat) return kInside;
    std::string key;
    if (mapping == Behavior::kAddressDependent) key = to.AddressString();
    if (mapping == Behavior::kAddressAndPortDependent) key = to.ToString();
    auto [it, inserted] = ports_.try_emplace(key, static_cast<uint16_t>(40000 + ports_.size()));
    return udp::Endpoint::Parse("198.51.100.1:0")->WithPort(it->second);
  }
  bool Allowed(const udp::Endpoint& from, const udp::Endpoint& public_ep) const {
    switch (filtering) {
      case Behavior::kAddressDependent:
        return sent_.count(public_ep.ToString() + " " + from.AddressString()) > 0;
      case Behavior::kAddressAndPortDependent:
        return sent_.count(public_ep.ToString() + " " + from.ToString()) > 0;
      default:
        return true;
    }
  }

  void Send(const OutgoingDatagram& d) {
    ++sent;
    if (blocked) return;
    const udp::Endpoint src = Map(d.to);
    sent_.insert(src.ToString() + " " + d.to.AddressString());
    sent_.insert(src.ToString() + " " + d.to.ToString());
    if (d.to.AddressString() == "198.51.100.1") {  // our own public address
      if (hairpin) inbound.push_back({std::vector<uint8_t>(d.data.begin(), d.data.end()), src});
      return;
    }
    for (Server& s : servers_) {
      for (int slot = 0; slot < s.slot_count(); ++slot) {
        if (!(s.SlotEndpoint(slot) == d.to)) continue;
        std::vector<uint8_t> out(kMaxUdpMessageSize);
        ServerReply r;
        if (s.HandleDatagram(d.data, src, slot, out, &r) != ServerDrop::kNone) return;
        out.resize(r.size);
        const udp::Endpoint from = s.SlotEndpoint(r.from_slot);
        if (Allowed(from, r.to)) inbound.push_back({std::move(out), from});
        return;
      }
    }
  }

  struct Inbound {
    std::vector<uint8_t> bytes;
    udp::Endpoint from;
  };
  std::deque<Inbound> inbound;
  int sent = 0;

 private:
  std::vector<Server> servers_;
  std::map<std::string, uint16_t> ports_;
  std::set<std::string> sent_;
};

Server Rfc5780Server() { return *Server::Create(ServerConfig{kA, kB, "rfc5780", true}); }
Server PlainServer(const udp::Endpoint& at) {
  return *Server::Create(ServerConfig{at, std::nullopt, "plain", true});
}

NatReport Run(FakeNetwork& net, std::vector<udp::Endpoint> servers, FakeClock& clock) {
  NatDiscoveryOptions o;
  o.servers = servers;
  for (size_t i = 0; i < servers.size(); ++i) o.local.push_back(kInside);
  auto d = NatDiscovery::Create(o, clock.Now());
  REQUIRE(d.ok());
  NatDiscovery& core = **d;
  for (int steps = 0; !core.Done(); ++steps) {
    REQUIRE(steps < 1000);
    while (auto out = core.NextSend(clock.Now())) net.Send(*out);
    if (!net.inbound.empty()) {
      auto in = std::move(net.inbound.front());
      net.inbound.pop_front();
      clock.Advance(std::chrono::milliseconds(5));
      core.OnDatagram(in.bytes, in.from, clock.Now());
      continue;
    }
    auto next = core.NextExpiry();
    REQUIRE(next.has_value());
    if (*next > clock.Now()) clock.Advance(*next - clock.Now());
    core.HandleExpiry(clock.Now());
  }
  return core.report();
}

TEST_CASE("NAT discovery classifies every mapping x filtering combination (RFC 5780)") {
  struct Case {
    Behavior mapping, filtering;
    const char* name;
  };
  const Case cases[] = {
      {Behavior::kEndpointIndependent, Behavior::kEndpointIndependent, "Full Cone NAT"},
      {Behavior::kEndpointIndependent, Behavior::kAddressDependent, "Restricted Cone NAT"},
      {Behavior::kEndpointIndependent, Behavior::kAddressAndPortDependent,
       "Port-Restricted Cone NAT"},
      {Behavior::kAddressDependent, Behavior::kAddressAndPortDependent, "Symmetric NAT"},
      {Behavior::kAddressAndPortDependent, Behavior::kAddressAndPortDependent, "Symmetric NAT"},
      {Behavior::kAddressAndPortDependent, Behavior::kEndpointIndependent, "Symmetric NAT"},
      {Behavior::kNoNat, Behavior::kEndpointIndependent, "Open Internet (no NAT)"},
      {Behavior::kNoNat, Behavior::kAddressAndPortDependent, "No NAT, behind a stateful firewall"},
  };
  for (const Case& c : cases) {
    INFO(ToString(c.mapping) << " / " << ToString(c.filtering));
    FakeNetwork net;
    net.mapping = c.mapping;
    net.filtering = c.filtering;
    net.AddServer(Rfc5780Server());
    FakeClock clock;
    NatReport r = Run(net, {kA}, clock);
    CHECK_FALSE(r.udp_blocked);
    CHECK(r.mapping == c.mapping);
    CHECK(r.filtering == c.filtering);
    CHECK(r.ClassicName() == c.name);
    CHECK(r.rfc5780_server == kA);
    REQUIRE(r.public_endpoint.has_value());
    CHECK(r.public_endpoint->AddressString() ==
          (c.mapping == Behavior::kNoNat ? "10.0.0.2" : "198.51.100.1"));
    REQUIRE(r.probes.size() == 1);
    CHECK(r.probes[0].result.other_address == kB);
  }
}

TEST_CASE("Hairpinning is detected when our own request comes back") {
  for (bool hairpin : {true, false}) {
    FakeNetwork net;
    net.hairpin = hairpin;
    net.filtering = Behavior::kAddressAndPortDependent;
    net.AddServer(Rfc5780Server());
    FakeClock clock;
    NatReport r = Run(net, {kA}, clock);
    CHECK(r.ClassicName() == "Port-Restricted Cone NAT");
    CHECK(r.Recommendation() == "Direct P2P connections should work with hole punching");
    CHECK(r.hairpinning == (hairpin ? Hairpinning::kSupported : Hairpinning::kNotSupported));
  }
}

TEST_CASE("UDP blocked: no server answers, after the full RFC 8489 wait") {
  FakeNetwork net;
  net.blocked = true;
  net.AddServer(Rfc5780Server());
  FakeClock clock;
  const MonoTime t0 = clock.Now();
  NatReport r = Run(net, {kA, kOther}, clock);
  CHECK(r.udp_blocked);
  CHECK(r.ClassicName() == "UDP blocked");
  CHECK(r.Recommendation().find("relay") != std::string::npos);
  CHECK(net.sent == 14);  // 7 sends to each server
  CHECK(clock.Now() - t0 == std::chrono::milliseconds(39500));
  CHECK(r.probes[0].result.outcome == Outcome::kTimeout);
}

TEST_CASE("Without RFC 5780, mapping is judged by comparing servers") {
  for (auto [mapping, name] :
       {std::pair{Behavior::kEndpointIndependent, "Cone NAT (filtering not tested)"},
        std::pair{Behavior::kAddressAndPortDependent, "Symmetric NAT"}}) {
    FakeNetwork net;
    net.mapping = mapping;
    net.AddServer(PlainServer(kA));
    net.AddServer(PlainServer(kOther));
    FakeClock clock;
    NatReport r = Run(net, {kA, kOther}, clock);
    CHECK(r.ClassicName() == name);
    CHECK(r.filtering == Behavior::kUnknown);
    CHECK_FALSE(r.rfc5780_server.has_value());
    CHECK(r.note.find("OTHER-ADDRESS") != std::string::npos);
    REQUIRE(r.probes.size() == 2);
    CHECK(r.probes[0].result.outcome == Outcome::kSuccess);
    CHECK(r.probes[1].result.outcome == Outcome::kSuccess);
  }
  // A single plain server: mapping unknown.
  FakeNetwork net;
  net.AddServer(PlainServer(kA));
  FakeClock clock;
  NatReport r = Run(net, {kA}, clock);
  CHECK(r.mapping == Behavior::kUnknown);
  CHECK(r.ClassicName() == "Unknown");
}

TEST_CASE("The RFC 5780 server is used even when listed after a plain one") {
  FakeNetwork net;
  net.mapping = Behavior::kAddressDependent;
  net.filtering = Behavior::kAddressDependent;
  net.AddServer(PlainServer(kOther));
  net.AddServer(Rfc5780Server());
  FakeClock clock;
  NatReport r = Run(net, {kOther, kA}, clock);
  CHECK(r.rfc5780_server == kA);
  CHECK(r.mapping == Behavior::kAddressDependent);
  CHECK(r.filtering == Behavior::kAddressDependent);
  CHECK(r.ClassicName() == "Symmetric NAT");
  CHECK(NatDiscovery::Create({}, clock.Now()).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace meshvpn::stun
