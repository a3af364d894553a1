// ClientCore against a scripted server made of handshake.h and codec.h: the handshake bytes, every
// event, input split at every offset, bad greetings and infos, oversized frames, pings (auto pong,
// RTT, timeout), the receive and handshake timeouts, the server's token bucket and packet sizes.
#include "meshvpn/derp/client_core.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "meshvpn/base/bytes.h"
#include "meshvpn/derp/box.h"
#include "meshvpn/derp/codec.h"
#include "meshvpn/derp/frame.h"
#include "meshvpn/derp/handshake.h"
#include "meshvpn/x25519/x25519.h"

namespace meshvpn::derp {
namespace {

using namespace std::chrono_literals;

PublicKey Pub(const PrivateKey& k) { return x25519::DerivePublicKey(k).value(); }
PrivateKey NewKey() { return PrivateKey::Generate().value(); }
PublicKey KeyOf(uint8_t fill) {
  std::array<uint8_t, kKeyLen> bytes;
  bytes.fill(fill);
  return PublicKey(bytes);
}

struct Frame {
  uint8_t type;
  std::string payload;
};

// Cuts what the client wrote into frames.
std::vector<Frame> Frames(std::string_view wire) {
  FrameReader reader(kMaxFrameWrite);
  reader.Feed(AsBytes(wire));
  std::vector<Frame> frames;
  while (auto f = reader.Next()) frames.push_back({f->type, meshvpn::ToString(f->payload)});
  REQUIRE(reader.buffered() == 0);
  return frames;
}

uint8_t T(FrameType type) { return static_cast<uint8_t>(type); }

// Records every event as text.
class Recorder : public ClientEvents {
 public:
  void OnReady(const PublicKey& server, const ServerInfo& info) override {
    events.push_back("ready " + ShortKey(server) + " " +
                     std::to_string(info.token_bucket_bytes_per_second));
  }
  void OnPacket(const PublicKey& source, ByteSpan data) override {
    events.push_back("packet " + ShortKey(source) + " " + meshvpn::ToString(data));
    if (on_packet) on_packet(source, data);
  }
  void OnPeerGone(const PublicKey& peer, PeerGoneReason reason) override {
    events.push_back("gone " + ShortKey(peer) + " " + std::string(ToString(reason)));
  }
  void OnPeerPresent(const PeerPresentMessage& m) override {
    events.push_back("present " + ShortKey(m.peer) + " " +
                     (m.endpoint ? m.endpoint->ToString() : "-") + " " + std::to_string(m.flags));
  }
  void OnPong(const PingData& data, std::optional<Duration> rtt) override {
    events.push_back(
        "pong " + std::to_string(data[0]) + " " +
        (rtt ? std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(*rtt).count()) +
                   "ms"
             : "unmatched"));
  }
  void OnPingTimeout(const PingData& data) override {
    events.push_back("ping timeout " + std::to_string(data[0]));
  }
  void OnKeepAlive() override { events.push_back("keepalive"); }
  void OnHealth(std::string_view problem) override {
    events.push_back("health '" + std::string(problem) + "'");
  }
  void OnRestarting(std::chrono::milliseconds in, std::chrono::milliseconds try_for) override {
    events.push_back("restarting " + std::to_string(in.count()) + " " +
                     std::to_string(try_for.count()));
  }
  void OnError(const absl::Status& error) override {
    events.push_back("error " + std::string(error.message()));
  }

  std::vector<std::string> events;
  std::function<void(const PublicKey&, ByteSpan)> on_packet;
};

// The server's side of the handshake, made of the library's frame functions.
struct ScriptedServer {
  PrivateKey key = NewKey();
  PublicKey pub = Pub(key);

  std::string Greeting() const { return MakeServerKeyFrame(pub); }
  std::string Info(const PublicKey& client, ServerInfo info = {.version = 2}) const {
    return MakeServerInfoFrame(key, client, info);
  }
  // The ClientInfo frame's JSON, opened with the server's key.
  std::string ClientInfoJson(const Frame& frame) const {
    REQUIRE(frame.type == T(FrameType::kClientInfo));
    REQUIRE(frame.payload.size() > kKeyLen);
    const PublicKey client(x25519::KeySpan(AsBytes(frame.payload).first<kKeyLen>()));
    auto json = OpenFrom(key, client, AsBytes(frame.payload).subspan(kKeyLen));
    REQUIRE(json);
    REQUIRE(OpenClientInfo(key, AsBytes(frame.payload)).ok());
    return *json;
  }
};

struct Fixture {
  explicit Fixture(ClientCoreOptions options = {})
      : client_key(NewKey()),
        client_pub(Pub(client_key)),
        core(client_key, client_pub, std::move(options), &clock, &events) {}

  void Feed(std::string_view bytes) { core.Feed(AsBytes(bytes)); }
  // Greeting and info; returns the client's frames written meanwhile.
  std::vector<Frame> Handshake(ServerInfo info = {.version = 2}) {
    Feed(server.Greeting());
    Feed(server.Info(client_pub, info));
    return Frames(core.TakeOutput());
  }

  FakeClock clock;
  Recorder events;
  ScriptedServer server;
  PrivateKey client_key;
  PublicKey client_pub;
  ClientCore core;
};

TEST_CASE(
    "ClientCore: the handshake sends ClientInfo {version 2, CanAckPings} after the greeting") {
  Fixture f;
  CHECK(f.core.PendingOutput().empty());  // nothing before the greeting
  CHECK_FALSE(f.core.greeted());
  f.Feed(f.server.Greeting());
  CHECK(f.core.greeted());
  CHECK_FALSE(f.core.ready());
  CHECK(f.core.server_key() == f.server.pub);
  const std::vector<Frame> frames = Frames(f.core.TakeOutput());
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].payload.substr(0, kKeyLen) == meshvpn::ToString(f.client_pub.bytes()));
  CHECK(frames[0].payload.size() ==
        kKeyLen + kSealOverhead + std::string_view(R"({"version":2,"CanAckPings":true})").size());
  CHECK(f.server.ClientInfoJson(frames[0]) == R"({"version":2,"CanAckPings":true})");
  CHECK(f.events.events.empty());

  f.Feed(f.server.Info(f.client_pub, {.version = 2}));
  CHECK(f.core.ready());
  REQUIRE(f.core.server_info());
  CHECK(f.core.server_info()->version == 2);
  CHECK(f.events.events == std::vector<std::string>{"ready " + ShortKey(f.server.pub) + " 0"});
  CHECK(f.core.PendingOutput().empty());
  CHECK(f.core.stats().frames_received == 2);
  CHECK(f.core.stats().frames_sent == 1);
  CHECK(f.core.stats().server_infos_received == 1);
}

TEST_CASE("ClientCore: mesh key, prober, app name, preferred and WatchConns go out in order") {
  ClientCoreOptions o;
  o.mesh_key = MeshKey::Parse(std::string(64, 'a')).value();
  o.is_prober = true;
  o.app_name = "derp_client";
  o.preferred = true;
  o.watch_conns = true;
  o.can_ack_pings = false;
  Fixture f(std::move(o));
  const std::vector<Frame> frames = f.Handshake();
  REQUIRE(frames.size() == 3);
  CHECK(f.server.ClientInfoJson(frames[0]) ==
        R"({"meshKey":")" + std::string(64, 'a') +
            R"(","version":2,"CanAckPings":false,"IsProber":true,"AppName":"derp_client"})");
  CHECK(frames[1].type == T(FrameType::kNotePreferred));
  CHECK(frames[1].payload == std::string(1, '\x01'));
  CHECK(frames[2].type == T(FrameType::kWatchConns));
  CHECK(frames[2].payload.empty());
}

TEST_CASE("ClientCore: sends before the greeting are held and follow the ClientInfo") {
  Fixture f;
  const PublicKey peer = KeyOf(7);
  CHECK(f.core.Send(peer, AsBytes("early")) == SendResult::kSent);
  CHECK(f.core.NotePreferred(false));
  CHECK(f.core.PendingOutput().empty());
  f.Feed(f.server.Greeting());
  const std::vector<Frame> frames = Frames(f.core.TakeOutput());
  REQUIRE(frames.size() == 3);
  CHECK(frames[0].type == T(FrameType::kClientInfo));
  CHECK(frames[1].type == T(FrameType::kSendPacket));
  std::string expected_payload = meshvpn::ToString(peer.bytes());
  expected_payload.append("early");
  CHECK(frames[1].payload == expected_payload);
  CHECK(frames[2].type == T(FrameType::kNotePreferred));
  CHECK(frames[2].payload == std::string(1, '\0'));
}

TEST_CASE("ClientCore: sends are the builders' frames, and do not wait for ServerInfo") {
  Fixture f;
  f.Feed(f.server.Greeting());
  f.core.TakeOutput();
  const PublicKey a = KeyOf(1), b = KeyOf(2);
  CHECK(f.core.Send(a, AsBytes("to a")) == SendResult::kSent);
  CHECK(f.core.ForwardPacket(a, b, AsBytes("a to b")) == SendResult::kSent);
  CHECK(f.core.SendPing(PingData{9, 0, 0, 0, 0, 0, 0, 0}));
  CHECK(f.core.NotePreferred(true));
  CHECK(f.core.WatchConns());
  CHECK(f.core.ClosePeer(b));
  std::string expected;
  AppendSendPacket(a, AsBytes("to a"), &expected);
  AppendForwardPacket(a, b, AsBytes("a to b"), &expected);
  AppendPing(PingData{9, 0, 0, 0, 0, 0, 0, 0}, &expected);
  AppendNotePreferred(true, &expected);
  AppendWatchConns(&expected);
  AppendClosePeer(b, &expected);
  CHECK(f.core.PendingOutput() == expected);
  CHECK(f.core.stats().packets_sent == 2);
  CHECK(f.core.stats().packets_forwarded == 1);
  CHECK(f.core.stats().packet_bytes_sent == 10);
  CHECK(f.core.stats().frames_sent == 7);  // with the ClientInfo
  // PendingOutput / ConsumeOutput in pieces.
  f.core.ConsumeOutput(10);
  CHECK(f.core.PendingOutput() == expected.substr(10));
  f.core.ConsumeOutput(expected.size());
  CHECK(f.core.PendingOutput().empty());
}

// A server's frames after the handshake: one of each kind the client handles.
std::string EveryServerFrame(const PublicKey& peer) {
  std::string wire;
  AppendRecvPacket(peer, AsBytes("hello"), &wire);
  AppendKeepAlive(&wire);
  AppendPeerGone(peer, PeerGoneReason::kNotHere, &wire);
  AppendPeerPresent(peer, PeerEndpoint::FromIpv4(0x0a000001, 41641), peer_present_flags::kIsRegular,
                    &wire);
  AppendPing(PingData{5, 5, 5, 5, 5, 5, 5, 5}, &wire);
  AppendPong(PingData{6, 0, 0, 0, 0, 0, 0, 0}, &wire);
  AppendHealth("region overloaded", &wire);
  AppendHealth("", &wire);
  AppendRestarting(1500ms, 20000ms, &wire);
  AppendFrame(0x7f, AsBytes("unknown"), &wire);                              // skipped
  AppendSendPacket(peer, AsBytes("a client's frame"), &wire);                // skipped
  AppendFrame(FrameType::kRecvPacket, AsBytes("short"), &wire);              // skipped: no key
  AppendRecvPacket(peer, AsBytes(std::string(kMaxPacketSize, 'x')), &wire);  // the largest
  return wire;
}

std::vector<std::string> EveryServerFrameEvents(const PublicKey& peer) {
  const std::string k = ShortKey(peer);
  return {"packet " + k + " hello",
          "keepalive",
          "gone " + k + " " + std::string(ToString(PeerGoneReason::kNotHere)),
          "present " + k + " 10.0.0.1:41641 1",
          "pong 6 unmatched",
          "health 'region overloaded'",
          "health ''",
          "restarting 1500 20000",
          "packet " + k + " " + std::string(kMaxPacketSize, 'x')};
}

TEST_CASE("ClientCore: every server frame becomes its event; pings are answered") {
  Fixture f;
  f.Handshake();
  f.events.events.clear();
  const PublicKey peer = KeyOf(3);
  f.Feed(EveryServerFrame(peer));
  CHECK(f.events.events == EveryServerFrameEvents(peer));
  const std::vector<Frame> out = Frames(f.core.TakeOutput());
  REQUIRE(out.size() == 1);
  CHECK(out[0].type == T(FrameType::kPong));
  CHECK(out[0].payload == std::string(8, '\x05'));
  const ClientStats& s = f.core.stats();
  CHECK(s.packets_received == 2);
  CHECK(s.packet_bytes_received == 5 + kMaxPacketSize);
  CHECK(s.keepalives_received == 1);
  CHECK(s.peer_gone_received == 1);
  CHECK(s.peer_present_received == 1);
  CHECK(s.pings_received == 1);
  CHECK(s.pongs_sent == 1);
  CHECK(s.pongs_received == 1);
  CHECK(s.pongs_unmatched == 1);
  CHECK(s.health_received == 2);
  CHECK(s.restarting_received == 1);
  CHECK(s.frames_skipped == 3);
  CHECK(s.frames_received == 2 + 13);
}

TEST_CASE("ClientCore: without can_ack_pings a server ping gets no pong") {
  ClientCoreOptions o;
  o.can_ack_pings = false;
  Fixture f(o);
  f.Handshake();
  std::string wire;
  AppendPing(PingData{1}, &wire);
  f.Feed(wire);
  CHECK(f.core.PendingOutput().empty());
  CHECK(f.core.stats().pings_received == 1);
  CHECK(f.core.stats().pongs_sent == 0);
}

TEST_CASE("ClientCore: the same events whatever way the stream is split") {
  const PrivateKey client_key = NewKey();
  const PublicKey client_pub = Pub(client_key);
  const ScriptedServer server;
  const PublicKey peer = KeyOf(4);
  const std::string script = server.Greeting() + server.Info(client_pub) + EveryServerFrame(peer);
  std::vector<std::string> expected = {"ready " + ShortKey(server.pub) + " 0"};
  for (const std::string& e : EveryServerFrameEvents(peer)) expected.push_back(e);

  auto run = [&](const std::vector<size_t>& cuts) {
    FakeClock clock;
    Recorder events;
    ClientCore core(client_key, client_pub, {}, &clock, &events);
    size_t at = 0;
    for (size_t cut : cuts) {
      core.Feed(AsBytes(script).subspan(at, cut - at));
      at = cut;
    }
    core.Feed(AsBytes(script).subspan(at));
    CHECK(events.events == expected);
    CHECK(core.stats().bytes_received == script.size());
    const std::vector<Frame> out = Frames(core.TakeOutput());
    REQUIRE(out.size() == 2);  // ClientInfo, pong
    CHECK(out[1].type == T(FrameType::kPong));
  };
  // Two pieces at every offset of the handshake and the small frames (the big packet at the end
  // is cut every 997 bytes).
  const size_t small_end = script.size() - (kFrameHeaderLen + kKeyLen + kMaxPacketSize);
  for (size_t cut = 1; cut < script.size(); cut += cut < small_end ? 1 : 997) run({cut});
  // One byte at a time through the handshake, then a few big pieces.
  std::vector<size_t> bytewise;
  for (size_t i = 1; i < small_end; ++i) bytewise.push_back(i);
  run(bytewise);
}

TEST_CASE("ClientCore: a bad greeting fails the connection") {
  SECTION("wrong magic") {
    Fixture f;
    std::string greeting = f.server.Greeting();
    greeting[kFrameHeaderLen + 3] = 'Q';
    f.Feed(greeting);
    CHECK(f.core.failed());
    CHECK(f.events.events == std::vector<std::string>{"error invalid server greeting"});
  }
  SECTION("the first frame is not the server key") {
    Fixture f;
    std::string wire;
    AppendKeepAlive(&wire);
    f.Feed(wire);
    CHECK(f.events.events ==
          std::vector<std::string>{"error invalid server greeting: the first frame is keep_alive"});
  }
  SECTION("a greeting longer than 1 KiB (before its payload arrived)") {
    Fixture f;
    f.Feed(std::string("\x01\x00\x00\x04\x01", 5));
    CHECK(f.core.failed());
    CHECK(f.events.events == std::vector<std::string>{
                                 "error invalid server greeting: a frame of more than 1024 bytes"});
  }
  SECTION("a short greeting") {
    Fixture f;
    std::string wire;
    AppendFrame(FrameType::kServerKey, AsBytes(kMagicString), &wire);
    f.Feed(wire);
    CHECK(f.core.failed());
  }
  SECTION("a greeting of 1 KiB with future bytes is fine") {
    Fixture f;
    std::string payload = std::string(kMagicString) + meshvpn::ToString(f.server.pub.bytes());
    payload.resize(kMaxServerKeyFrameLen, 'f');
    std::string wire;
    AppendFrame(FrameType::kServerKey, AsBytes(payload), &wire);
    f.Feed(wire);
    CHECK(f.core.greeted());
    CHECK(f.events.events.empty());
  }
  SECTION("the all-zero server key") {
    Fixture f;
    f.Feed(MakeServerKeyFrame(PublicKey()));
    CHECK(f.core.failed());
    CHECK(f.core.PendingOutput().empty());
  }
}

TEST_CASE("ClientCore: a pinned server key must match") {
  const ScriptedServer expected_server;
  ClientCoreOptions o;
  o.expected_server_key = expected_server.pub;
  SECTION("another key") {
    Fixture f(o);
    f.Feed(f.server.Greeting());
    CHECK(f.core.failed());
    CHECK(f.core.error().code() == absl::StatusCode::kPermissionDenied);
    CHECK(f.core.PendingOutput().empty());  // no ClientInfo for an impostor
    REQUIRE(f.events.events.size() == 1);
    CHECK(f.events.events[0] == "error server key " + ShortKey(f.server.pub) +
                                    " is not the expected " + ShortKey(expected_server.pub));
  }
  SECTION("the pinned key") {
    Fixture f(o);
    f.server.key = expected_server.key;
    f.server.pub = expected_server.pub;
    f.Handshake();
    CHECK(f.core.ready());
  }
}

TEST_CASE("ClientCore: a ServerInfo that does not open with the server's key fails") {
  Fixture f;
  f.Feed(f.server.Greeting());
  SECTION("sealed by someone else") {
    const ScriptedServer mallory;
    f.Feed(mallory.Info(f.client_pub));
    CHECK(f.core.failed());
    CHECK(f.core.error().code() == absl::StatusCode::kPermissionDenied);
    CHECK(f.events.events ==
          std::vector<std::string>{"error invalid server info frame: server info: the box does not "
                                   "open with the server's key"});
  }
  SECTION("sealed to someone else") {
    f.Feed(f.server.Info(KeyOf(9)));
    CHECK(f.core.failed());
  }
  SECTION("shorter than a nonce") {
    std::string wire;
    AppendFrame(FrameType::kServerInfo, AsBytes("short"), &wire);
    f.Feed(wire);
    CHECK(f.core.failed());
  }
  SECTION("not JSON") {
    std::string wire;
    AppendFrame(FrameType::kServerInfo, AsBytes(SealTo(f.server.key, f.client_pub, AsBytes("{"))),
                &wire);
    f.Feed(wire);
    CHECK(f.core.failed());
  }
  // Dead: later bytes are ignored, sends are refused and counted.
  f.Feed(f.server.Info(f.client_pub));
  CHECK_FALSE(f.core.ready());
  CHECK(f.events.events.size() == 1);
  CHECK(f.core.Send(KeyOf(1), AsBytes("x")) == SendResult::kNotConnected);
  CHECK_FALSE(f.core.SendPing(PingData{}));
  CHECK(f.core.stats().dropped_not_connected == 1);
  CHECK_FALSE(f.core.NextExpiry());
}

TEST_CASE("ClientCore: a frame over 1 MiB after the handshake is an error, 1 MiB is not") {
  Fixture f;
  f.Handshake();
  f.events.events.clear();
  std::string wire;
  AppendFrame(0x7f, AsBytes(std::string(kMaxFrameLen, 'u')), &wire);  // skipped, 1 MiB exactly
  f.Feed(wire);
  CHECK_FALSE(f.core.failed());
  CHECK(f.core.stats().frames_skipped == 1);
  f.Feed(std::string("\x05\x00\x10\x00\x01", 5));  // 1 MiB + 1: fails at the header
  CHECK(f.core.failed());
  CHECK(f.events.events ==
        std::vector<std::string>{"error unexpectedly large frame: more than 1048576 bytes"});
}

TEST_CASE("ClientCore: a ping's pong reports the RTT; a second ping may be in flight") {
  Fixture f;
  f.Handshake();
  f.events.events.clear();
  const std::optional<PingData> first = f.core.Ping();
  REQUIRE(first);
  CHECK(f.core.SendPing(PingData{2}));
  CHECK_FALSE(f.core.SendPing(PingData{2}));  // the same data twice: no way to tell them apart
  CHECK(f.core.outstanding_pings() == 2);
  std::vector<Frame> out = Frames(f.core.TakeOutput());
  REQUIRE(out.size() == 2);
  CHECK(out[0].type == T(FrameType::kPing));
  CHECK(out[0].payload == std::string(reinterpret_cast<const char*>(first->data()), kPingLen));
  f.clock.Advance(30ms);
  std::string wire;
  AppendPong(PingData{2}, &wire);
  f.Feed(wire);
  f.clock.Advance(12ms);
  wire.clear();
  AppendPong(*first, &wire);
  f.Feed(wire);
  CHECK(f.events.events ==
        std::vector<std::string>{"pong 2 30ms", "pong " + std::to_string((*first)[0]) + " 42ms"});
  CHECK(f.core.outstanding_pings() == 0);
  CHECK(f.core.stats().pings_sent == 2);
  CHECK(f.core.stats().pongs_received == 2);
  CHECK(f.core.stats().pongs_unmatched == 0);
}

TEST_CASE("ClientCore: at most max_outstanding_pings wait") {
  ClientCoreOptions o;
  o.max_outstanding_pings = 2;
  Fixture f(o);
  f.Handshake();
  CHECK(f.core.SendPing(PingData{1}));
  CHECK(f.core.SendPing(PingData{2}));
  CHECK_FALSE(f.core.SendPing(PingData{3}));
  CHECK_FALSE(f.core.Ping());
}

TEST_CASE("ClientCore: an unanswered ping times out after 5 s") {
  Fixture f;
  f.Handshake();
  f.events.events.clear();
  const MonoTime sent = f.clock.Now();
  REQUIRE(f.core.SendPing(PingData{7}));
  REQUIRE(f.core.NextExpiry());
  CHECK(*f.core.NextExpiry() == sent + kPingTimeout);
  f.clock.Advance(kPingTimeout - 1ms);
  f.core.HandleExpiry(f.clock.Now());
  CHECK(f.events.events.empty());
  f.clock.Advance(1ms);
  f.core.HandleExpiry(f.clock.Now());
  CHECK(f.events.events == std::vector<std::string>{"ping timeout 7"});
  CHECK(f.core.stats().ping_timeouts == 1);
  CHECK(f.core.outstanding_pings() == 0);
  CHECK_FALSE(f.core.failed());  // a lost ping is not a dead connection
  // Its late pong is unmatched.
  std::string wire;
  AppendPong(PingData{7}, &wire);
  f.Feed(wire);
  CHECK(f.events.events.back() == "pong 7 unmatched");
}

TEST_CASE("ClientCore: nothing from the server for 120 s fails the connection") {
  Fixture f;
  f.Handshake();
  f.events.events.clear();
  CHECK(*f.core.NextExpiry() == f.clock.Now() + kClientRecvTimeout);
  f.clock.Advance(119s);
  f.core.HandleExpiry(f.clock.Now());
  CHECK_FALSE(f.core.failed());
  std::string keepalive;
  AppendKeepAlive(&keepalive);
  f.Feed(keepalive);  // restarts the 120 s
  const MonoTime fed = f.clock.Now();
  CHECK(*f.core.NextExpiry() == fed + kClientRecvTimeout);
  f.clock.Advance(kClientRecvTimeout - 1ms);
  f.core.HandleExpiry(f.clock.Now());
  CHECK_FALSE(f.core.failed());
  f.clock.Advance(1ms);
  f.core.HandleExpiry(f.clock.Now());
  CHECK(f.core.failed());
  CHECK(f.core.error().code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(f.events.events ==
        std::vector<std::string>{"keepalive", "error no frame from the server for 120 s"});
}

TEST_CASE("ClientCore: no greeting or no ServerInfo within the handshake timeout fails") {
  SECTION("no greeting") {
    Fixture f;
    CHECK(*f.core.NextExpiry() == f.clock.Now() + kHandshakeTimeout);
    f.clock.Advance(kHandshakeTimeout);
    f.core.HandleExpiry(f.clock.Now());
    CHECK(f.events.events == std::vector<std::string>{"error no server greeting within 10 s"});
  }
  SECTION("a greeting but no ServerInfo") {
    Fixture f;
    f.Feed(f.server.Greeting());
    f.clock.Advance(kHandshakeTimeout);
    f.core.HandleExpiry(f.clock.Now());
    CHECK(f.events.events == std::vector<std::string>{"error no server info within 10 s"});
  }
}

TEST_CASE("ClientCore: the ServerInfo's token bucket drops sends beyond it, counted") {
  Fixture f;
  // Frames of 1000 bytes: 5 header + 32 key + 963 packet. Burst: two of them; refill 1000/s.
  f.Handshake(
      {.version = 2, .token_bucket_bytes_per_second = 1000, .token_bucket_bytes_burst = 2000});
  const std::string packet(963, 'p');
  const PublicKey peer = KeyOf(5);
  CHECK(f.core.Send(peer, AsBytes(packet)) == SendResult::kSent);
  CHECK(f.core.Send(peer, AsBytes(packet)) == SendResult::kSent);
  CHECK(f.core.Send(peer, AsBytes(packet)) == SendResult::kRateLimited);
  f.clock.Advance(500ms);
  CHECK(f.core.Send(peer, AsBytes(packet)) == SendResult::kRateLimited);  // 500 tokens
  f.clock.Advance(500ms);
  CHECK(f.core.Send(peer, AsBytes(packet)) == SendResult::kSent);
  f.clock.Advance(10s);  // refills up to the burst only
  CHECK(f.core.Send(peer, AsBytes(packet)) == SendResult::kSent);
  CHECK(f.core.Send(peer, AsBytes(packet)) == SendResult::kSent);
  CHECK(f.core.Send(peer, AsBytes(packet)) == SendResult::kRateLimited);
  // Only packets are limited: pings, forwards and control frames are not.
  CHECK(f.core.SendPing(PingData{1}));
  CHECK(f.core.ForwardPacket(peer, peer, AsBytes(packet)) == SendResult::kSent);
  CHECK(f.core.stats().dropped_rate_limited == 3);
  CHECK(f.core.stats().packets_sent == 6);
  // A later ServerInfo without a rate lifts the limit.
  f.Feed(f.server.Info(f.client_pub, {.version = 2}));
  CHECK(f.core.Send(peer, AsBytes(packet)) == SendResult::kSent);
  CHECK(f.core.stats().server_infos_received == 2);
  CHECK(f.events.events.size() == 1);  // one OnReady
}

TEST_CASE("ClientCore: packets over 64 KiB are refused; 64 KiB is fine") {
  Fixture f;
  f.Handshake();
  const PublicKey peer = KeyOf(6);
  const std::string max(kMaxPacketSize, 'm');
  const std::string over(kMaxPacketSize + 1, 'o');
  CHECK(f.core.Send(peer, AsBytes(max)) == SendResult::kSent);
  CHECK(f.core.Send(peer, AsBytes(over)) == SendResult::kTooLarge);
  CHECK(f.core.ForwardPacket(peer, peer, AsBytes(over)) == SendResult::kTooLarge);
  CHECK(f.core.stats().dropped_too_large == 2);
  const std::vector<Frame> out = Frames(f.core.TakeOutput());
  REQUIRE(out.size() == 1);
  CHECK(out[0].payload.size() == kKeyLen + kMaxPacketSize);
}

TEST_CASE("ClientCore: output the driver has not taken is bounded") {
  ClientCoreOptions o;
  o.max_pending_output = 3000;
  Fixture f(o);
  f.Handshake();
  const std::string packet(1000, 'p');
  const PublicKey peer = KeyOf(8);
  CHECK(f.core.Send(peer, AsBytes(packet)) == SendResult::kSent);
  CHECK(f.core.Send(peer, AsBytes(packet)) == SendResult::kSent);
  CHECK(f.core.Send(peer, AsBytes(packet)) == SendResult::kOutputFull);
  CHECK(f.core.SendPing(PingData{1}));  // control frames have some slack
  CHECK(f.core.stats().dropped_output_full == 1);
  f.core.ConsumeOutput(f.core.PendingOutput().size());
  CHECK(f.core.Send(peer, AsBytes(packet)) == SendResult::kSent);
}

TEST_CASE("ClientCore: an event handler may send; Close stops everything") {
  Fixture f;
  f.Handshake();
  f.events.on_packet = [&](const PublicKey& source, ByteSpan data) {
    f.core.Send(source, data);  // echo
  };
  std::string wire;
  AppendRecvPacket(KeyOf(1), AsBytes("one"), &wire);
  AppendRecvPacket(KeyOf(2), AsBytes("two"), &wire);
  f.Feed(wire);
  std::string expected;
  AppendSendPacket(KeyOf(1), AsBytes("one"), &expected);
  AppendSendPacket(KeyOf(2), AsBytes("two"), &expected);
  CHECK(f.core.TakeOutput() == expected);

  f.core.SendPing(PingData{1});
  f.core.Close();
  CHECK_FALSE(f.core.NextExpiry());
  CHECK(f.core.Send(KeyOf(1), AsBytes("x")) == SendResult::kNotConnected);
  f.Feed(wire);
  CHECK(f.core.stats().packets_received == 2);
  CHECK(f.events.events.size() == 3);  // ready, two packets; no error
}

TEST_CASE("ClientCore: errors never carry the mesh key") {
  ClientCoreOptions o;
  o.mesh_key = MeshKey::Parse(std::string(64, 'c')).value();
  Fixture f(o);
  f.Feed(f.server.Greeting());
  const ScriptedServer mallory;
  f.Feed(mallory.Info(f.client_pub));
  REQUIRE(f.core.failed());
  CHECK(std::string(f.core.error().message()).find("cccc") == std::string::npos);
}

}  // namespace
}  // namespace meshvpn::derp
