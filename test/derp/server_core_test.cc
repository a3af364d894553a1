// The DERP server core with fake connections: handshake, routing, PeerGone both ways, queue
// overflow, duplicate keys, a lying client, pings, keepalives, rate limits, NotePreferred.
#include "meshvpn/derp/server_core.h"

#include <catch2/catch.hpp>

#include "server_test_support.h"

namespace meshvpn::derp {
namespace {

using testing::DiscoPacket;
using testing::FakeTransport;
using testing::OptionsWithNewKey;
using testing::ScriptedClient;

uint64_t Dropped(const ServerStats& s, DropReason r) {
  const auto& kinds = s.packets_dropped[static_cast<size_t>(r)];
  return kinds[0] + kinds[1];
}
uint64_t Closed(const ServerStats& s, CloseReason r) { return s.closed[static_cast<size_t>(r)]; }

struct Fixture {
  explicit Fixture(ServerOptions options = OptionsWithNewKey())
      : core(std::move(options), &transport, &clock) {}
  FakeClock clock;
  FakeTransport transport;
  ServerCore core;
};

TEST_CASE("two clients relay through the core, keys in RecvPacket") {
  Fixture f;
  ScriptedClient alice(&f.core, &f.transport, 1), bob(&f.core, &f.transport, 2);
  alice.Connect();
  bob.Connect();
  CHECK(f.core.client_keys() == 2);
  CHECK(f.core.IsConnected(alice.pub()));
  CHECK(f.core.stats().handshakes == 2);

  alice.SendTo(bob.pub(), "hello bob");
  bob.SendTo(alice.pub(), "hello alice");
  CHECK(bob.Packets() == std::vector<std::string>{ShortKey(alice.pub()) + ":hello bob"});
  CHECK(alice.Packets() == std::vector<std::string>{ShortKey(bob.pub()) + ":hello alice"});
  CHECK(f.core.stats().packets_received == 2);
  CHECK(f.core.stats().packets_sent == 2);
  CHECK(f.core.stats().bytes_sent == 9 + 11);
  CHECK(f.core.stats().dropped_total() == 0);
}

TEST_CASE("many frames in one read, and one frame split at every byte") {
  Fixture f;
  ScriptedClient alice(&f.core, &f.transport, 1), bob(&f.core, &f.transport, 2);
  alice.Connect();
  bob.Connect();
  std::string burst;
  for (int i = 0; i < 10; ++i)
    AppendSendPacket(bob.pub(), AsBytes("p" + std::to_string(i)), &burst);
  alice.Write(burst);
  CHECK(bob.Packets().size() == 10);
  std::string one;
  AppendSendPacket(bob.pub(), AsBytes("split"), &one);
  for (char byte : one) alice.Write(std::string(1, byte));
  CHECK(bob.Packets() == std::vector<std::string>{ShortKey(alice.pub()) + ":split"});
}

TEST_CASE("a client that received from a peer hears PeerGone when the peer leaves") {
  Fixture f;
  ScriptedClient alice(&f.core, &f.transport, 1), bob(&f.core, &f.transport, 2),
      carol(&f.core, &f.transport, 3);
  alice.Connect();
  bob.Connect();
  carol.Connect();
  alice.SendTo(bob.pub(), "x");
  REQUIRE(bob.Packets().size() == 1);
  f.core.OnConnectionClosed(alice.id());
  auto messages = bob.Receive();
  REQUIRE(messages.size() == 1);
  const auto& gone = std::get<PeerGoneMessage>(messages[0]);
  CHECK(gone.peer == alice.pub());
  CHECK(gone.reason == PeerGoneReason::kDisconnected);
  CHECK(carol.Receive().empty());  // carol never heard from alice
  CHECK(f.core.stats().peer_gone_disconnected_frames == 1);
  CHECK_FALSE(f.core.IsConnected(alice.pub()));
}

TEST_CASE("packets for an absent key: dropped, and PeerGone(NotHere) for disco, rate-limited") {
  Fixture f;
  ScriptedClient alice(&f.core, &f.transport, 1);
  alice.Connect();
  const PublicKey nobody = x25519::DerivePublicKey(PrivateKey::Generate().value()).value();
  alice.SendTo(nobody, "not disco");
  CHECK(alice.Receive().empty());
  CHECK(Dropped(f.core.stats(), DropReason::kUnknownDest) == 1);
  for (int i = 0; i < 5; ++i) alice.SendTo(nobody, DiscoPacket());
  auto messages = alice.Receive();
  CHECK(messages.size() == 3);  // a burst of 3 (derpserver.go peerGoneLim)
  CHECK(std::get<PeerGoneMessage>(messages[0]).reason == PeerGoneReason::kNotHere);
  f.clock.Advance(std::chrono::seconds(1));
  alice.SendTo(nobody, DiscoPacket());
  alice.SendTo(nobody, DiscoPacket());
  CHECK(alice.Receive().size() == 1);  // then one a second
  CHECK(Dropped(f.core.stats(), DropReason::kUnknownDest) == 8);
  CHECK(f.core.stats().packets_dropped[static_cast<size_t>(DropReason::kUnknownDest)]
                                      [static_cast<size_t>(PacketKind::kDisco)] == 7);
}

TEST_CASE("a destination that does not read: its queue keeps the newest 32, drops counted") {
  Fixture f;
  ScriptedClient alice(&f.core, &f.transport, 1), bob(&f.core, &f.transport, 2);
  alice.Connect();
  bob.Connect();
  for (int i = 0; i < 40; ++i) alice.SendTo(bob.pub(), "p" + std::to_string(i));
  CHECK(Dropped(f.core.stats(), DropReason::kQueueHead) == 8);
  auto packets = bob.Packets();
  REQUIRE(packets.size() == kPerClientSendQueueDepth);
  CHECK(packets.front() == ShortKey(alice.pub()) + ":p8");
  CHECK(packets.back() == ShortKey(alice.pub()) + ":p39");
  // Disco has its own queue: a data flood does not push it out.
  for (int i = 0; i < 40; ++i) alice.SendTo(bob.pub(), "data");
  alice.SendTo(bob.pub(), DiscoPacket());
  packets = bob.Packets();
  CHECK(packets.size() == kPerClientSendQueueDepth + 1);
  CHECK(packets.front().find("TS") != std::string::npos);  // disco goes out first
}

TEST_CASE("a full queue asks the driver to write at once") {
  Fixture f;
  ScriptedClient alice(&f.core, &f.transport, 1), bob(&f.core, &f.transport, 2);
  alice.Connect();
  bob.Connect();
  f.transport.wants.clear();
  alice.SendTo(bob.pub(), "first");
  CHECK(f.transport.wants.contains(bob.id()));
  f.transport.wants.clear();
  for (size_t i = 1; i < kPerClientSendQueueDepth - 1; ++i) alice.SendTo(bob.pub(), "more");
  CHECK_FALSE(f.transport.wants.contains(bob.id()));  // already asked
  alice.SendTo(bob.pub(), "fills it");
  CHECK(f.transport.wants.contains(bob.id()));  // full: asked again
}

TEST_CASE("duplicate connections for one key: the last to connect or to send is active") {
  Fixture f;
  ScriptedClient alice(&f.core, &f.transport, 1), bob1(&f.core, &f.transport, 2);
  alice.Connect();
  bob1.Connect();
  ScriptedClient bob2(&f.core, &f.transport, 3, bob1);
  bob2.Connect();
  CHECK(f.core.client_keys() == 2);
  CHECK(f.core.connections() == 3);
  CHECK(f.core.stats().current_dup_keys == 1);
  CHECK(f.core.stats().dup_connections_total == 1);

  alice.SendTo(bob1.pub(), "to newest");
  CHECK(bob2.Packets().size() == 1);
  CHECK(bob1.Packets().empty());
  // bob1 speaks: it becomes the active one (derpserver.go lastWriterIsActive).
  std::string ping;
  AppendPing(PingData{}, &ping);
  bob1.Write(ping);
  alice.SendTo(bob1.pub(), "to last writer");
  CHECK(bob1.Packets().size() == 1);
  CHECK(bob2.Packets().empty());
  // One leaving keeps the key connected, with no PeerGone to alice.
  f.core.OnConnectionClosed(bob1.id());
  CHECK(f.core.IsConnected(bob1.pub()));
  CHECK(f.core.stats().current_dup_keys == 0);
  alice.SendTo(bob2.pub(), "to the one left");
  CHECK(bob2.Packets().size() == 1);
}

TEST_CASE("a lying client is closed and counted; the others keep relaying") {
  Fixture f;
  ScriptedClient alice(&f.core, &f.transport, 1), bob(&f.core, &f.transport, 2);
  alice.Connect();
  bob.Connect();

  SECTION("a frame before the handshake") {
    ScriptedClient liar(&f.core, &f.transport, 9);
    liar.Open();
    liar.SendTo(bob.pub(), "early");
    CHECK(liar.closed());
    CHECK(Closed(f.core.stats(), CloseReason::kBadClientInfo) == 1);
  }
  SECTION("a ClientInfo sealed to another server") {
    ScriptedClient liar(&f.core, &f.transport, 9);
    liar.Open();
    const PrivateKey key = PrivateKey::Generate().value();
    const PublicKey other = x25519::DerivePublicKey(PrivateKey::Generate().value()).value();
    liar.Write(MakeClientInfoFrame(key, x25519::DerivePublicKey(key).value(), other, ClientInfo{}));
    CHECK(liar.closed());
    CHECK(Closed(f.core.stats(), CloseReason::kBadClientInfo) == 1);
  }
  SECTION("an oversized frame header, closed before its payload arrives") {
    ScriptedClient liar(&f.core, &f.transport, 9);
    liar.Connect();
    liar.Write(std::string("\x04\x7f\xff\xff\xff", 5));
    CHECK(liar.closed());
    CHECK(Closed(f.core.stats(), CloseReason::kFrameTooLarge) == 1);
    CHECK_FALSE(f.core.IsConnected(liar.pub()));
  }
  SECTION("a 64 KiB + 1 packet") {
    ScriptedClient liar(&f.core, &f.transport, 9);
    liar.Connect();
    liar.SendTo(bob.pub(), std::string(kMaxPacketSize + 1, 'x'));
    CHECK(liar.closed());
    CHECK(Closed(f.core.stats(), CloseReason::kBadFrame) == 1);
  }
  SECTION("mesh frames without the mesh key") {
    ScriptedClient liar(&f.core, &f.transport, 9);
    liar.Connect();
    std::string watch;
    AppendWatchConns(&watch);
    liar.Write(watch);
    CHECK(liar.closed());
    CHECK(Closed(f.core.stats(), CloseReason::kNotPermitted) == 1);
  }
  SECTION("a NotePreferred of two bytes") {
    ScriptedClient liar(&f.core, &f.transport, 9);
    liar.Connect();
    liar.Write(std::string("\x07\0\0\0\x02\x01\x01", 7));
    CHECK(liar.closed());
  }
  SECTION("no ClientInfo within 10 s (a slowloris after the upgrade)") {
    ScriptedClient liar(&f.core, &f.transport, 9);
    liar.Open();
    liar.Write(std::string("\x02\x00", 2));  // half a header, then nothing
    f.clock.Advance(std::chrono::seconds(9));
    f.core.HandleExpiry(f.clock.Now());
    CHECK_FALSE(liar.closed());
    f.clock.Advance(std::chrono::seconds(2));
    f.core.HandleExpiry(f.clock.Now());
    CHECK(liar.closed());
    CHECK(Closed(f.core.stats(), CloseReason::kHandshakeTimeout) == 1);
  }
  SECTION("unknown frame types are skipped") {
    alice.Write(std::string("\x7e\0\0\0\x03xyz", 8));
    CHECK_FALSE(alice.closed());
    CHECK(f.core.stats().unknown_frames == 1);
  }
  alice.SendTo(bob.pub(), "still relaying");
  CHECK(bob.Packets().size() == 1);
  CHECK(f.core.connections() >= 2);
}

TEST_CASE("a ping gets its pong; pings before the pong is written get one") {
  Fixture f;
  ScriptedClient alice(&f.core, &f.transport, 1);
  alice.Connect();
  std::string pings;
  AppendPing(PingData{1, 2, 3, 4, 5, 6, 7, 8}, &pings);
  AppendPing(PingData{9, 9, 9, 9, 9, 9, 9, 9}, &pings);
  alice.Write(pings);
  auto messages = alice.Receive();
  REQUIRE(messages.size() == 1);
  CHECK(std::get<PongMessage>(messages[0]).data == PingData{1, 2, 3, 4, 5, 6, 7, 8});
  CHECK(f.core.stats().pings_received == 2);
  // A ping of 9..1000 bytes is answered with its first 8.
  std::string long_ping = std::string("\x12\0\0\0\x0a", 5) + "abcdefgh!!";
  alice.Write(long_ping);
  messages = alice.Receive();
  REQUIRE(messages.size() == 1);
  CHECK(std::get<PongMessage>(messages[0]).data[0] == 'a');
}

TEST_CASE("keepalives every 60 s plus up to 5 s of jitter") {
  Fixture f;
  ScriptedClient alice(&f.core, &f.transport, 1);
  alice.Connect();
  f.clock.Advance(std::chrono::seconds(59));
  f.core.HandleExpiry(f.clock.Now());
  CHECK(alice.Receive().empty());
  f.clock.Advance(std::chrono::seconds(7));
  f.core.HandleExpiry(f.clock.Now());
  auto messages = alice.Receive();
  REQUIRE(messages.size() == 1);
  CHECK(std::holds_alternative<KeepAliveMessage>(messages[0]));
  CHECK(f.core.NextExpiry() <= f.clock.Now() + std::chrono::seconds(65));
  f.clock.Advance(std::chrono::seconds(66));
  f.core.HandleExpiry(f.clock.Now());
  CHECK(alice.Receive().size() == 1);
  CHECK(f.core.stats().keepalives_sent == 2);
}

TEST_CASE("a per-client byte rate limit drops what is over it, counted") {
  ServerOptions options = OptionsWithNewKey();
  options.rate_limit_bytes_per_second = 10000;
  options.rate_limit_burst_bytes = 0;  // raised to one full frame
  Fixture f(std::move(options));
  ScriptedClient alice(&f.core, &f.transport, 1), bob(&f.core, &f.transport, 2);
  alice.Connect();
  bob.Connect();
  const std::string packet(1400, 'x');
  for (int i = 0; i < 60; ++i) {
    alice.SendTo(bob.pub(), packet);
    bob.Take();
  }
  const uint64_t limited = Dropped(f.core.stats(), DropReason::kRateLimited);
  CHECK(limited == 60 - kMinRateLimitBurst / (kFrameHeaderLen + kKeyLen + 1400));
  f.clock.Advance(std::chrono::seconds(1));
  alice.SendTo(bob.pub(), packet);
  CHECK(Dropped(f.core.stats(), DropReason::kRateLimited) == limited);  // refilled
}

TEST_CASE("NotePreferred: home clients counted, moves only after the first 5 s") {
  Fixture f;
  ScriptedClient alice(&f.core, &f.transport, 1);
  alice.Connect();
  std::string yes, no;
  AppendNotePreferred(true, &yes);
  AppendNotePreferred(false, &no);
  alice.Write(yes);
  CHECK(f.core.stats().current_home_clients == 1);
  CHECK(f.core.stats().home_moves_in == 0);
  f.clock.Advance(std::chrono::seconds(6));
  alice.Write(no);
  alice.Write(yes);
  CHECK(f.core.stats().home_moves_out == 1);
  CHECK(f.core.stats().home_moves_in == 1);
  f.core.OnConnectionClosed(alice.id());
  CHECK(f.core.stats().current_home_clients == 0);
}

TEST_CASE("a client that leaves control frames unread is closed as a slow reader") {
  ServerOptions options = OptionsWithNewKey();
  options.max_control_bytes = 100;
  Fixture f(std::move(options));
  ScriptedClient alice(&f.core, &f.transport, 1), bob(&f.core, &f.transport, 2);
  alice.Connect();
  bob.Connect();
  for (int i = 0; i < 20; ++i) {
    f.core.AnnounceHealth("trouble");
    bob.Take();  // bob reads, alice does not
  }
  f.core.HandleExpiry(f.clock.Now());
  CHECK(alice.closed());
  CHECK_FALSE(bob.closed());
  CHECK(Closed(f.core.stats(), CloseReason::kSlowReader) >= 1);
}

TEST_CASE("queued packets of a client that leaves are counted as gone_disconnected") {
  Fixture f;
  ScriptedClient alice(&f.core, &f.transport, 1), bob(&f.core, &f.transport, 2);
  alice.Connect();
  bob.Connect();
  for (int i = 0; i < 5; ++i) alice.SendTo(bob.pub(), "queued");
  f.core.OnConnectionClosed(bob.id());
  CHECK(Dropped(f.core.stats(), DropReason::kGoneDisconnected) == 5);
  CHECK(f.core.stats().current_clients == 1);
}

}  // namespace
}  // namespace meshvpn::derp
