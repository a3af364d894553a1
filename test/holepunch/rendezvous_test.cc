// The rendezvous server and client cores: pairing (both told at once), leases and name
// ownership, resends, the unreachable and no-peer bounds, and spoofed answers.
#include <catch2/catch.hpp>

#include "meshvpn/holepunch/rendezvous_client.h"
#include "meshvpn/holepunch/rendezvous_server.h"
#include "meshvpn/x25519/x25519.h"
#include "sim_network.h"

namespace meshvpn::holepunch {
namespace {

using sim::Ep;
using std::chrono::milliseconds;
using std::chrono::seconds;

const udp::Endpoint kServer = Ep("192.0.2.20:9000");

struct World {
  FakeClock clock;
  sim::Network net{&clock};
  RendezvousServer server;
  std::vector<std::unique_ptr<RendezvousClient>> clients;

  World() { net.AddPublic(&server, {kServer}); }

  RendezvousClient* Add(const sim::NatType& type, const std::string& name, const std::string& peer,
                        std::optional<x25519::PublicKey> key = {}) {
    const size_t node = net.AddHost(nullptr, type);
    RendezvousClientOptions o;
    o.server = kServer;
    o.name = name;
    o.peer = peer;
    o.key = key ? *key : x25519::GenerateKeyPair()->public_key;
    o.candidates = {{net.HostEndpoint(node), CandidateKind::kLocal}};
    auto c = RendezvousClient::Create(o, clock.Now());
    REQUIRE(c.ok());
    clients.push_back(std::move(*c));
    net.SetCore(node, clients.back().get());
    return clients.back().get();
  }
  std::vector<ServerEvent> ServerEvents() {
    std::vector<ServerEvent> out;
    while (auto e = server.NextEvent()) out.push_back(std::move(*e));
    return out;
  }
};

std::vector<Event> Events(RendezvousClient* c) {
  std::vector<Event> out;
  while (auto e = c->NextEvent()) out.push_back(std::move(*e));
  return out;
}

TEST_CASE("two peers that want each other both get the other's info at the same moment") {
  World w;
  RendezvousClient* alice = w.Add(sim::kPortRestricted, "alice", "bob");
  REQUIRE(w.net.Run(seconds(1), [&] { return alice->state() == RendezvousState::kWaiting; }));
  CHECK(alice->observed() == Ep("198.51.100.1:4000"));
  // Alice waits, resending (once a second) to keep her NAT's mapping to the server open.
  w.net.Run(seconds(3), [] { return false; });
  CHECK(alice->state() == RendezvousState::kWaiting);
  CHECK(alice->sends() == 5);  // 0, 0.25, 0.75, 1.75, 2.75
  RendezvousClient* bob = w.Add(sim::kSymmetric, "bob", "alice");
  MonoTime alice_paired{}, bob_paired{};
  REQUIRE(w.net.Run(seconds(2), [&] {
    if (alice->state() == RendezvousState::kPaired && alice_paired == MonoTime{}) {
      alice_paired = w.clock.Now();
    }
    if (bob->state() == RendezvousState::kPaired && bob_paired == MonoTime{}) {
      bob_paired = w.clock.Now();
    }
    return alice_paired != MonoTime{} && bob_paired != MonoTime{};
  }));
  CHECK(alice_paired == bob_paired);  // pushed to both by bob's first Register
  const PeerInfo& about_bob = *alice->peer_info();
  CHECK(about_bob.name == "bob");
  // Bob's own candidate plus where the server saw him.
  REQUIRE(about_bob.candidates.size() == 2);
  CHECK(about_bob.candidates[0].kind == CandidateKind::kLocal);
  CHECK(about_bob.candidates[1].kind == CandidateKind::kRendezvous);
  CHECK(about_bob.candidates[1].endpoint.WithPort(0) == Ep("198.51.100.2:0"));
  CHECK(bob->peer_info()->name == "alice");
  // Paired clients stop sending; the server logged the pair once.
  const int sends = alice->sends();
  w.net.Run(seconds(5), [] { return false; });
  CHECK(alice->sends() == sends);
  CHECK(!alice->NextExpiry().has_value());
  int paired = 0;
  for (const ServerEvent& e : w.ServerEvents()) {
    if (e.type == ServerEvent::Type::kPaired) ++paired;
  }
  CHECK(paired == 1);
  CHECK(w.server.stats().pairs == 1);
  auto ev = Events(alice);
  REQUIRE(ev.size() == 2);
  CHECK(ev[0].type == EventType::kRegistered);
  CHECK(ev[1].type == EventType::kPeerFound);
  CHECK(ev[1].text == "bob");
}

TEST_CASE("a name belongs to its key for the lease, then anyone may take it") {
  World w;
  const auto key = x25519::GenerateKeyPair()->public_key;
  RendezvousClient* first = w.Add(sim::kNone, "alice", "bob", key);
  REQUIRE(w.net.Run(seconds(1), [&] { return first->state() == RendezvousState::kWaiting; }));
  RendezvousClient* thief = w.Add(sim::kNone, "alice", "carol");
  REQUIRE(w.net.Run(seconds(1), [&] { return thief->state() == RendezvousState::kFailed; }));
  auto ev = Events(thief);
  REQUIRE(!ev.empty());
  CHECK(ev.back().type == EventType::kRegisterRejected);
  CHECK(ev.back().text == "name taken by another key");
  // The same key from another address (a restart, a new NAT mapping) is fine.
  RendezvousClient* again = w.Add(sim::kFullCone, "alice", "bob", key);
  REQUIRE(w.net.Run(seconds(1), [&] { return again->state() == RendezvousState::kWaiting; }));
  CHECK(w.server.peers() == 1);
}

TEST_CASE("registrations expire after the lease") {
  World w;
  w.server = RendezvousServer(RendezvousServerOptions{seconds(3), 4096});
  RendezvousClient* a = w.Add(sim::kNone, "alice", "bob");
  w.net.Run(milliseconds(500), [] { return false; });
  CHECK(w.server.peers() == 1);
  w.net.SetCore(0, nullptr);  // the server keeps time but hears nothing more
  w.server.HandleExpiry(w.clock.Now() + seconds(4));
  CHECK(w.server.peers() == 0);
  CHECK(w.server.stats().expired == 1);
  (void)a;
}

TEST_CASE("an unreachable server is reported after 5 s, a peer that never comes after its bound") {
  World w;
  RendezvousClient* blocked = w.Add(sim::kUdpBlocked, "alice", "bob");
  const MonoTime start = w.clock.Now();
  REQUIRE(w.net.Run(seconds(10), [&] { return blocked->state() == RendezvousState::kFailed; }));
  CHECK(w.clock.Now() - start == seconds(5));
  CHECK(blocked->sends() == 7);  // 0, 0.25, 0.75, 1.75, 2.75, 3.75, 4.75
  auto ev = Events(blocked);
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].type == EventType::kRendezvousUnreachable);

  RendezvousClientOptions o;
  o.server = kServer;
  o.name = "carol";
  o.peer = "dave";
  o.peer_timeout = seconds(8);
  const size_t node = w.net.AddHost(nullptr, sim::kFullCone);
  auto carol = *RendezvousClient::Create(o, w.clock.Now());
  w.net.SetCore(node, carol.get());
  REQUIRE(w.net.Run(seconds(20), [&] { return carol->state() == RendezvousState::kFailed; }));
  ev = Events(carol.get());
  CHECK(ev.back().type == EventType::kPeerTimeout);
  w.net.SetCore(node, nullptr);
}

TEST_CASE("answers with another nonce, or from another address, are ignored") {
  FakeClock clock;
  RendezvousClientOptions o;
  o.server = kServer;
  o.name = "alice";
  o.peer = "bob";
  o.nonce = 1234;
  auto c = *RendezvousClient::Create(o, clock.Now());
  std::array<uint8_t, 512> buf{};
  PeerInfo info;
  info.nonce = 999;
  info.name = "bob";
  size_t n = Encode(info, buf);
  c->OnDatagram(ByteSpan(buf.data(), n), kServer, 0, clock.Now());
  CHECK(c->state() == RendezvousState::kRegistering);
  info.nonce = 1234;
  n = Encode(info, buf);
  c->OnDatagram(ByteSpan(buf.data(), n), Ep("192.0.2.66:9000"), 0, clock.Now());
  CHECK(c->state() == RendezvousState::kRegistering);
  info.name = "mallory";
  n = Encode(info, buf);
  c->OnDatagram(ByteSpan(buf.data(), n), kServer, 0, clock.Now());
  CHECK(c->state() == RendezvousState::kRegistering);
  info.name = "bob";
  n = Encode(info, buf);
  c->OnDatagram(ByteSpan(buf.data(), n), kServer, 0, clock.Now());
  CHECK(c->state() == RendezvousState::kPaired);
}

TEST_CASE("the server drops what is not a Register and refuses bad requests") {
  FakeClock clock;
  RendezvousServer s(RendezvousServerOptions{seconds(30), 1});
  const uint8_t junk[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  CHECK(s.HandleDatagram(junk, Ep("192.0.2.1:1"), clock.Now()) == ServerDrop::kMalformed);
  std::array<uint8_t, 512> buf{};
  RegisterAck ack;
  size_t n = Encode(ack, buf);
  CHECK(s.HandleDatagram(ByteSpan(buf.data(), n), Ep("192.0.2.1:1"), clock.Now()) ==
        ServerDrop::kNotRequest);
  Register r;
  r.nonce = 1;
  r.name = "alice";
  r.peer = "alice";
  n = Encode(r, buf);
  CHECK(s.HandleDatagram(ByteSpan(buf.data(), n), Ep("192.0.2.1:1"), clock.Now()) ==
        ServerDrop::kNone);
  auto reply = s.NextSend(clock.Now());
  REQUIRE(reply.has_value());
  RegisterError err;
  REQUIRE(Decode(reply->data, &err) == ParseError::kOk);
  CHECK(err.code == RegisterErrorCode::kBadRequest);
  // max_peers = 1: a second name is refused.
  r.peer = "bob";
  n = Encode(r, buf);
  (void)s.HandleDatagram(ByteSpan(buf.data(), n), Ep("192.0.2.1:1"), clock.Now());
  r.name = "carol";
  n = Encode(r, buf);
  (void)s.HandleDatagram(ByteSpan(buf.data(), n), Ep("192.0.2.1:2"), clock.Now());
  CHECK(s.peers() == 1);
  CHECK(s.stats().errors == 2);
  CHECK(s.stats().drops[static_cast<size_t>(ServerDrop::kMalformed)] == 1);
  CHECK(!RendezvousClient::Create(RendezvousClientOptions{kServer, "Al ice", "bob"}, clock.Now())
             .ok());
  CHECK(
      !RendezvousClient::Create(RendezvousClientOptions{kServer, "bob", "bob"}, clock.Now()).ok());
}

}  // namespace
}  // namespace meshvpn::holepunch
