// The punch state machine against a simulated NAT pair (sim_network.h) with a FakeClock: which
// NAT pairs connect directly, the attempt schedule, the 5 s bound, forgery and replay, keepalives
// and path loss, messages, and birthday probing of a symmetric NAT.
#include "meshvpn/holepunch/punch.h"

#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "meshvpn/x25519/x25519.h"
#include "sim_network.h"

namespace meshvpn::holepunch {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const udp::Endpoint kStunServer = sim::Ep("192.0.2.1:3478");
const udp::Endpoint kRendezvous = sim::Ep("192.0.2.20:9000");

int64_t Ms(Duration d) { return std::chrono::duration_cast<milliseconds>(d).count(); }

struct Peer {
  x25519::KeyPair keys;
  size_t node = 0;
  std::vector<Candidate> candidates;  // what the other side is told
  std::unique_ptr<Punch> punch;
  std::vector<Event> events;

  void Drain() {
    while (auto e = punch->NextEvent()) events.push_back(std::move(*e));
  }
  int Count(EventType t) const {
    return static_cast<int>(
        std::count_if(events.begin(), events.end(), [t](const Event& e) { return e.type == t; }));
  }
  const Event* Find(EventType t) const {
    for (const Event& e : events) {
      if (e.type == t) return &e;
    }
    return nullptr;
  }
};

// Two peers behind NATs of the given types; each knows the other's local candidate and the
// public endpoints a STUN server and the rendezvous server saw (as a real Session would).
struct PunchPair {
  FakeClock clock;
  sim::Network net{&clock};
  Peer a, b;

  PunchPair(const sim::NatType& ta, const sim::NatType& tb, PunchOptions oa = {},
            PunchOptions ob = {}) {
    a.keys = *x25519::GenerateKeyPair();
    b.keys = *x25519::GenerateKeyPair();
    a.node = net.AddHost(nullptr, ta);
    b.node = net.AddHost(nullptr, tb);
    for (Peer* p : {&a, &b}) {
      p->candidates = {{net.HostEndpoint(p->node), CandidateKind::kLocal}};
      // A UDP-blocked host reaches no server: it has no reflexive candidates.
      const sim::NatType& t = p == &a ? ta : tb;
      if (t.blocked) continue;
      const udp::Endpoint s = net.Reflexive(p->node, 0, kStunServer);
      const udp::Endpoint r = net.Reflexive(p->node, 0, kRendezvous);
      if (!(s == net.HostEndpoint(p->node))) p->candidates.push_back({s, CandidateKind::kStun});
      if (!(r == s) && !(r == net.HostEndpoint(p->node))) {
        p->candidates.push_back({r, CandidateKind::kRendezvous});
      }
    }
    const SessionKey ka =
        *SessionKey::Derive(a.keys.private_key, a.keys.public_key, b.keys.public_key);
    const SessionKey kb =
        *SessionKey::Derive(b.keys.private_key, b.keys.public_key, a.keys.public_key);
    a.punch = *Punch::Create(a.keys.public_key, ka, b.keys.public_key, b.candidates, oa);
    b.punch = *Punch::Create(b.keys.public_key, kb, a.keys.public_key, a.candidates, ob);
    net.SetCore(a.node, a.punch.get());
    net.SetCore(b.node, b.punch.get());
  }

  void Start() {
    a.punch->Start(clock.Now());
    b.punch->Start(clock.Now());
  }
  bool BothDirect() const {
    return a.punch->state() == PunchState::kDirect && b.punch->state() == PunchState::kDirect;
  }
  bool BothRelay() const {
    return a.punch->state() == PunchState::kRelay && b.punch->state() == PunchState::kRelay;
  }
  bool RunUntil(Duration limit, const std::function<bool()>& done) {
    const bool r = net.Run(limit, [&] {
      a.Drain();
      b.Drain();
      return done();
    });
    a.Drain();
    b.Drain();
    return r;
  }
};

TEST_CASE("standard punching: which NAT pairs connect directly (simulated)") {
  // Direct unless: either side drops UDP, both are symmetric, or symmetric meets a filter that
  // admits only the exact address:port it sent to (port-restricted). Symmetric vs restricted
  // cone works: the restricted side has sent to the symmetric side's address, so the ping from
  // the symmetric side's new port gets in, and the restricted side learns that port from it
  // (peer-reflexive) - the seed's matrix marks that pair as failing; see docs/holepunch.md.
  auto expect_direct = [](const sim::NatType& x, const sim::NatType& y) {
    if (x.blocked || y.blocked) return false;
    const bool xs = x.mapping == sim::Mapping::kAddressAndPortDependent;
    const bool ys = y.mapping == sim::Mapping::kAddressAndPortDependent;
    if (xs && ys) return false;
    if (xs) return y.filtering != sim::Filtering::kAddressAndPortDependent;
    if (ys) return x.filtering != sim::Filtering::kAddressAndPortDependent;
    return true;
  };
  for (const sim::NatType& x : sim::kAllTypes) {
    for (const sim::NatType& y : sim::kAllTypes) {
      INFO(x.name << " <-> " << y.name);
      PunchPair p(x, y);
      p.Start();
      p.RunUntil(seconds(6), [&] { return p.BothDirect() || p.BothRelay(); });
      if (expect_direct(x, y)) {
        CHECK(p.BothDirect());
        // One round trip after both have sent: well inside the first few attempts.
        REQUIRE(p.a.Find(EventType::kDirect) != nullptr);
        CHECK(p.a.Find(EventType::kDirect)->elapsed < milliseconds(500));
        CHECK(p.a.Find(EventType::kDirect)->rtt == milliseconds(20));
      } else {
        CHECK(p.BothRelay());
        // Declared at the bound, not before and not after.
        REQUIRE(p.a.Find(EventType::kRelayFallback) != nullptr);
        CHECK(p.a.Find(EventType::kRelayFallback)->elapsed == seconds(5));
        CHECK(p.a.Count(EventType::kDirect) == 0);
      }
    }
  }
}

TEST_CASE("attempts go to every candidate at once, backing off from 100 ms to 1 s") {
  PunchPair p(sim::kSymmetric, sim::kSymmetric);
  p.Start();
  p.RunUntil(seconds(10), [&] { return p.BothRelay(); });
  std::vector<int64_t> at;
  for (const Event& e : p.a.events) {
    if (e.type == EventType::kAttempt) {
      at.push_back(Ms(e.elapsed));
      CHECK(e.value == static_cast<int64_t>(p.b.candidates.size()));
    }
  }
  CHECK(at == std::vector<int64_t>{0, 100, 300, 700, 1500, 2500, 3500, 4500});
  CHECK(p.a.punch->stats().pings_sent == 8 * p.b.candidates.size());
  CHECK(p.a.Find(EventType::kRelayFallback)->count == 8);
  // After the fallback nothing more is sent.
  const uint64_t sent = p.a.punch->stats().pings_sent;
  p.RunUntil(seconds(30), [] { return false; });
  CHECK(p.a.punch->stats().pings_sent == sent);
  CHECK(!p.a.punch->NextExpiry().has_value());
}

TEST_CASE("the symmetric side's port is learned from its ping (peer-reflexive)") {
  PunchPair p(sim::kSymmetric, sim::kFullCone);
  p.Start();
  REQUIRE(p.RunUntil(seconds(6), [&] { return p.BothDirect(); }));
  // b (full cone) could not know a's port toward it: it learned it from a's ping.
  const Event* prflx = p.b.Find(EventType::kPeerReflexive);
  REQUIRE(prflx != nullptr);
  CHECK(p.b.punch->current_path()->remote.kind == CandidateKind::kPeerReflexive);
  CHECK(p.b.punch->current_path()->remote.endpoint == prflx->candidate.endpoint);
  CHECK(prflx->candidate.endpoint.WithPort(0) == p.net.PublicAddress(p.a.node));
  // a reached b at the endpoint the STUN server saw.
  CHECK(p.a.punch->current_path()->remote.kind == CandidateKind::kStun);
  // The pong tells each side its public endpoint as the other sees it.
  CHECK(p.a.Find(EventType::kDirect)->endpoint == prflx->candidate.endpoint);
}

TEST_CASE("probes with a wrong MAC, from a stranger, or replayed are dropped") {
  PunchPair p(sim::kNone, sim::kNone);
  p.Start();
  const MonoTime now = p.clock.Now();
  const udp::Endpoint from = p.net.HostEndpoint(p.b.node);
  // A ping signed with another key (an attacker who knows b's public key, not the session key).
  Ping ping;
  ping.sender = p.b.keys.public_key;
  std::array<uint8_t, 32> other{};
  other[0] = 1;
  std::array<uint8_t, kPingSize> wire{};
  REQUIRE(Encode(ping, SessionKey::FromBytes(other), wire) == kPingSize);
  CHECK(p.a.punch->Receive(wire, from, 0, now) == PunchDrop::kBadMac);
  // A ping from a key that is not the peer's.
  ping.sender = x25519::GenerateKeyPair()->public_key;
  REQUIRE(Encode(ping, SessionKey::FromBytes(other), wire) == kPingSize);
  CHECK(p.a.punch->Receive(wire, from, 0, now) == PunchDrop::kUnknownSender);
  // Garbage and a rendezvous message.
  const uint8_t junk[] = {1, 2, 3};
  CHECK(p.a.punch->Receive(junk, from, 0, now) == PunchDrop::kMalformed);
  RegisterAck ack;
  std::array<uint8_t, 64> ack_wire{};
  const size_t n = Encode(ack, ack_wire);
  CHECK(p.a.punch->Receive(ByteSpan(ack_wire.data(), n), from, 0, now) == PunchDrop::kNotForPunch);
  CHECK(p.a.punch->stats().pongs_sent == 0);

  // Capture a genuine pong from b to a, then replay it and send it from elsewhere.
  std::vector<uint8_t> pong;
  p.net.set_loss([&](const udp::Endpoint&, const udp::Endpoint&) { return false; });
  while (auto d = p.a.punch->NextSend(p.clock.Now())) {
    if (!(d->to == p.net.HostEndpoint(p.b.node))) continue;
    p.b.punch->OnDatagram(d->data, p.net.HostEndpoint(p.a.node), 0, p.clock.Now());
    while (auto r = p.b.punch->NextSend(p.clock.Now())) {
      if (PeekHeader(r->data).type == MessageType::kPong)
        pong.assign(r->data.begin(), r->data.end());
    }
    break;
  }
  REQUIRE(!pong.empty());
  const udp::Endpoint elsewhere = sim::Ep("192.0.2.99:1234");
  CHECK(p.a.punch->Receive(pong, elsewhere, 0, now) == PunchDrop::kPongFromUnexpectedAddress);
  CHECK(p.a.punch->Receive(pong, from, 1, now) == PunchDrop::kPongFromUnexpectedAddress);
  CHECK(p.a.punch->Receive(pong, from, 0, now) == PunchDrop::kNone);
  CHECK(p.a.punch->state() == PunchState::kDirect);
  CHECK(p.a.punch->Receive(pong, from, 0, now) == PunchDrop::kDuplicatePong);
  // A flipped bit anywhere is a bad MAC (or no longer parses).
  for (size_t i = 0; i < pong.size(); ++i) {
    std::vector<uint8_t> bad = pong;
    bad[i] ^= 0x01;
    CHECK(p.a.punch->Receive(bad, from, 0, now) != PunchDrop::kNone);
  }
  CHECK(p.a.punch->count(PunchDrop::kBadMac) >= 1);
}

TEST_CASE("keepalives hold the path, and when it dies the punch starts again, then falls back") {
  PunchOptions o;
  o.keepalive_interval = seconds(2);
  o.path_timeout = seconds(7);
  PunchPair p(sim::kPortRestricted, sim::kFullCone, o, o);
  p.Start();
  REQUIRE(p.RunUntil(seconds(6), [&] { return p.BothDirect(); }));
  const MonoTime direct_at = p.clock.Now();
  p.RunUntil(seconds(20), [] { return false; });
  CHECK(p.BothDirect());
  // One keepalive every 2 s, each answered.
  CHECK(p.a.Count(EventType::kKeepalive) >= 9);
  CHECK(p.a.Count(EventType::kPathLost) == 0);

  // Cut the link: no pong for 7 s -> lost, punching again (with a new 5 s bound) -> relay.
  p.net.set_loss([](const udp::Endpoint&, const udp::Endpoint&) { return true; });
  const MonoTime cut = p.clock.Now();
  p.RunUntil(seconds(20), [&] { return p.BothRelay(); });
  CHECK(p.BothRelay());
  REQUIRE(p.a.Find(EventType::kPathLost) != nullptr);
  CHECK(p.a.Find(EventType::kPathLost)->at - cut <= seconds(7));
  CHECK(p.a.Find(EventType::kPathLost)->at > direct_at);
  // The new round has its own 5 s bound, counted from the loss.
  CHECK(p.a.Find(EventType::kRelayFallback)->elapsed == seconds(5));
  CHECK(p.a.Find(EventType::kRelayFallback)->at - p.a.Find(EventType::kPathLost)->at == seconds(5));
  // Attempts restart at 1.
  int attempts_after_loss = 0;
  for (const Event& e : p.a.events) {
    if (e.type == EventType::kAttempt && e.at > p.a.Find(EventType::kPathLost)->at) {
      ++attempts_after_loss;
    }
  }
  CHECK(attempts_after_loss >= 7);
}

TEST_CASE("messages are delivered once, acked, and resent when lost") {
  PunchPair p(sim::kFullCone, sim::kRestricted);
  p.Start();
  REQUIRE(p.RunUntil(seconds(6), [&] { return p.BothDirect(); }));
  CHECK(!p.a.punch->SendMessage(AsBytes(std::string(kMaxTextSize + 1, 'x')), p.clock.Now()).ok());
  // Lose the first two copies a sends.
  int dropped = 0;
  p.net.set_loss([&](const udp::Endpoint& from, const udp::Endpoint&) {
    if (from.WithPort(0) == p.net.PublicAddress(p.a.node) && dropped < 2) {
      ++dropped;
      return true;
    }
    return false;
  });
  REQUIRE(p.a.punch->SendMessage(AsBytes("Hello from alice!"), p.clock.Now()).ok());
  CHECK(!p.a.punch->SendMessage(AsBytes("second"), p.clock.Now()).ok());  // one at a time
  REQUIRE(p.RunUntil(seconds(3), [&] { return !p.a.punch->message_pending(); }));
  REQUIRE(p.b.Find(EventType::kMessageReceived) != nullptr);
  CHECK(p.b.Find(EventType::kMessageReceived)->text == "Hello from alice!");
  CHECK(p.b.Count(EventType::kMessageReceived) == 1);
  REQUIRE(p.a.Find(EventType::kMessageDelivered) != nullptr);
  CHECK(p.a.Find(EventType::kMessageDelivered)->rtt == milliseconds(500 + 20));

  // Acks lost: b gets resends, delivers once, and a gives up after message_max_sends.
  p.net.set_loss([&](const udp::Endpoint& from, const udp::Endpoint&) {
    return from.WithPort(0) == p.net.PublicAddress(p.b.node);
  });
  REQUIRE(p.a.punch->SendMessage(AsBytes("again"), p.clock.Now()).ok());
  p.RunUntil(seconds(3), [&] { return !p.a.punch->message_pending(); });
  CHECK(p.a.Count(EventType::kMessageFailed) == 1);
  CHECK(p.b.Count(EventType::kMessageReceived) == 2);
}

TEST_CASE("birthday probing turns symmetric <-> port-restricted direct") {
  PunchOptions hard;
  hard.birthday = BirthdayRole::kHardSide;
  PunchOptions easy;
  easy.birthday = BirthdayRole::kEasySide;
  easy.seed = 42;
  PunchPair p(sim::kSymmetric, sim::kPortRestricted, hard, easy);
  p.Start();
  REQUIRE(p.RunUntil(seconds(40), [&] { return p.BothDirect(); }));
  // Standard punching failed first, at the bound; birthday probing then found a path.
  REQUIRE(p.b.Find(EventType::kRelayFallback) != nullptr);
  CHECK(p.b.Find(EventType::kRelayFallback)->elapsed == seconds(5));
  CHECK(p.a.punch->slot_count() == 256);
  const Event* direct = p.b.Find(EventType::kDirect);
  REQUIRE(direct != nullptr);
  CHECK(direct->flag);  // found by birthday probing
  CHECK(direct->candidate.kind == CandidateKind::kPredicted);
  CHECK(direct->elapsed < seconds(5) + seconds(30));
  // The hard side's path runs over one of its extra sockets.
  CHECK(p.a.punch->current_path()->slot > 0);
  INFO("birthday: " << p.b.punch->stats().spray_sent << " probes, "
                    << p.a.punch->stats().opener_sent << " openers, direct after "
                    << Ms(direct->elapsed) << " ms");
  // Rate-limited: never more than spray_rate probes per second of probing.
  CHECK(p.b.punch->stats().spray_sent <=
        static_cast<uint64_t>((Ms(direct->elapsed) - 5000) / 1000.0 * 200 + 2));
}

TEST_CASE("birthday probing gives up after its bound when both sides are hard") {
  PunchOptions o;
  o.birthday = BirthdayRole::kEasySide;  // a wrong guess: the peer is symmetric, and so are we
  o.birthday_timeout = seconds(4);
  PunchPair p(sim::kSymmetric, sim::kSymmetric, o, PunchOptions{});
  p.Start();
  p.RunUntil(seconds(12), [&] { return p.a.Count(EventType::kBirthdayGaveUp) > 0; });
  REQUIRE(p.a.Find(EventType::kBirthdayGaveUp) != nullptr);
  CHECK(p.a.Find(EventType::kBirthdayGaveUp)->elapsed == seconds(4));
  CHECK(p.a.punch->state() == PunchState::kRelay);
  CHECK(p.a.punch->stats().spray_sent <= 4 * 200 + 2);
}

TEST_CASE("Punch::Create rejects nonsense options") {
  const auto keys = *x25519::GenerateKeyPair();
  const SessionKey key = SessionKey::FromBytes(keys.public_key.bytes());
  PunchOptions o;
  o.timeout = Duration::zero();
  CHECK(!Punch::Create(keys.public_key, key, keys.public_key, {}, o).ok());
  o = PunchOptions{};
  o.path_timeout = o.keepalive_interval;
  CHECK(!Punch::Create(keys.public_key, key, keys.public_key, {}, o).ok());
  CHECK(Punch::Create(keys.public_key, key, keys.public_key, {}, PunchOptions{}).ok());
}

}  // namespace
}  // namespace meshvpn::holepunch
