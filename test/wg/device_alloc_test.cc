// Proves an established session's data path allocates nothing: sealing at one device, opening,
// checking and delivering at the other, timers included (operator new is counted per thread by
// alloc_test.cc).
#include <catch2/catch.hpp>
#include <cstring>

#include "common/alloc_counter.h"
#include "device_harness.h"

namespace meshvpn::wg {
namespace {

TEST_CASE("An established session's send and receive paths allocate nothing") {
  test::Pair p;
  const Bytes first = test::Ipv4Packet({10, 0, 0, 1}, {10, 0, 0, 2}, 100);
  p.SendFrom(p.alice, first);
  p.Flush();
  REQUIRE(p.bob.output.delivered.size() == 1);  // handshake done, session confirmed

  const Bytes packet = test::Ipv4Packet({10, 0, 0, 1}, {10, 0, 0, 2}, 1300);
  const Bytes reply = test::Ipv4Packet({10, 0, 0, 2}, {10, 0, 0, 1}, 64);
  p.alice.output.hold_buffers = true;
  p.bob.output.hold_buffers = true;
  const size_t bob_before = p.bob.output.delivered_count;
  const size_t alice_before = p.alice.output.delivered_count;

  // Moves the datagrams `from` holds into `to`, in place of a network.
  auto move = [&](test::Side& from, test::Side& to) {
    for (size_t i = 0; i < from.output.held_count; ++i) {
      PacketBuffer* in = from.output.held[i];
      PacketBuffer* out = to.pool.Acquire();
      REQUIRE(out != nullptr);
      out->Reset();
      REQUIRE(out->SetSize(in->size()));
      std::memcpy(out->data(), in->data(), in->size());
      from.pool.Release(in);
      to.device.HandleDatagram(out, from.endpoint, p.clock.Now());
    }
    from.output.held_count = 0;
  };
  auto inject = [&](test::Side& side, const Bytes& bytes) {
    PacketBuffer* b = side.pool.Acquire();
    REQUIRE(b != nullptr);
    b->Reset();
    REQUIRE(b->SetSize(bytes.size()));
    std::memcpy(b->data(), bytes.data(), bytes.size());
    side.device.HandleTunPacket(b, p.clock.Now());
  };

  const long news_before = meshvpn::test::ThreadNewCount();
  for (int i = 0; i < 200; ++i) {
    inject(p.alice, packet);
    move(p.alice, p.bob);
    inject(p.bob, reply);
    move(p.bob, p.alice);
    p.clock.Advance(std::chrono::milliseconds(10));
    p.alice.device.HandleExpiry(p.clock.Now());
    p.bob.device.HandleExpiry(p.clock.Now());
  }
  const long news = meshvpn::test::ThreadNewCount() - news_before;
  CHECK(news == 0);
  CHECK(p.bob.output.delivered_count - bob_before == 200);
  CHECK(p.alice.output.delivered_count - alice_before == 200);
  CHECK(p.alice.device.stats().total_dropped() == 0);
  CHECK(p.bob.device.stats().total_dropped() == 0);
}

}  // namespace
}  // namespace meshvpn::wg
