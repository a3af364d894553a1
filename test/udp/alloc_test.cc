// Proves the receive and send paths allocate nothing once warm: operator new is counted for the
// whole test_udp binary (common/alloc_counter.h).
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "common/alloc_counter.h"
#include "meshvpn/base/uv_loop.h"
#include "meshvpn/udp/uv_udp_socket.h"
#include "test_util.h"

namespace meshvpn::udp {
namespace {

using testing::BindTo;
using testing::RunUntil;

// Counts and checks payloads without allocating.
class CountingReceiver final : public DatagramReceiver {
 public:
  void OnDatagrams(std::span<Datagram> batch) override {
    for (const Datagram& d : batch) {
      ++received;
      bytes += d.buffer->size();
      if (d.buffer->size() == 0 || d.buffer->data()[0] != 'p') ++bad;
      if (d.new_peer) ++new_peers;
    }
  }
  uint64_t received = 0;
  uint64_t bytes = 0;
  uint64_t bad = 0;
  uint64_t new_peers = 0;
};

TEST_CASE("the counting operator new sees allocations") {
  const uint64_t before = meshvpn::test::ProcessNewCount();
  // Through a volatile pointer, so the compiler cannot elide the new-expression (C++14 allows
  // it to when the pointer does not escape).
  std::vector<int>* volatile v = new std::vector<int>(100);
  delete v;
  CHECK(meshvpn::test::ProcessNewCount() - before >= 2);
}

TEST_CASE("receiving and sending batches allocates nothing after warm-up") {
  UvLoop loop;
  PacketPool pool(1024, 2048);
  PeerTable peers({.idle_timeout = std::chrono::seconds(30), .max_peers = 64});
  {
    auto a = *UdpSocket::Open(loop.get(), &pool, BindTo("127.0.0.1:0"));
    UdpSocketOptions b_opts = BindTo(":0");
    b_opts.receive_buffer_bytes = 4 << 20;
    auto b = *UdpSocket::Open(loop.get(), &pool, b_opts);
    auto expiry = *UvPeerExpiry::Create(loop.get(), &peers, &RealClock::Instance(), nullptr);
    b->TrackPeers(&peers, expiry.get());
    CountingReceiver at_a;
    CountingReceiver at_b;
    REQUIRE(a->Start(&at_a).ok());
    REQUIRE(b->Start(&at_b).ok());

    const std::string payload(1200, 'p');
    const Endpoint to_b = Endpoint::Loopback(AddressFamily::kIpv4, b->local_endpoint().port());
    std::vector<SendItem> items(kMaxBatch, SendItem{AsBytes(payload), to_b});
    std::vector<OutgoingPacket> outgoing;
    outgoing.reserve(kMaxBatch);

    uint64_t expect_at_b = 0;
    uint64_t expect_at_a = 0;
    // One round: a sends a batch of caller-owned bytes to b, b answers each datagram's sender
    // with pool buffers through Send(), and both sides read everything.
    auto round = [&] {
      expect_at_b += a->SendBatch(items);
      RunUntil(loop.get(), [&] { return at_b.received >= expect_at_b; });
      outgoing.clear();
      for (size_t i = 0; i < kMaxBatch; ++i) {
        PacketBuffer* buf = pool.Acquire();
        if (buf == nullptr) break;
        MutableByteSpan room = buf->Append(64);
        room[0] = 'p';
        outgoing.push_back({buf, a->local_endpoint()});
      }
      expect_at_a += b->Send(outgoing);
      RunUntil(loop.get(), [&] { return at_a.received >= expect_at_a; });
    };

    for (int i = 0; i < 3; ++i) round();  // warm-up: first-time paths, peer learned
    const uint64_t before = meshvpn::test::ProcessNewCount();
    for (int i = 0; i < 50; ++i) round();
    const uint64_t allocations = meshvpn::test::ProcessNewCount() - before;

    CHECK(allocations == 0);
    CHECK(at_b.received == expect_at_b);
    CHECK(at_a.received == expect_at_a);
    CHECK(expect_at_b == 53 * kMaxBatch);
    CHECK(at_b.bad == 0);
    CHECK(at_a.bad == 0);
    CHECK(at_b.new_peers == 1);
    CHECK(peers.Find(a->local_endpoint())->packets_in == expect_at_b);
    CHECK(peers.Find(a->local_endpoint())->packets_out == expect_at_a);
    CHECK(b->stats().total_drops() == 0);
    CHECK(b->stats().largest_receive_batch > 1);
  }
  CHECK(pool.available() == pool.capacity());
  CHECK(loop.Close() == 0);
}

}  // namespace
}  // namespace meshvpn::udp
