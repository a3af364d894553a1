// The streaming path end to end on loopback, without storage: UvControlClients register with a
// test acceptor that puts each machine in a MapBuilder, and UvMapStreamer streams their maps:
// every node sees the others, a change arrives as a delta, a departure marks a peer offline.
#include "meshvpn/control/uv_map_streamer.h"

#include <catch2/catch.hpp>

#include "common/uv_run_until.h"
#include "meshvpn/base/uv_loop.h"
#include "meshvpn/control/uv_control_client.h"
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

std::string Bytes32(const x25519::PublicKey& k) {
  return std::string(reinterpret_cast<const char*>(k.bytes().data()), 32);
}

// Registers every machine that asks (ids in arrival order) and streams its map.
struct StreamingAcceptor final : ChannelAcceptor {
  StreamingAcceptor(MapBuilder* b) : builder(b) {}
  void OnChannelOpen(ChannelSession&) override {}
  void OnEnvelope(ChannelSession& s, v1::Envelope e) override {
    if (e.has_register_request()) {
      uint64_t& id = ids[Bytes32(s.machine_key())];
      if (id == 0) id = next_id++;
      v1::Node node;
      node.set_id(id);
      node.set_name("node" + std::to_string(id));
      node.set_node_key(e.register_request().node_key());
      node.add_addresses("100.64.0." + std::to_string(id) + "/32");
      builder->UpsertNode(node);
      channel_node[s.id()] = id;
      v1::Envelope reply;
      reply.mutable_register_response()->set_machine_authorized(true);
      s.Send(reply);
    } else if (e.has_map_request()) {
      const uint64_t id = channel_node[s.id()];
      v1::PeerChange report;
      report.set_node_id(id);
      report.mutable_endpoints()->mutable_endpoints()->CopyFrom(e.map_request().endpoints());
      (void)builder->PatchNode(report);
      if (e.map_request().stream()) REQUIRE(streamer->Open(id, &s));
    }
  }
  void OnChannelClosed(ChannelSession& s, const absl::Status&) override {
    streamer->Closed(channel_node[s.id()]);
  }
  MapBuilder* builder;
  UvMapStreamer* streamer = nullptr;
  std::map<std::string, uint64_t> ids;
  std::map<uint64_t, uint64_t> channel_node;
  uint64_t next_id = 1;
};

struct Node {
  x25519::KeyPair machine = Keys();
  x25519::KeyPair node = Keys();
  std::unique_ptr<UvControlClient> client;
};

TEST_CASE("map streaming: three nodes, a delta, a departure", "[control][uv]") {
  UvLoop loop;
  {
    AllowAllPolicy policy;
    MapBuilder builder(&policy);
    auto streamer = UvMapStreamer::Create(loop.get(), &builder, nullptr);
    REQUIRE(streamer.ok());
    StreamingAcceptor acceptor(&builder);
    acceptor.streamer = streamer->get();
    const x25519::KeyPair server_keys = Keys();
    ChannelServerOptions options;
    options.server_key = &server_keys.private_key;
    options.acceptor = &acceptor;
    auto channels = UvChannelServer::Create(loop.get(), options);
    REQUIRE(channels.ok());
    http::UvServerOptions http_options;
    http_options.listen = "127.0.0.1:0";
    auto http = http::UvServer::Listen(loop.get(), http_options, channels->get());
    REQUIRE(http.ok());

    ControlClientEvents quiet;
    std::vector<Node> nodes(3);
    for (Node& n : nodes) {
      ChannelClientOptions channel;
      channel.host = "127.0.0.1";
      channel.port = (*http)->port();
      channel.machine_key = &n.machine.private_key;
      channel.server_key = server_keys.public_key;
      ControlClientConfig config;
      config.node_key = n.node.public_key;
      config.auth_key = "any";
      auto c = UvControlClient::Create(loop.get(), channel, config, &quiet);
      REQUIRE(c.ok());
      n.client = std::move(*c);
      n.client->Start();
    }
    auto everyone_sees = [&](size_t peers) {
      for (const Node& n : nodes) {
        if (n.client->netmap().peers().size() != peers) return false;
      }
      return true;
    };
    REQUIRE(RunUntil(loop.get(), [&] { return everyone_sees(2); }));
    for (const Node& n : nodes) {
      for (const auto& [id, peer] : n.client->netmap().peers()) CHECK(peer.online());
    }

    // Node 1 reports endpoints: the two others get a delta with them.
    nodes[0].client->SetEndpoints({"203.0.113.1:41641"});
    const uint64_t id0 = nodes[0].client->netmap().self().id();
    auto others_have_endpoint = [&] {
      for (size_t i = 1; i < nodes.size(); ++i) {
        const v1::Node* p = nodes[i].client->netmap().peer(id0);
        if (p == nullptr || p->endpoints_size() != 1) return false;
      }
      return true;
    };
    const uint64_t fulls = (*streamer)->stats().full_maps_sent;
    REQUIRE(RunUntil(loop.get(), others_have_endpoint));
    CHECK((*streamer)->stats().full_maps_sent == fulls);  // deltas, not full maps
    CHECK((*streamer)->stats().deltas_sent >= 2);

    // Node 3 leaves: the others see it offline, still in the map.
    const uint64_t id2 = nodes[2].client->netmap().self().id();
    nodes[2].client->Stop();
    REQUIRE(RunUntil(loop.get(), [&] {
      const v1::Node* p = nodes[0].client->netmap().peer(id2);
      return p != nullptr && !p->online();
    }));
    CHECK((*streamer)->stream_count() == 2);
    for (Node& n : nodes) n.client.reset();
    (*channels)->CloseAll();
  }
  CHECK(loop.Close() == 0);
}

}  // namespace
}  // namespace meshvpn::control
