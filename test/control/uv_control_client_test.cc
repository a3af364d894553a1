// UvControlClient on loopback against a small scripted control server (a ChannelAcceptor):
// register, stream, reconnect by itself after the server drops it, and stop after a refusal.
#include "meshvpn/control/uv_control_client.h"

#include <catch2/catch.hpp>

#include "common/uv_run_until.h"
#include "meshvpn/base/uv_loop.h"
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

// Authorizes auth key "good", refuses others; answers a stream request with a full map of
// `peers` peers; reports are counted.
struct ScriptedServer final : ChannelAcceptor {
  void OnChannelOpen(ChannelSession& s) override { sessions.push_back(&s); }
  void OnEnvelope(ChannelSession& s, v1::Envelope e) override {
    v1::Envelope reply;
    if (e.has_register_request()) {
      ++registrations;
      if (e.register_request().auth_key() == "good") {
        reply.mutable_register_response()->set_machine_authorized(true);
      } else {
        reply.mutable_register_response()->set_error("unknown pre-auth key");
      }
    } else if (e.has_map_request() && e.map_request().stream()) {
      v1::MapResponse* m = reply.mutable_map_response();
      m->set_seq(1);
      m->set_full(true);
      m->mutable_node()->set_id(1);
      for (int i = 0; i < peers; ++i) m->add_peers()->set_id(static_cast<uint64_t>(i + 2));
    } else if (e.has_map_request()) {
      ++reports;
      last_endpoints = e.map_request().endpoints_size();
      return;
    }
    s.Send(reply);
  }
  void OnChannelClosed(ChannelSession& s, const absl::Status&) override {
    std::erase(sessions, &s);
  }
  void DropAll() {
    for (ChannelSession* s : std::vector<ChannelSession*>(sessions)) s->Close("restarting");
    sessions.clear();
  }
  int peers = 2, registrations = 0, reports = 0, last_endpoints = 0;
  std::vector<ChannelSession*> sessions;
};

struct Fixture {
  explicit Fixture(uv_loop_t* loop) {
    ChannelServerOptions options;
    options.server_key = &keys.private_key;
    options.acceptor = &script;
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
  ScriptedServer script;
  std::unique_ptr<UvChannelServer> channels;
  std::unique_ptr<http::UvServer> http;
};

struct Events final : ControlClientEvents {
  void OnNetmap(const Netmap& n, const NetmapChange&) override {
    ++netmaps;
    peers = n.peers().size();
  }
  int netmaps = 0;
  size_t peers = 0;
};

TEST_CASE("UvControlClient: register, stream, reconnect, refusal", "[control][uv]") {
  UvLoop loop;
  {
    Fixture server(loop.get());
    const x25519::KeyPair machine = Keys();
    const x25519::KeyPair node = Keys();
    ChannelClientOptions channel;
    channel.host = "127.0.0.1";
    channel.port = server.http->port();
    channel.machine_key = &machine.private_key;
    ControlClientConfig config;
    config.node_key = node.public_key;
    config.auth_key = "good";
    config.backoff_initial = std::chrono::milliseconds(20);
    Events events;
    auto client = UvControlClient::Create(loop.get(), channel, config, &events);
    REQUIRE(client.ok());
    (*client)->Start();
    REQUIRE(RunUntil(loop.get(), [&] { return events.netmaps == 1; }));
    CHECK((*client)->state() == ClientState::kStreaming);
    CHECK(events.peers == 2);
    CHECK((*client)->server_key() == server.keys.public_key);

    (*client)->SetEndpoints({"203.0.113.9:41641", "10.0.0.2:41641"});
    REQUIRE(RunUntil(loop.get(), [&] { return server.script.reports == 1; }));
    CHECK(server.script.last_endpoints == 2);

    SECTION("the server drops every channel: the client comes back with a new full map") {
      server.script.peers = 5;
      server.script.DropAll();
      REQUIRE(RunUntil(loop.get(), [&] { return events.netmaps == 2; }));
      CHECK(events.peers == 5);
      CHECK(server.script.registrations == 2);
      CHECK((*client)->core().reconnects() == 1);
    }
    SECTION("a refused registration: no retries") {
      (*client)->Stop();
      ControlClientConfig bad = config;
      bad.auth_key = "bad";
      auto refused = UvControlClient::Create(loop.get(), channel, bad, &events);
      REQUIRE(refused.ok());
      (*refused)->Start();
      REQUIRE(
          RunUntil(loop.get(), [&] { return (*refused)->state() == ClientState::kNeedsLogin; }));
      const int registrations = server.script.registrations;
      RunUntil(
          loop.get(), [] { return false; }, std::chrono::milliseconds(200));
      CHECK(server.script.registrations == registrations);
      CHECK(std::string((*refused)->core().last_error().message()).find("unknown pre-auth key") !=
            std::string::npos);
    }
  }
  CHECK(loop.Close() == 0);
}

}  // namespace
}  // namespace meshvpn::control
