// Proves the punch's per-datagram paths allocate nothing: answering a ping, matching a pong on a
// known path, and dropping forged, duplicate or malformed datagrams (and the rendezvous server's
// drops). operator new is counted per thread for the whole test binary (common/alloc_counter.h).
#include <catch2/catch.hpp>
#include <cstdlib>
#include <new>

#include "common/alloc_counter.h"
#include "meshvpn/holepunch/punch.h"
#include "meshvpn/holepunch/rendezvous_server.h"

namespace meshvpn::holepunch {
namespace {

x25519::PublicKey Key(uint8_t fill) {
  std::array<uint8_t, 32> b{};
  b.fill(fill);
  return x25519::PublicKey(b);
}

TEST_CASE("answering pings, matching pongs and dropping datagrams allocate nothing") {
  std::array<uint8_t, 32> kb{};
  kb.fill(0x5a);
  const SessionKey key = SessionKey::FromBytes(kb);
  const udp::Endpoint ep_a = *udp::Endpoint::Parse("198.51.100.1:4000");
  const udp::Endpoint ep_b = *udp::Endpoint::Parse("198.51.100.2:4000");
  auto a = *Punch::Create(Key(1), key, Key(2), {{ep_b, CandidateKind::kStun}});
  auto b = *Punch::Create(Key(2), key, Key(1), {{ep_a, CandidateKind::kStun}});
  FakeClock clock;
  a->Start(clock.Now());
  b->Start(clock.Now());
  // Keep the last pong a received, to replay it.
  std::vector<uint8_t> last_pong;
  auto shuttle = [&] {
    for (int round = 0; round < 4; ++round) {
      while (auto d = a->NextSend(clock.Now())) (void)b->Receive(d->data, ep_a, 0, clock.Now());
      while (auto d = b->NextSend(clock.Now())) {
        if (PeekHeader(d->data).type == MessageType::kPong) {
          last_pong.assign(d->data.begin(), d->data.end());
        }
        (void)a->Receive(d->data, ep_b, 0, clock.Now());
      }
    }
  };
  shuttle();
  REQUIRE(a->state() == PunchState::kDirect);
  REQUIRE(b->state() == PunchState::kDirect);
  while (a->NextEvent()) {
  }
  REQUIRE(!last_pong.empty());

  Ping ping;
  ping.sender = Key(2);
  std::array<uint8_t, kPingSize> ping_wire{};
  REQUIRE(Encode(ping, key, ping_wire) == kPingSize);
  std::array<uint8_t, kPingSize> forged = ping_wire;
  forged[50] ^= 1;  // in the tx id: only the MAC notices
  const uint8_t junk[] = {'M', 'V', 'H', 'P', 1, 0x10, 0, 0, 1, 2, 3};
  RendezvousServer server;
  const MonoTime now = clock.Now();
  auto once = [&] {
    CHECK(a->Receive(ping_wire, ep_b, 0, now) == PunchDrop::kNone);
    while (auto d = a->NextSend(now)) CHECK(d->data.size() == kPongMinSize);
    CHECK(a->Receive(forged, ep_b, 0, now) == PunchDrop::kBadMac);
    CHECK(a->Receive(junk, ep_b, 0, now) == PunchDrop::kMalformed);
    CHECK(a->Receive(last_pong, ep_b, 0, now) == PunchDrop::kDuplicatePong);
    CHECK(server.HandleDatagram(junk, ep_b, now) == ServerDrop::kNotRequest);
    CHECK(server.HandleDatagram(ByteSpan(junk + 1, 5), ep_b, now) == ServerDrop::kMalformed);
    CHECK(server.HandleDatagram(ping_wire, ep_b, now) == ServerDrop::kNotRequest);
  };
  once();  // warm up (OpenSSL's per-thread contexts)
  const long before = meshvpn::test::ThreadNewCount();
  for (int i = 0; i < 100; ++i) once();
  const long allocations = meshvpn::test::ThreadNewCount() - before;
  CHECK(allocations == 0);
  CHECK(a->stats().pongs_sent >= 101);
  CHECK(!a->NextEvent().has_value());
}

}  // namespace
}  // namespace meshvpn::holepunch
