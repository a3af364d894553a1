#include "meshvpn/udp/uv_peer_expiry.h"

#include <catch2/catch.hpp>
#include <vector>

#include "meshvpn/base/uv_loop.h"
#include "meshvpn/udp/uv_udp_socket.h"
#include "test_util.h"

namespace meshvpn::udp {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::BindTo;
using testing::Recorder;
using testing::RunUntil;

struct ExpiredList final : PeerExpiryListener {
  void OnPeerExpired(const PeerInfo& peer) override { gone.push_back(peer); }
  std::vector<PeerInfo> gone;
};

TEST_CASE("a socket tracking peers learns them, counts both ways and expires them (fake clock)") {
  UvLoop loop;
  PacketPool pool(64, 2048);
  FakeClock clock;
  PeerTable peers({.idle_timeout = seconds(30), .max_peers = 16});
  ExpiredList expired;
  {
    UdpSocketOptions server_opts = BindTo("127.0.0.1:0");
    server_opts.clock = &clock;
    auto server = *UdpSocket::Open(loop.get(), &pool, server_opts);
    auto expiry = *UvPeerExpiry::Create(loop.get(), &peers, &clock, &expired);
    server->TrackPeers(&peers, expiry.get());
    Recorder heard;
    REQUIRE(server->Start(&heard).ok());

    auto a = *UdpSocket::Open(loop.get(), &pool, BindTo("127.0.0.1:0"));
    auto b = *UdpSocket::Open(loop.get(), &pool, BindTo("127.0.0.1:0"));
    const Endpoint to = server->local_endpoint();
    REQUIRE(a->SendTo(AsBytes("a1"), to));
    REQUIRE(RunUntil(loop.get(), [&] { return heard.entries.size() == 1; }));
    clock.Advance(seconds(10));
    REQUIRE(b->SendTo(AsBytes("b1"), to));
    REQUIRE(a->SendTo(AsBytes("a2!"), to));
    REQUIRE(RunUntil(loop.get(), [&] { return heard.entries.size() == 3; }));

    CHECK(heard.entries[0].new_peer);
    CHECK(heard.entries[0].from == a->local_endpoint());
    CHECK(heard.entries[1].new_peer);
    CHECK(heard.entries[1].from == b->local_endpoint());
    CHECK_FALSE(heard.entries[2].new_peer);
    REQUIRE(peers.size() == 2);
    REQUIRE(server->SendTo(AsBytes("hello a"), a->local_endpoint()));
    const PeerInfo* pa = peers.Find(a->local_endpoint());
    REQUIRE(pa != nullptr);
    CHECK(pa->packets_in == 2);
    CHECK(pa->bytes_in == 5);
    CHECK(pa->packets_out == 1);
    CHECK(pa->bytes_out == 7);
    CHECK(pa->first_seen + seconds(10) == pa->last_seen);
    // The timer is armed for a's first expiry (t=30s); a was heard again at t=10, so that
    // wake-up will find nothing due and re-arm.
    REQUIRE(expiry->armed_deadline().has_value());

    // t=35: neither is idle for 30s yet (both heard at t=10).
    clock.Advance(seconds(25));
    expiry->Reschedule();
    for (int i = 0; i < 10; ++i) loop.Run(UV_RUN_NOWAIT);
    CHECK(expired.gone.empty());
    CHECK(peers.size() == 2);
    CHECK(expiry->armed_deadline() == pa->last_seen + seconds(30));

    // t=40: both are.
    clock.Advance(seconds(5));
    expiry->Reschedule();
    REQUIRE(RunUntil(loop.get(), [&] { return expired.gone.size() == 2; }));
    CHECK(peers.empty());
    CHECK_FALSE(expiry->armed_deadline().has_value());

    // a comes back: it is a new peer again.
    REQUIRE(a->SendTo(AsBytes("a3"), to));
    REQUIRE(RunUntil(loop.get(), [&] { return heard.entries.size() == 4; }));
    CHECK(heard.entries[3].new_peer);
    CHECK(expiry->armed_deadline() == clock.Now() + seconds(30));
  }
  CHECK(loop.Close() == 0);
}

TEST_CASE("the expiry timer fires on its own with the real clock") {
  UvLoop loop;
  PeerTable peers({.idle_timeout = milliseconds(30), .max_peers = 4});
  ExpiredList expired;
  {
    auto expiry = *UvPeerExpiry::Create(loop.get(), &peers, &RealClock::Instance(), &expired);
    CHECK_FALSE(expiry->armed_deadline().has_value());
    const MonoTime start = RealClock::Instance().Now();
    peers.OnReceived(Endpoint::V4({10, 0, 0, 1}, 1), 1, start);
    expiry->Update();
    REQUIRE(expiry->armed_deadline() == start + milliseconds(30));
    // Nothing else is on the loop: Run() returns once the timer has fired and not re-armed.
    loop.Run();
    REQUIRE(expired.gone.size() == 1);
    CHECK(RealClock::Instance().Now() >= start + milliseconds(30));
    CHECK(peers.empty());
  }
  CHECK(loop.Close() == 0);
}

}  // namespace
}  // namespace meshvpn::udp
