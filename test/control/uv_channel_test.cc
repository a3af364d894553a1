// The control channel for real on loopback: http::UvServer with UvChannelServer, and
// UvChannelClient: /key then the upgrade, Envelopes both ways (a multi-megabyte map too), the
// machine key the server learns, a wrong pinned key, the server's reason for closing.
#include <catch2/catch.hpp>
#include <memory>

#include "common/uv_run_until.h"
#include "meshvpn/base/uv_loop.h"
#include "meshvpn/control/uv_channel_client.h"
#include "meshvpn/control/uv_channel_server.h"
#include "meshvpn/http/uv_server.h"
#include "meshvpn/x25519/x25519.h"

namespace meshvpn::control {
namespace {

using test::RunUntil;

x25519::KeyPair Keys() {
  auto k = x25519::GenerateKeyPair();
  REQUIRE(k.ok());
  return *std::move(k);
}

// Echoes each Envelope back; counts; can close channels with a reason.
struct EchoAcceptor final : ChannelAcceptor {
  void OnChannelOpen(ChannelSession& s) override {
    ++opened;
    last_machine_key = s.machine_key();
    sessions.push_back(&s);
  }
  void OnEnvelope(ChannelSession& s, v1::Envelope e) override {
    ++received;
    if (close_with_reason) {
      s.Close("node key expired");
      std::erase(sessions, &s);
      return;
    }
    s.Send(e);
  }
  void OnChannelClosed(ChannelSession& s, const absl::Status& why) override {
    ++closed;
    last_close = why;
    std::erase(sessions, &s);
  }
  int opened = 0, received = 0, closed = 0;
  bool close_with_reason = false;
  x25519::PublicKey last_machine_key;
  absl::Status last_close;
  std::vector<ChannelSession*> sessions;
};

struct Events final : ChannelClientEvents {
  void OnChannelUp(const x25519::PublicKey& key) override {
    ++up;
    server_key = key;
  }
  void OnEnvelope(v1::Envelope e) override { got.push_back(std::move(e)); }
  void OnChannelDown(const absl::Status& why) override {
    ++down;
    last_down = why;
  }
  int up = 0, down = 0;
  x25519::PublicKey server_key;
  absl::Status last_down;
  std::vector<v1::Envelope> got;
};

struct Server {
  Server(uv_loop_t* loop) {
    ChannelServerOptions options;
    options.server_key = &keys.private_key;
    options.acceptor = &acceptor;
    auto c = UvChannelServer::Create(loop, options);
    REQUIRE(c.ok());
    channels = std::move(*c);
    http::UvServerOptions http_options;
    http_options.listen = "127.0.0.1:0";
    auto h = http::UvServer::Listen(loop, http_options, channels.get());
    REQUIRE(h.ok());
    http = std::move(*h);
  }
  x25519::KeyPair keys = Keys();
  EchoAcceptor acceptor;
  std::unique_ptr<UvChannelServer> channels;
  std::unique_ptr<http::UvServer> http;
};

v1::Envelope BigMap(int peers) {
  v1::Envelope e;
  v1::MapResponse* m = e.mutable_map_response();
  m->set_full(true);
  for (int i = 0; i < peers; ++i) {
    v1::Node* n = m->add_peers();
    n->set_id(static_cast<uint64_t>(i + 1));
    n->set_name("peer-" + std::to_string(i));
    n->set_node_key(std::string(32, 'k'));
    n->add_addresses("100.64.0.1/32");
  }
  return e;
}

TEST_CASE("control channel: /key, the upgrade, Envelopes both ways", "[control][uv]") {
  UvLoop loop;
  {
    Server server(loop.get());
    const x25519::KeyPair machine = Keys();
    Events events;
    ChannelClientOptions options;
    options.host = "127.0.0.1";
    options.port = server.http->port();
    options.machine_key = &machine.private_key;
    UvChannelClient client(loop.get(), options, &events);
    CHECK_FALSE(client.Send(BigMap(1)));  // not up yet
    client.Connect();
    REQUIRE(RunUntil(loop.get(), [&] { return events.up == 1 || events.down > 0; }));
    INFO(events.last_down.ToString());
    REQUIRE(events.up == 1);
    CHECK(events.server_key == server.keys.public_key);
    REQUIRE(client.server_key().has_value());
    CHECK(*client.server_key() == server.keys.public_key);  // fetched from /key and pinned
    CHECK(server.acceptor.opened == 1);
    CHECK(server.acceptor.last_machine_key == machine.public_key);
    CHECK(server.channels->stats().handshakes == 1);

    REQUIRE(client.Send(BigMap(3)));
    REQUIRE(RunUntil(loop.get(), [&] { return events.got.size() == 1; }));
    CHECK(events.got[0].map_response().peers_size() == 3);

    SECTION("a 3 MB map crosses in both directions") {
      events.got.clear();
      REQUIRE(client.Send(BigMap(60000)));
      REQUIRE(RunUntil(
          loop.get(), [&] { return events.got.size() == 1; }, std::chrono::seconds(20)));
      CHECK(events.got[0].map_response().peers_size() == 60000);
      CHECK(events.got[0].ByteSizeLong() > 2'000'000);
    }
    SECTION("the server closes with a reason: the client hears it") {
      server.acceptor.close_with_reason = true;
      REQUIRE(client.Send(BigMap(1)));
      REQUIRE(RunUntil(loop.get(), [&] { return events.down == 1; }));
      CHECK(events.last_down.message() == "control: the peer gave up: node key expired");
      CHECK_FALSE(client.up());
      // It may connect again (the key stays pinned).
      server.acceptor.close_with_reason = false;
      client.Connect();
      REQUIRE(RunUntil(loop.get(), [&] { return events.up == 2; }));
      CHECK(server.acceptor.opened == 2);
    }
    SECTION("the client closes: the server's acceptor hears it") {
      client.Close();
      REQUIRE(RunUntil(loop.get(), [&] { return server.acceptor.closed == 1; }));
      CHECK(server.channels->channel_count() == 0);
      CHECK(events.down == 0);  // Close() is silent on the client
    }
  }
  CHECK(loop.Close() == 0);
}

TEST_CASE("control channel: a wrong pinned server key is refused with 401", "[control][uv]") {
  UvLoop loop;
  {
    Server server(loop.get());
    const x25519::KeyPair machine = Keys();
    const x25519::KeyPair impostor = Keys();
    Events events;
    ChannelClientOptions options;
    options.host = "127.0.0.1";
    options.port = server.http->port();
    options.machine_key = &machine.private_key;
    options.server_key = impostor.public_key;
    UvChannelClient client(loop.get(), options, &events);
    client.Connect();
    REQUIRE(RunUntil(loop.get(), [&] { return events.down == 1; }));
    CHECK(events.up == 0);
    CHECK(std::string(events.last_down.message()).find("HTTP 401") != std::string::npos);
    CHECK(server.acceptor.opened == 0);
    CHECK(server.channels->stats().handshake_failures == 1);
  }
  CHECK(loop.Close() == 0);
}

}  // namespace
}  // namespace meshvpn::control
