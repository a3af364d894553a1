// The libuv drivers over real loopback sockets: UvStunServer answering UvStunRunner-driven
// clients, including the four-socket RFC 5780 server on 127.0.0.1 and 127.0.0.2.
#include <catch2/catch.hpp>

#include "meshvpn/base/uv_loop.h"
#include "meshvpn/stun/client.h"
#include "meshvpn/stun/nat_discovery.h"
#include "meshvpn/stun/uv_server.h"
#include "meshvpn/stun/uv_stun_runner.h"

namespace meshvpn::stun {
namespace {

std::unique_ptr<udp::UdpSocket> OpenClientSocket(uv_loop_t* loop, PacketPool* pool) {
  udp::UdpSocketOptions o;
  o.bind = *udp::Endpoint::Parse("127.0.0.1:0");
  auto s = udp::UdpSocket::Open(loop, pool, o);
  REQUIRE(s.ok());
  return std::move(*s);
}

TEST_CASE("UvStunRunner drives a Client against UvStunServer on loopback") {
  UvLoop loop;
  {
    auto server = Server::Create(ServerConfig{*udp::Endpoint::Parse("127.0.0.1:0")});
    REQUIRE(server.ok());
    auto uv_server = UvStunServer::Start(loop.get(), std::move(*server));
    INFO(uv_server.status().ToString());
    REQUIRE(uv_server.ok());
    const udp::Endpoint server_ep = (*uv_server)->local_endpoint(0);
    CHECK(server_ep.port() != 0);

    PacketPool pool(16, 2048);
    auto socket = OpenClientSocket(loop.get(), &pool);
    Client client;
    auto id = client.StartBinding(server_ep, RealClock::Instance().Now());
    REQUIRE(id.ok());
    auto runner = UvStunRunner::Create(loop.get(), socket.get(), &client);
    REQUIRE(runner.ok());
    REQUIRE((*runner)->Start().ok());
    // The runner stops reading when the client is done; the server's sockets keep the loop
    // alive, so run until done.
    for (int i = 0; i < 1000 && !(*runner)->done(); ++i) uv_run(loop.get(), UV_RUN_ONCE);
    REQUIRE((*runner)->done());
    auto r = client.NextResult();
    REQUIRE(r.has_value());
    CHECK(r->outcome == Outcome::kSuccess);
    REQUIRE(r->mapped.has_value());
    CHECK(*r->mapped == socket->local_endpoint());
    CHECK(r->id == *id);
    CHECK(r->rtt < std::chrono::seconds(1));
    CHECK(r->software == "meshvpn stun_server");
    CHECK((*uv_server)->core().stats().success_responses == 1);
  }
  CHECK(loop.Close() == 0);
}

TEST_CASE("NAT discovery over loopback with a four-socket RFC 5780 server: no NAT") {
  UvLoop loop;
  {
    // Two loopback addresses and two free ports: find the ports with a first bind.
    auto server = Server::Create(ServerConfig{*udp::Endpoint::Parse("127.0.0.1:34781"),
                                              *udp::Endpoint::Parse("127.0.0.2:34782"),
                                              "meshvpn stun_server", true});
    REQUIRE(server.ok());
    auto uv_server = UvStunServer::Start(loop.get(), std::move(*server));
    if (!uv_server.ok()) {
      WARN("skipped, ports busy: " << uv_server.status().ToString());
      return;
    }
    PacketPool pool(16, 2048);
    auto socket = OpenClientSocket(loop.get(), &pool);
    NatDiscoveryOptions o;
    o.servers = {(*uv_server)->local_endpoint(0)};
    o.local = {socket->local_endpoint()};
    auto d = NatDiscovery::Create(o, RealClock::Instance().Now());
    REQUIRE(d.ok());
    auto runner = UvStunRunner::Create(loop.get(), socket.get(), d->get());
    REQUIRE(runner.ok());
    REQUIRE((*runner)->Start().ok());
    for (int i = 0; i < 1000 && !(*runner)->done(); ++i) uv_run(loop.get(), UV_RUN_ONCE);
    REQUIRE((*runner)->done());
    const NatReport& r = (*d)->report();
    CHECK(r.mapping == Behavior::kNoNat);
    CHECK(r.filtering == Behavior::kEndpointIndependent);
    CHECK(r.ClassicName() == "Open Internet (no NAT)");
    REQUIRE(r.probes.size() == 1);
    CHECK(r.probes[0].result.other_address->ToString() == "127.0.0.2:34782");
    CHECK(r.probes[0].result.response_origin->ToString() == "127.0.0.1:34781");
    // Test I, filtering II (answered from B:Q), mapping II.
    CHECK((*uv_server)->core().stats().success_responses == 3);
    CHECK((*uv_server)->core().stats().changed_address == 1);
  }
  CHECK(loop.Close() == 0);
}

}  // namespace
}  // namespace meshvpn::stun
