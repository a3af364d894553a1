// The whole flow - STUN, rendezvous, punch - for two Sessions behind simulated NATs, with an
// RFC 5780 STUN server (stun's own core) and the rendezvous server core on the "internet".
#include "meshvpn/holepunch/session.h"

#include <catch2/catch.hpp>

#include "meshvpn/holepunch/rendezvous_server.h"
#include "meshvpn/x25519/x25519.h"
#include "sim_network.h"

namespace meshvpn::holepunch {
namespace {

using sim::Ep;
using std::chrono::milliseconds;
using std::chrono::seconds;

const udp::Endpoint kRendezvous = Ep("192.0.2.20:9000");

struct Side {
  size_t node = 0;
  std::unique_ptr<Session> session;
  std::vector<Event> events;
  void Drain() {
    while (auto e = session->NextEvent()) events.push_back(std::move(*e));
  }
  const Event* Find(EventType t) const {
    for (const Event& e : events) {
      if (e.type == t) return &e;
    }
    return nullptr;
  }
};

struct World {
  FakeClock clock;
  sim::Network net{&clock};
  sim::StunServerCore stun{*stun::Server::Create(
      stun::ServerConfig{Ep("192.0.2.1:3478"), Ep("192.0.2.2:3479"), "test", true})};
  RendezvousServer rendezvous;
  Side a, b;

  World(const sim::NatType& ta, const sim::NatType& tb, SessionOptions base = {}) {
    net.AddPublic(&stun, {stun.SlotEndpoint(0), stun.SlotEndpoint(1), stun.SlotEndpoint(2),
                          stun.SlotEndpoint(3)});
    net.AddPublic(&rendezvous, {kRendezvous});
    a.node = net.AddHost(nullptr, ta);
    b.node = net.AddHost(nullptr, tb);
    for (Side* s : {&a, &b}) {
      SessionOptions o = base;
      o.name = s == &a ? "alice" : "bob";
      o.peer = s == &a ? "bob" : "alice";
      o.rendezvous = kRendezvous;
      o.stun_servers = {Ep("192.0.2.1:3478"), Ep("192.0.2.2:3479")};
      o.local_addresses = {net.HostAddress(s->node)};
      o.port = 4000;
      auto session = Session::Create(std::move(o), clock.Now());
      REQUIRE(session.ok());
      s->session = std::move(*session);
      net.SetCore(s->node, s->session.get());
    }
  }
  bool Run(Duration limit, const std::function<bool()>& done) {
    const bool r = net.Run(limit, [&] {
      a.Drain();
      b.Drain();
      return done();
    });
    a.Drain();
    b.Drain();
    return r;
  }
  bool Settled(const Side& s) const {
    const SessionState st = s.session->state();
    return st == SessionState::kDirect || st == SessionState::kRelay || st == SessionState::kFailed;
  }
};

TEST_CASE("sessions: candidates, rendezvous and punch, for every pair of NAT types") {
  struct Expect {
    const sim::NatType& a;
    const sim::NatType& b;
    SessionState want;
  };
  const Expect cases[] = {
      {sim::kNone, sim::kNone, SessionState::kDirect},
      {sim::kFullCone, sim::kFullCone, SessionState::kDirect},
      {sim::kRestricted, sim::kPortRestricted, SessionState::kDirect},
      {sim::kPortRestricted, sim::kPortRestricted, SessionState::kDirect},
      {sim::kSymmetric, sim::kFullCone, SessionState::kDirect},
      {sim::kSymmetric, sim::kRestricted, SessionState::kDirect},
      {sim::kSymmetric, sim::kNone, SessionState::kDirect},
      {sim::kSymmetric, sim::kPortRestricted, SessionState::kRelay},
      {sim::kPortRestricted, sim::kSymmetric, SessionState::kRelay},
      {sim::kSymmetric, sim::kSymmetric, SessionState::kRelay},
  };
  for (const Expect& c : cases) {
    INFO(c.a.name << " <-> " << c.b.name);
    World w(c.a, c.b);
    w.Run(seconds(15), [&] { return w.Settled(w.a) && w.Settled(w.b); });
    CHECK(w.a.session->state() == c.want);
    CHECK(w.b.session->state() == c.want);
    // The hard-NAT verdicts.
    CHECK(w.a.session->hard_nat() == (c.a.mapping == sim::Mapping::kAddressAndPortDependent));
    CHECK(w.b.session->peer_hard_nat() == w.a.session->hard_nat());
    // Gathering (2 STUN answers at 20 ms) then registering then punching: the bound counts
    // from the peer info, not from the start.
    const Event* found = w.a.Find(EventType::kPeerFound);
    REQUIRE(found != nullptr);
    if (c.want == SessionState::kRelay) {
      const Event* relay = w.a.Find(EventType::kRelayFallback);
      REQUIRE(relay != nullptr);
      CHECK(relay->at - found->at == seconds(5));
    } else {
      CHECK(w.a.Find(EventType::kDirect)->at - found->at < milliseconds(500));
    }
  }
}

TEST_CASE("sessions: the events a tool prints, in order") {
  World w(sim::kFullCone, sim::kPortRestricted);
  REQUIRE(w.Run(seconds(10), [&] { return w.a.session->state() == SessionState::kDirect; }));
  std::vector<EventType> types;
  for (const Event& e : w.a.events) {
    if (types.empty() || types.back() != e.type) types.push_back(e.type);
  }
  const std::vector<EventType> want = {EventType::kStunMapped,   EventType::kCandidates,
                                       EventType::kRegistered,   EventType::kPeerFound,
                                       EventType::kPunchStarted, EventType::kAttempt};
  REQUIRE(types.size() >= want.size());
  CHECK(std::vector<EventType>(types.begin(), types.begin() + want.size()) == want);
  CHECK(w.a.Find(EventType::kRegistered)->endpoint == Ep("198.51.100.1:4000"));
  CHECK(w.a.Find(EventType::kCandidates)->count == 2);
  CHECK(w.a.Find(EventType::kDirect) != nullptr);
  // Then a message each way.
  REQUIRE(w.Run(seconds(5), [&] { return w.b.session->state() == SessionState::kDirect; }));
  REQUIRE(w.a.session->SendMessage(AsBytes("Hello from alice!"), w.clock.Now()).ok());
  REQUIRE(w.b.session->SendMessage(AsBytes("Hello from bob!"), w.clock.Now()).ok());
  REQUIRE(w.Run(seconds(2), [&] {
    return w.a.Find(EventType::kMessageReceived) && w.b.Find(EventType::kMessageReceived);
  }));
  CHECK(w.a.Find(EventType::kMessageReceived)->text == "Hello from bob!");
  CHECK(w.b.Find(EventType::kMessageReceived)->text == "Hello from alice!");
}

TEST_CASE("sessions: UDP blocked - the rendezvous is unreachable, the peer never comes") {
  SessionOptions o;
  o.peer_timeout = seconds(10);
  World w(sim::kUdpBlocked, sim::kFullCone, o);
  w.Run(seconds(30), [&] { return w.Settled(w.a) && w.Settled(w.b); });
  CHECK(w.a.session->state() == SessionState::kFailed);
  CHECK(w.a.Find(EventType::kRendezvousUnreachable) != nullptr);
  CHECK(w.b.session->state() == SessionState::kFailed);
  CHECK(w.b.Find(EventType::kPeerTimeout) != nullptr);
}

TEST_CASE("sessions: birthday probing makes symmetric <-> port-restricted direct") {
  SessionOptions o;
  o.birthday = true;
  World w(sim::kSymmetric, sim::kPortRestricted, o);
  REQUIRE(w.Run(seconds(45), [&] {
    return w.a.session->state() == SessionState::kDirect &&
           w.b.session->state() == SessionState::kDirect;
  }));
  CHECK(w.a.session->birthday_role() == BirthdayRole::kHardSide);
  CHECK(w.b.session->birthday_role() == BirthdayRole::kEasySide);
  CHECK(w.a.Find(EventType::kRelayFallback) != nullptr);  // first the standard bound
  CHECK(w.b.Find(EventType::kBirthdayStarted) != nullptr);
  CHECK(w.b.Find(EventType::kDirect)->flag);
}

TEST_CASE("sessions: a pinned peer key that does not match is refused") {
  SessionOptions o;
  o.expected_peer_key = x25519::GenerateKeyPair()->public_key;
  World w(sim::kNone, sim::kNone, o);
  w.Run(seconds(5), [&] { return w.Settled(w.a) && w.Settled(w.b); });
  CHECK(w.a.session->state() == SessionState::kFailed);
  CHECK(w.a.Find(EventType::kPeerKeyMismatch) != nullptr);
  CHECK(w.a.session->punch() == nullptr);
}

TEST_CASE("sessions: bad names are refused at creation") {
  SessionOptions o;
  o.name = "alice";
  o.peer = "alice";
  CHECK(!Session::Create(o, MonoTime{}).ok());
  o.peer = "B0B";
  CHECK(!Session::Create(o, MonoTime{}).ok());
}

}  // namespace
}  // namespace meshvpn::holepunch
