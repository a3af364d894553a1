// Candidate gathering: local candidates, interface filtering, and the STUN part against stun's
// own Server core behind simulated NATs - including the verdict "mapping varies" (hard NAT).
#include "meshvpn/holepunch/candidates.h"

#include <catch2/catch.hpp>

#include "meshvpn/holepunch/interfaces.h"
#include "sim_network.h"

namespace meshvpn::holepunch {
namespace {

using sim::Ep;

TEST_CASE("local candidates: the socket's port on each address, no wildcards, no duplicates") {
  const std::vector<udp::Endpoint> addrs = {Ep("192.168.1.2:0"), Ep("0.0.0.0:0"),
                                            Ep("192.168.1.2:0"), Ep("10.0.0.1:0"),
                                            Ep("10.0.0.2:0")};
  const auto c = LocalCandidates(addrs, 4000, 2);
  REQUIRE(c.size() == 2);
  CHECK(c[0] == Candidate{Ep("192.168.1.2:4000"), CandidateKind::kLocal});
  CHECK(c[1] == Candidate{Ep("10.0.0.1:4000"), CandidateKind::kLocal});
  CHECK(ToString(c[0]) == "192.168.1.2:4000 (local)");
}

TEST_CASE("MappingVaries") {
  CHECK(!MappingVaries({}));
  CHECK(!MappingVaries({Ep("1.2.3.4:5")}));
  CHECK(!MappingVaries({Ep("1.2.3.4:5"), Ep("1.2.3.4:5")}));
  CHECK(MappingVaries({Ep("1.2.3.4:5"), Ep("1.2.3.4:6")}));
}

TEST_CASE("interface addresses are filtered as asked") {
  const std::vector<udp::Endpoint> all = {
      Ep("127.0.0.1:0"),   Ep("192.168.1.2:9"),   Ep("[::1]:0"),      Ep("[fe80::1]:0"),
      Ep("169.254.1.1:0"), Ep("[2001:db8::1]:0"), Ep("192.168.1.2:0")};
  CHECK(FilterAddresses(all, {}) ==
        std::vector<udp::Endpoint>{Ep("192.168.1.2:0"), Ep("[2001:db8::1]:0")});
  InterfaceFilter f;
  f.loopback = true;
  f.ipv6 = false;
  CHECK(FilterAddresses(all, f) ==
        std::vector<udp::Endpoint>{Ep("127.0.0.1:0"), Ep("192.168.1.2:0")});
  // The real host: whatever it has, nothing filtered out comes back.
  auto real = InterfaceAddresses();
  REQUIRE(real.ok());
  for (const udp::Endpoint& e : *real) {
    CHECK(e.port() == 0);
    CHECK(!e.IsLoopback());
  }
}

struct GatherWorld {
  FakeClock clock;
  sim::Network net{&clock};
  // An RFC 5780 server: 192.0.2.1 and 192.0.2.2, ports 3478 and 3479.
  sim::StunServerCore server{*stun::Server::Create(
      stun::ServerConfig{Ep("192.0.2.1:3478"), Ep("192.0.2.2:3479"), "test", true})};
  GatherWorld() {
    net.AddPublic(&server, {server.SlotEndpoint(0), server.SlotEndpoint(1), server.SlotEndpoint(2),
                            server.SlotEndpoint(3)});
  }
  GatherResult Gather(const sim::NatType& type, std::vector<udp::Endpoint> servers,
                      Duration* took = nullptr) {
    const size_t node = net.AddHost(nullptr, type);
    GatherOptions o;
    o.stun_servers = std::move(servers);
    o.local_addresses = {net.HostAddress(node)};
    o.port = 4000;
    auto g = CandidateGatherer::Create(o, clock.Now());
    REQUIRE(g.ok());
    net.SetCore(node, g->get());
    const MonoTime start = clock.Now();
    REQUIRE(net.Run(std::chrono::seconds(10), [&] { return (*g)->Done(); }));
    if (took) *took = clock.Now() - start;
    GatherResult r = (*g)->result();
    net.SetCore(node, nullptr);
    return r;
  }
};

TEST_CASE("gathering behind an endpoint-independent NAT: one public endpoint for all servers") {
  GatherWorld w;
  const GatherResult r =
      w.Gather(sim::kPortRestricted, {Ep("192.0.2.1:3478"), Ep("192.0.2.2:3479")});
  REQUIRE(r.answers.size() == 2);
  CHECK(r.answers[0].outcome == stun::Outcome::kSuccess);
  CHECK(r.answers[0].rtt == std::chrono::milliseconds(20));
  CHECK(!r.mapping_varies);
  REQUIRE(r.candidates.size() == 2);
  CHECK(r.candidates[0] == Candidate{Ep("10.0.1.2:4000"), CandidateKind::kLocal});
  CHECK(r.candidates[1] == Candidate{Ep("198.51.100.1:4000"), CandidateKind::kStun});
}

TEST_CASE("gathering behind a symmetric NAT: the mapping varies by destination") {
  GatherWorld w;
  const GatherResult r = w.Gather(sim::kSymmetric, {Ep("192.0.2.1:3478"), Ep("192.0.2.2:3479")});
  CHECK(r.mapping_varies);
  REQUIRE(r.candidates.size() == 3);
  CHECK(r.candidates[1].kind == CandidateKind::kStun);
  CHECK(r.candidates[2].kind == CandidateKind::kStun);
  CHECK(!(r.candidates[1].endpoint == r.candidates[2].endpoint));
}

TEST_CASE("gathering with UDP blocked gives up after 2.2 s with local candidates only") {
  GatherWorld w;
  Duration took{};
  const GatherResult r = w.Gather(sim::kUdpBlocked, {Ep("192.0.2.1:3478")}, &took);
  CHECK(took == std::chrono::milliseconds(2200));
  CHECK(r.answers[0].outcome == stun::Outcome::kTimeout);
  CHECK(r.candidates.size() == 1);
  CHECK(!r.mapping_varies);
}

TEST_CASE("gathering without STUN servers is done at once") {
  GatherOptions o;
  o.local_addresses = {Ep("192.168.1.2:0")};
  o.port = 7;
  auto g = CandidateGatherer::Create(o, MonoTime{});
  REQUIRE(g.ok());
  CHECK((*g)->Done());
  CHECK((*g)->result().candidates.size() == 1);
  CHECK(!(*g)->NextExpiry().has_value());
}

}  // namespace
}  // namespace meshvpn::holepunch
