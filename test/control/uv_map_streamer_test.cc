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

namespace meshvpn::control {
namespace {

// A channel that keeps what it is given queued until the test drains it.
struct QueueingSession final : ChannelSession {
  explicit QueueingSession(uint64_t i) : id_(i) {}
  uint64_t id() const override { return id_; }
  const x25519::PublicKey& machine_key() const override { return key_; }
  const std::string& remote_address() const override { return remote_; }
  bool Send(const v1::Envelope& e) override { return SendEncoded(e.SerializeAsString()); }
  bool SendEncoded(std::string_view bytes) override {
    queued += bytes.size();
    last = std::string(bytes);
    return true;
  }
  void Close(std::string_view) override {}
  size_t pending_output() const override { return queued; }
  uint64_t id_;
  x25519::PublicKey key_;
  std::string remote_;
  size_t queued = 0;
  std::string last;
};

TEST_CASE("map streaming: updates wait while the queued output is over the bound",
          "[control][uv]") {
  UvLoop loop;
  {
    AllowAllPolicy policy;
    MapBuilder builder(&policy);
    std::vector<std::unique_ptr<QueueingSession>> sessions;
    for (uint64_t id = 1; id <= 4; ++id) {
      v1::Node n;
      n.set_id(id);
      n.set_name("node" + std::to_string(id));
      builder.UpsertNode(n);
      sessions.push_back(std::make_unique<QueueingSession>(id));
    }
    // A bound of one byte: after each message the output is over it until the test drains.
    auto streamer =
        UvMapStreamer::Create(loop.get(), &builder, nullptr, std::chrono::seconds(60), 1);
    REQUIRE(streamer.ok());
    UvMapStreamer& s = **streamer;
    for (auto& session : sessions) REQUIRE(s.Open(session->id(), session.get()));
    auto drain = [&] {
      for (auto& session : sessions) session->queued = 0;
    };
    // The online marks of the opens: one delta per drained flush.
    for (int i = 0; i < 8; ++i) {
      drain();
      s.Flush();
    }
    CHECK(s.backlog() == 0);
    CHECK(s.stats().deltas_sent == 3);  // node 4 opened last: nothing to tell it

    // The naive path: node 1's endpoints, a whole map to each of the four (node 1 too: its own
    // entry changed). One goes out; the others wait while nothing drains.
    builder.set_naive_full_maps(true);
    v1::PeerChange patch;
    patch.set_node_id(1);
    patch.mutable_endpoints()->add_endpoints("203.0.113.1:41641");
    REQUIRE(builder.PatchNode(patch).ok());
    drain();
    s.Flush();
    CHECK(s.stats().deltas_sent == 4);
    CHECK(s.backlog() == 3);
    const uint64_t deferred = s.stats().flushes_deferred;
    s.Flush();
    CHECK(s.stats().deltas_sent == 4);
    CHECK(s.stats().flushes_deferred == deferred + 1);

    // A second change while three wait: they get one map each, with both changes; the one
    // already sent gets a second. All are whole maps that show the second endpoint list.
    patch.mutable_endpoints()->add_endpoints("198.51.100.1:41641");
    REQUIRE(builder.PatchNode(patch).ok());
    for (int i = 0; i < 8; ++i) {
      drain();
      s.Flush();
    }
    CHECK(s.backlog() == 0);
    CHECK(s.stats().deltas_sent == 4 + 4);
    for (auto& session : sessions) {
      v1::Envelope e;
      REQUIRE(e.ParseFromString(session->last));
      REQUIRE(e.has_map_response());
      CHECK(e.map_response().full());
      bool seen = session->id() == 1;  // node 1's own map: itself is `node`
      for (const v1::Node& peer : e.map_response().peers()) {
        if (peer.id() == 1) seen = peer.endpoints_size() == 2;
      }
      CHECK(seen);
    }
  }
  CHECK(loop.Close() == 0);
}

}  // namespace
}  // namespace meshvpn::control
