// UvClient on loopback against a tiny test-only DERP server on http::UvServer (the server's
// handshake from handshake.h, SendPacket echoed back as RecvPacket from the destination, pings
// answered): TLS with a self-signed certificate, OnReady, a packet round trip, ping RTT,
// reconnecting after the server closes, reaching a server that starts late, refusals.
#include "meshvpn/derp/uv_client.h"

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "common/uv_run_until.h"
#include "meshvpn/base/uv_loop.h"
#include "meshvpn/derp/codec.h"
#include "meshvpn/derp/frame.h"
#include "meshvpn/derp/handshake.h"
#include "meshvpn/http/self_signed.h"
#include "meshvpn/http/uv_server.h"
#include "meshvpn/x25519/x25519.h"

namespace meshvpn::derp {
namespace {

using namespace std::chrono_literals;
using test::RunUntil;

PrivateKey NewKey() { return PrivateKey::Generate().value(); }
PublicKey Pub(const PrivateKey& k) { return x25519::DerivePublicKey(k).value(); }
PublicKey KeyOf(uint8_t fill) {
  std::array<uint8_t, kKeyLen> bytes;
  bytes.fill(fill);
  return PublicKey(bytes);
}

class FakeDerpServer;

// One upgraded connection of the fake server.
class FakeConnection final : public http::StreamHandler {
 public:
  explicit FakeConnection(FakeDerpServer* server) : server_(server) {}
  void Greet();
  void OnStreamData(ByteSpan data) override;
  void OnStreamClosed() override { closed = true; }

  http::UpgradedStream stream;
  PublicKey client;
  ClientInfo info;
  bool closed = false;
  std::vector<uint8_t> frame_types;  // after the ClientInfo

 private:
  void Handle(const FrameView& frame);
  FakeDerpServer* server_;
  FrameReader reader_{kMaxFrameLen};
  bool greeted_ = false;
};

// The server: GET /derp with Upgrade: DERP is accepted (unless `refuse` is set), anything else
// is a 404.
class FakeDerpServer final : public http::RequestHandler {
 public:
  FakeDerpServer(uv_loop_t* loop, std::shared_ptr<const http::TlsContext> tls,
                 std::string listen = "127.0.0.1:0") {
    http::UvServerOptions options;
    options.listen = std::move(listen);
    options.tls = std::move(tls);
    auto s = http::UvServer::Listen(loop, options, this);
    REQUIRE(s.ok());
    http = std::move(*s);
  }
  ~FakeDerpServer() override { http.reset(); }

  void OnRequest(http::Request& request, http::ResponseWriter writer) override {
    if (request.path != "/derp" || !request.upgrade) {
      writer.Send(http::Response::Text(404, "not here"));
      return;
    }
    if (refuse) {
      writer.Send(http::Response::Text(403, "DERP refused\n"));
      return;
    }
    ++upgrades;
    connections.push_back(std::make_unique<FakeConnection>(this));
    FakeConnection* c = connections.back().get();
    std::string early;
    c->stream = writer.AcceptUpgrade({{"Upgrade", "DERP"}}, c, &early);
    REQUIRE(c->stream.alive());
    c->Greet();  // right behind the 101: the client gets it as `buffered` or as stream data
    if (!early.empty()) c->OnStreamData(AsBytes(early));
  }

  // Writes `frames` to every open connection.
  void SendAll(const std::string& frames) {
    for (auto& c : connections) c->stream.Write(AsBytes(frames));
  }
  // Closes every connection from the server's side.
  void CloseAll() {
    for (auto& c : connections) c->stream.Close();
  }
  size_t open_connections() const {
    size_t n = 0;
    for (const auto& c : connections) n += c->stream.alive() ? 1 : 0;
    return n;
  }
  uint16_t port() const { return http->port(); }

  PrivateKey key = NewKey();
  PublicKey pub = Pub(key);
  ServerInfo info{.version = 2};
  bool refuse = false;
  int upgrades = 0;
  int handshakes = 0;
  int pings = 0;
  std::vector<std::unique_ptr<FakeConnection>> connections;  // before `http`: outlives it
  std::unique_ptr<http::UvServer> http;
};

void FakeConnection::Greet() { stream.Write(AsBytes(MakeServerKeyFrame(server_->pub))); }

void FakeConnection::OnStreamData(ByteSpan data) {
  reader_.Feed(data);
  while (auto frame = reader_.Next()) Handle(*frame);
  REQUIRE_FALSE(reader_.failed());
}

void FakeConnection::Handle(const FrameView& frame) {
  if (!greeted_) {
    REQUIRE(frame.type == static_cast<uint8_t>(FrameType::kClientInfo));
    auto opened = OpenClientInfo(server_->key, frame.payload);
    REQUIRE(opened.ok());
    client = opened->client;
    info = opened->info;
    greeted_ = true;
    ++server_->handshakes;
    stream.Write(AsBytes(MakeServerInfoFrame(server_->key, client, server_->info)));
    return;
  }
  frame_types.push_back(frame.type);
  std::string out;
  switch (static_cast<FrameType>(frame.type)) {
    case FrameType::kSendPacket: {
      REQUIRE(frame.payload.size() >= kKeyLen);
      const PublicKey dst(x25519::KeySpan(frame.payload.first<kKeyLen>()));
      AppendRecvPacket(dst, frame.payload.subspan(kKeyLen), &out);  // as if dst answered
      break;
    }
    case FrameType::kPing: {
      ++server_->pings;
      PingData data;
      std::copy_n(frame.payload.begin(), kPingLen, data.begin());
      AppendPong(data, &out);
      break;
    }
    default:
      break;
  }
  if (!out.empty()) stream.Write(AsBytes(out));
}

// Records the client's events.
class Events final : public UvClientEvents {
 public:
  void OnConnecting(uint64_t attempt) override { attempts.push_back(attempt); }
  void OnReady(const PublicKey& server_key, const ServerInfo&) override {
    ++ready;
    server = server_key;
  }
  void OnDisconnected(const absl::Status& why, Duration retry_in) override {
    disconnects.push_back(why);
    retries.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(retry_in));
  }
  void OnPacket(const PublicKey& source, ByteSpan data) override {
    packets.push_back({source, meshvpn::ToString(data)});
  }

  std::vector<uint64_t> attempts;
  int ready = 0;
  PublicKey server;
  std::vector<absl::Status> disconnects;
  std::vector<std::chrono::milliseconds> retries;
  std::vector<std::pair<PublicKey, std::string>> packets;
};

struct Tls {
  Tls() {
    auto cert = http::MakeSelfSignedCertificate({"localhost", "127.0.0.1"});
    REQUIRE(cert.ok());
    http::TlsServerOptions so;
    so.pem = *cert;
    auto s = http::TlsContext::NewServer(so);
    REQUIRE(s.ok());
    server = *s;
    http::TlsClientOptions co;
    co.pins.push_back(*http::SpkiPinOfCertificate(cert->cert_pem));
    auto c = http::TlsContext::NewClient(co);
    REQUIRE(c.ok());
    client = *c;
  }
  std::shared_ptr<const http::TlsContext> server;
  std::shared_ptr<const http::TlsContext> client;
};

UvClientOptions Options(uint16_t port, std::shared_ptr<const http::TlsContext> tls = nullptr) {
  UvClientOptions o;
  o.host = "127.0.0.1";
  o.port = port;
  o.tls = std::move(tls);
  o.backoff_jitter = 0;
  o.core.app_name = "uv_client_test";
  return o;
}

std::unique_ptr<UvClient> NewClient(uv_loop_t* loop, UvClientOptions options, Events* events) {
  auto client = UvClient::Create(loop, NewKey(), std::move(options), events);
  REQUIRE(client.ok());
  return *std::move(client);
}

TEST_CASE("UvClient: over TLS: ready, a packet round trip, a ping's RTT, stats") {
  UvLoop loop;
  {
    Tls tls;
    FakeDerpServer server(loop.get(), tls.server);
    server.info.token_bucket_bytes_per_second = 1 << 20;
    server.info.token_bucket_bytes_burst = 1 << 20;
    Events events;
    UvClientOptions options = Options(server.port(), tls.client);
    options.core.preferred = true;
    options.core.expected_server_key = server.pub;
    auto client = NewClient(loop.get(), options, &events);
    CHECK_FALSE(client->connected());
    CHECK_FALSE(client->Send(KeyOf(1), AsBytes("too early")));  // no connection yet: dropped
    client->Start();
    REQUIRE(RunUntil(loop.get(), [&] { return events.ready == 1; }));
    CHECK(client->connected());
    CHECK(events.attempts == std::vector<uint64_t>{1});
    CHECK(events.server == server.pub);
    CHECK(client->server_key() == server.pub);
    REQUIRE(server.connections.size() == 1);
    CHECK(server.connections[0]->client == client->public_key());
    CHECK(server.connections[0]->info.version == 2);
    CHECK(server.connections[0]->info.can_ack_pings);
    CHECK(server.connections[0]->info.app_name == "uv_client_test");

    const PublicKey peer = KeyOf(7);
    CHECK(client->Send(peer, AsBytes("hello through the relay")));
    REQUIRE(RunUntil(loop.get(), [&] { return events.packets.size() == 1; }));
    CHECK(events.packets[0].first == peer);
    CHECK(events.packets[0].second == "hello through the relay");

    // A big packet too, bigger than one TLS record.
    const std::string big(kMaxPacketSize, 'b');
    CHECK(client->Send(peer, AsBytes(big)));
    REQUIRE(RunUntil(loop.get(), [&] { return events.packets.size() == 2; }));
    CHECK(events.packets[1].second == big);
    CHECK_FALSE(client->Send(peer, AsBytes(big + "!")));  // over 64 KiB

    std::optional<absl::StatusOr<Duration>> rtt;
    client->Ping([&](absl::StatusOr<Duration> r) { rtt = r; });
    REQUIRE(RunUntil(loop.get(), [&] { return rtt.has_value(); }));
    REQUIRE(rtt->ok());
    CHECK(**rtt > Duration::zero());
    CHECK(**rtt < kPingTimeout);
    CHECK(server.pings == 1);
    // NotePreferred(true) went out right after the handshake.
    REQUIRE_FALSE(server.connections[0]->frame_types.empty());
    CHECK(server.connections[0]->frame_types[0] == static_cast<uint8_t>(FrameType::kNotePreferred));

    const UvClientStats stats = client->stats();
    CHECK(stats.connect_attempts == 1);
    CHECK(stats.connections_ready == 1);
    CHECK(stats.dropped_not_connected == 1);
    CHECK(stats.core.packets_sent == 2);
    CHECK(stats.core.packets_received == 2);
    CHECK(stats.core.dropped_too_large == 1);
    CHECK(stats.core.pongs_received == 1);
    client->Close();
    CHECK_FALSE(client->connected());
    REQUIRE(RunUntil(loop.get(), [&] { return server.open_connections() == 0; }));
    CHECK(events.disconnects.empty());  // Close() is not a disconnect
  }
  CHECK(loop.Close() == 0);
}

TEST_CASE("UvClient: the server closing the connection makes the client reconnect by itself") {
  UvLoop loop;
  {
    Tls tls;
    FakeDerpServer server(loop.get(), tls.server);
    Events events;
    auto client = NewClient(loop.get(), Options(server.port(), tls.client), &events);
    client->Start();
    REQUIRE(RunUntil(loop.get(), [&] { return events.ready == 1; }));

    std::optional<absl::StatusOr<Duration>> lost_ping;
    server.CloseAll();
    REQUIRE(RunUntil(loop.get(), [&] { return events.disconnects.size() == 1; }));
    CHECK(events.disconnects[0].code() == absl::StatusCode::kUnavailable);
    CHECK(events.retries[0] == 100ms);
    CHECK_FALSE(client->connected());
    CHECK_FALSE(client->Send(KeyOf(1), AsBytes("while down")));
    client->Ping([&](absl::StatusOr<Duration> r) { lost_ping = r; });
    REQUIRE(lost_ping.has_value());  // at once: not connected
    CHECK(lost_ping->status().code() == absl::StatusCode::kUnavailable);

    REQUIRE(RunUntil(loop.get(), [&] { return events.ready == 2; }));
    CHECK(events.attempts == std::vector<uint64_t>{1, 2});
    CHECK(server.handshakes == 2);
    CHECK(client->Send(KeyOf(2), AsBytes("after the reconnect")));
    REQUIRE(RunUntil(loop.get(), [&] { return events.packets.size() == 1; }));
    CHECK(events.packets[0].second == "after the reconnect");

    // Again: a ready connection reset the backoff, so the retry is 100 ms again.
    server.CloseAll();
    REQUIRE(RunUntil(loop.get(), [&] { return events.ready == 3; }));
    CHECK(events.retries == std::vector<std::chrono::milliseconds>{100ms, 100ms});
    const UvClientStats stats = client->stats();
    CHECK(stats.connect_attempts == 3);
    CHECK(stats.connections_ready == 3);
    CHECK(stats.disconnects == 2);
    CHECK(stats.dropped_not_connected == 1);
    CHECK(stats.core.packets_received == 1);
  }
  CHECK(loop.Close() == 0);
}

TEST_CASE("UvClient: a server's Restarting frame sets the delay of the next attempt") {
  UvLoop loop;
  {
    FakeDerpServer server(loop.get(), nullptr);
    Events events;
    auto client = NewClient(loop.get(), Options(server.port()), &events);
    client->Start();
    REQUIRE(RunUntil(loop.get(), [&] { return events.ready == 1; }));
    std::string restarting;
    AppendRestarting(30ms, 5000ms, &restarting);
    server.SendAll(restarting);
    REQUIRE(RunUntil(loop.get(), [&] { return client->stats().core.restarting_received == 1; }));
    server.CloseAll();
    REQUIRE(RunUntil(loop.get(), [&] { return events.ready == 2; }));
    CHECK(events.retries == std::vector<std::chrono::milliseconds>{30ms});
  }
  CHECK(loop.Close() == 0);
}

TEST_CASE("UvClient: output beyond the stream's bound waits for OnStreamWritable") {
  UvLoop loop;
  {
    FakeDerpServer server(loop.get(), nullptr);
    Events events;
    UvClientOptions options = Options(server.port());
    options.http_limits.max_buffered_output = 8 << 10;  // far below one big packet
    auto client = NewClient(loop.get(), options, &events);
    client->Start();
    REQUIRE(RunUntil(loop.get(), [&] { return events.ready == 1; }));
    std::vector<std::string> sent;
    for (char c = 'a'; c < 'a' + 8; ++c) {
      sent.emplace_back(kMaxPacketSize, c);
      CHECK(client->Send(KeyOf(3), AsBytes(sent.back())));
    }
    REQUIRE(RunUntil(loop.get(), [&] { return events.packets.size() == sent.size(); }));
    for (size_t i = 0; i < sent.size(); ++i) CHECK(events.packets[i].second == sent[i]);
    CHECK(client->stats().core.dropped_output_full == 0);
  }
  CHECK(loop.Close() == 0);
}

TEST_CASE("UvClient: a server that is down at first is reached once it starts (backoff)") {
  UvLoop loop;
  {
    uint16_t port = 0;
    {
      FakeDerpServer probe(loop.get(), nullptr);  // a free port, then closed again
      port = probe.port();
    }
    loop.Run(UV_RUN_NOWAIT);
    Events events;
    auto client = NewClient(loop.get(), Options(port), &events);
    client->Start();
    REQUIRE(RunUntil(loop.get(), [&] { return events.disconnects.size() == 3; }));
    CHECK(events.ready == 0);
    CHECK(events.retries == std::vector<std::chrono::milliseconds>{100ms, 200ms, 400ms});
    CHECK(std::string(events.disconnects[0].message()).find("connect") != std::string::npos);

    FakeDerpServer server(loop.get(), nullptr, "127.0.0.1:" + std::to_string(port));
    REQUIRE(RunUntil(loop.get(), [&] { return events.ready == 1; }));
    CHECK(events.attempts.size() == 4);
    CHECK(client->connected());
    CHECK(client->stats().disconnects == 3);
  }
  CHECK(loop.Close() == 0);
}

TEST_CASE("UvClient: refusals: a non-101 answer, a pinned key that does not match") {
  UvLoop loop;
  {
    FakeDerpServer server(loop.get(), nullptr);
    Events events;
    SECTION("HTTP 403") {
      server.refuse = true;
      auto client = NewClient(loop.get(), Options(server.port()), &events);
      client->Start();
      REQUIRE(RunUntil(loop.get(), [&] { return events.disconnects.size() == 2; }));
      CHECK(std::string(events.disconnects[0].message()) ==
            "GET /derp: HTTP 403, not 101 Switching Protocols: DERP refused?");
      CHECK(events.ready == 0);
      server.refuse = false;  // the client keeps trying and gets in
      REQUIRE(RunUntil(loop.get(), [&] { return events.ready == 1; }));
    }
    SECTION("another server key") {
      UvClientOptions options = Options(server.port());
      options.core.expected_server_key = KeyOf(9);
      auto client = NewClient(loop.get(), options, &events);
      client->Start();
      REQUIRE(RunUntil(loop.get(), [&] { return events.disconnects.size() == 1; }));
      CHECK(events.disconnects[0].code() == absl::StatusCode::kPermissionDenied);
      CHECK(server.handshakes == 0);  // no ClientInfo for a server that is not the pinned one
      client->Close();
      // Closed: no more attempts.
      const size_t attempts = events.attempts.size();
      RunUntil(
          loop.get(), [] { return false; }, 300ms);
      CHECK(events.attempts.size() == attempts);
    }
  }
  CHECK(loop.Close() == 0);
}

TEST_CASE("UvClient: a mesh link: WatchConns on every connection, ForwardPacket, ClosePeer") {
  UvLoop loop;
  {
    FakeDerpServer server(loop.get(), nullptr);
    Events events;
    UvClientOptions options = Options(server.port());
    options.core.mesh_key = MeshKey::Parse(std::string(64, '1')).value();
    auto client = NewClient(loop.get(), options, &events);
    client->Start();
    REQUIRE(RunUntil(loop.get(), [&] { return events.ready == 1; }));
    client->WatchConns();
    CHECK(client->ForwardPacket(KeyOf(1), KeyOf(2), AsBytes("forwarded")));
    CHECK(client->ClosePeer(KeyOf(2)));
    auto types = [&](size_t i) { return server.connections[i]->frame_types; };
    using FT = FrameType;
    auto t = [](FT type) { return static_cast<uint8_t>(type); };
    REQUIRE(RunUntil(loop.get(), [&] { return types(0).size() == 3; }));
    CHECK(types(0) ==
          std::vector<uint8_t>{t(FT::kWatchConns), t(FT::kForwardPacket), t(FT::kClosePeer)});
    CHECK(server.connections[0]->info.mesh_key.ConstantTimeEquals(options.core.mesh_key));
    // Remembered: the next connection watches from its start.
    server.CloseAll();
    REQUIRE(RunUntil(loop.get(), [&] { return events.ready == 2; }));
    REQUIRE(RunUntil(loop.get(), [&] { return types(1).size() == 1; }));
    CHECK(types(1) == std::vector<uint8_t>{t(FT::kWatchConns)});
  }
  CHECK(loop.Close() == 0);
}

TEST_CASE("UvClient: Create checks its options") {
  UvLoop loop;
  {
    Events events;
    CHECK_FALSE(UvClient::Create(loop.get(), NewKey(), {}, &events).ok());  // no host
    UvClientOptions bad = Options(1);
    bad.backoff_max = 1ms;
    CHECK_FALSE(UvClient::Create(loop.get(), NewKey(), bad, &events).ok());
    CHECK_FALSE(UvClient::Create(loop.get(), NewKey(), Options(1), nullptr).ok());
  }
  CHECK(loop.Close() == 0);
}

}  // namespace
}  // namespace meshvpn::derp
