// The device core end to end in memory: two Devices, a FakeClock and a test-controlled network.
// Handshake both ways, data, psk, replay and forgery drops, roaming, rekeying, cookies under
// load, retransmission and giving up, keepalives, and configuration.
#include "meshvpn/wg/device.h"

#include <catch2/catch.hpp>

#include "device_harness.h"

namespace meshvpn::wg {
namespace {

using test::Ipv4Packet;
using test::Pair;
using test::Prefix;
using test::Side;

const std::array<uint8_t, 4> kAliceIp = {10, 0, 0, 1};
const std::array<uint8_t, 4> kBobIp = {10, 0, 0, 2};

// Alice sends one packet, the handshake runs, the packet arrives at Bob.
void Establish(Pair& p) {
  p.SendFrom(p.alice, Ipv4Packet(kAliceIp, kBobIp, 100));
  REQUIRE(p.alice.output.outbox.size() == 1);
  REQUIRE(p.alice.output.outbox.front().bytes.size() == initiation::kSize);
  p.Flush();
  REQUIRE(p.bob.output.delivered.size() == 1);
  p.bob.output.delivered.clear();
}

TEST_CASE("A packet waits for the handshake, then arrives intact, and both sides report it") {
  Pair p;
  const Bytes packet = Ipv4Packet(kAliceIp, kBobIp, 100);
  p.SendFrom(p.alice, packet);
  CHECK(p.alice.device.stats().initiations_sent == 1);
  p.Flush();
  REQUIRE(p.bob.output.delivered.size() == 1);
  CHECK(p.bob.output.delivered[0] == packet);
  CHECK(p.alice.device.stats().handshakes_completed == 1);
  CHECK(p.bob.device.stats().handshakes_completed == 1);  // confirmed by the first data
  CHECK(p.bob.device.stats().responses_sent == 1);
  CHECK(p.alice.device.stats().total_dropped() == 0);
  CHECK(p.bob.device.stats().total_dropped() == 0);

  // Bob learned Alice's endpoint from the authenticated initiation and can answer.
  p.SendFrom(p.bob, Ipv4Packet(kBobIp, kAliceIp, 40));
  p.Flush();
  REQUIRE(p.alice.output.delivered.size() == 1);
  CHECK(p.alice.output.delivered[0] == Ipv4Packet(kBobIp, kAliceIp, 40));

  const DeviceStatus status = p.bob.device.Status();
  REQUIRE(status.peers.size() == 1);
  CHECK(status.peers[0].public_key == p.alice.public_key);
  REQUIRE(status.peers[0].endpoint.has_value());
  CHECK(*status.peers[0].endpoint == p.alice.endpoint);
  CHECK(status.peers[0].last_handshake.has_value());
  CHECK(status.peers[0].rx_bytes > 0);
  CHECK(status.peers[0].tx_bytes > 0);
  REQUIRE(status.peers[0].allowed_ips.size() == 1);
  CHECK(status.peers[0].allowed_ips[0].ToString() == "10.0.0.1/32");
}

TEST_CASE("Transport messages are padded to 16 and carry the peer's index and a counter") {
  Pair p;
  Establish(p);
  p.SendFrom(p.alice, Ipv4Packet(kAliceIp, kBobIp, 1));  // 21 bytes -> padded to 32
  REQUIRE(p.alice.output.outbox.size() == 1);
  const Bytes& wire = p.alice.output.outbox.front().bytes;
  CHECK(wire.size() == TransportSize(32));
  TransportHeader header;
  REQUIRE(Decode(wire, &header) == MessageError::kOk);
  CHECK(header.counter == 1);  // counter 0 carried the first packet
  p.Flush();
  REQUIRE(p.bob.output.delivered.size() == 1);
  CHECK(p.bob.output.delivered[0].size() == 21);  // the padding is stripped by the IP length
}

TEST_CASE("Matching preshared keys work, and a mismatch fails the handshake, counted") {
  Pair p(DeviceOptions{}, true, false);
  auto psk = x25519::PresharedKey::Generate();
  REQUIRE(psk.ok());
  SECTION("same psk") {
    p.Configure(p.alice, p.bob, "10.0.0.2/32", true, *psk);
    p.Configure(p.bob, p.alice, "10.0.0.1/32", false, *psk);
    p.SendFrom(p.alice, Ipv4Packet(kAliceIp, kBobIp, 10));
    p.Flush();
    CHECK(p.bob.output.delivered.size() == 1);
  }
  SECTION("psk on one side only") {
    p.Configure(p.alice, p.bob, "10.0.0.2/32", true, *psk);
    p.SendFrom(p.alice, Ipv4Packet(kAliceIp, kBobIp, 10));
    p.Flush();
    CHECK(p.bob.output.delivered.empty());
    CHECK(p.alice.device.stats().dropped(DropReason::kHandshakeFailed) == 1);
  }
}

TEST_CASE("Replayed, forged and misrouted packets are counted drops") {
  Pair p;
  Establish(p);
  p.SendFrom(p.alice, Ipv4Packet(kAliceIp, kBobIp, 50));
  const Bytes sent = p.alice.output.outbox.front().bytes;
  p.Flush();
  REQUIRE(p.bob.output.delivered.size() == 1);

  SECTION("a replayed transport message") {
    p.Inject(p.bob, sent, p.alice.endpoint);
    CHECK(p.bob.device.stats().dropped(DropReason::kReplayedPacket) == 1);
    CHECK(p.bob.output.delivered.size() == 1);
  }
  SECTION("a flipped ciphertext byte") {
    Bytes forged = sent;
    forged[20] ^= 1;
    TransportHeader h;
    REQUIRE(Decode(forged, &h) == MessageError::kOk);
    WriteLe64(forged, transport::kCounterOffset, h.counter + 5);  // not a replay
    p.Inject(p.bob, forged, p.alice.endpoint);
    CHECK(p.bob.device.stats().dropped(DropReason::kDecryptFailed) == 1);
  }
  SECTION("an unknown receiver index") {
    Bytes forged = sent;
    WriteLe32(forged, transport::kReceiverIndexOffset, 0x12345678);
    p.Inject(p.bob, forged, p.alice.endpoint);
    CHECK(p.bob.device.stats().dropped(DropReason::kUnknownIndex) == 1);
  }
  SECTION("an inner source address Alice may not use") {
    p.SendFrom(p.alice, Ipv4Packet({10, 9, 9, 9}, kBobIp, 50));
    p.Flush();
    CHECK(p.bob.device.stats().dropped(DropReason::kWrongSourceAddress) == 1);
    CHECK(p.bob.output.delivered.size() == 1);
  }
  SECTION("a destination no peer routes") {
    p.SendFrom(p.alice, Ipv4Packet(kAliceIp, {10, 7, 7, 7}, 50));
    CHECK(p.alice.device.stats().dropped(DropReason::kNoRoute) == 1);
    CHECK(p.alice.output.outbox.empty());
  }
  SECTION("not an IP packet") {
    p.SendFrom(p.alice, Bytes(30, 0));
    CHECK(p.alice.device.stats().dropped(DropReason::kBadInnerPacket) == 1);
  }
}

TEST_CASE("Garbage, truncated and oversized datagrams and bad handshakes are counted drops") {
  Pair p;
  const udp::Endpoint stranger = udp::Endpoint::V4({198, 51, 100, 7}, 999);
  p.Inject(p.bob, Bytes{}, stranger);
  p.Inject(p.bob, Bytes{1, 0, 0}, stranger);
  p.Inject(p.bob, Bytes(200, 0xff), stranger);
  p.Inject(p.bob, Bytes(1500, 0x04), stranger);  // type 4 but reserved bytes non-zero
  CHECK(p.bob.device.stats().dropped(DropReason::kMalformedMessage) == 4);

  p.SendFrom(p.alice, Ipv4Packet(kAliceIp, kBobIp, 10));
  const Bytes initiation = p.alice.output.outbox.front().bytes;
  p.alice.output.outbox.clear();

  Bytes truncated(initiation.begin(), initiation.end() - 1);
  p.Inject(p.bob, truncated, stranger);
  CHECK(p.bob.device.stats().dropped(DropReason::kMalformedMessage) == 5);

  Bytes bad_mac = initiation;
  bad_mac[initiation::kMac1Offset] ^= 1;
  p.Inject(p.bob, bad_mac, stranger);
  CHECK(p.bob.device.stats().dropped(DropReason::kInvalidMac1) == 1);

  // A stranger whose initiation is made for Bob's key (mac1 right) but whom Bob does not know.
  Side carol(&p.clock, stranger);
  DeviceConfigUpdate update;
  PeerConfigUpdate& peer = update.peers.emplace_back();
  peer.public_key = p.bob.public_key;
  peer.endpoint = p.bob.endpoint;
  peer.allowed_ips.push_back(Prefix("10.0.0.0/24"));
  REQUIRE(carol.device.Apply(update, p.clock.Now()).ok());
  PacketBuffer* b = carol.pool.Acquire();
  b->Reset();
  const Bytes pkt = Ipv4Packet({10, 0, 0, 3}, kBobIp, 10);
  REQUIRE(b->SetSize(pkt.size()));
  std::copy(pkt.begin(), pkt.end(), b->data());
  carol.device.HandleTunPacket(b, p.clock.Now());
  REQUIRE(carol.output.outbox.size() == 1);
  p.Inject(p.bob, carol.output.outbox.front().bytes, stranger);
  CHECK(p.bob.device.stats().dropped(DropReason::kUnknownPeer) == 1);

  // The real initiation works once; its replay is refused by the timestamp.
  p.Inject(p.bob, initiation, p.alice.endpoint);
  CHECK(p.bob.device.stats().responses_sent == 1);
  p.clock.Advance(std::chrono::milliseconds(50));
  p.Inject(p.bob, initiation, p.alice.endpoint);
  CHECK(p.bob.device.stats().dropped(DropReason::kReplayedInitiation) == 1);
  CHECK(p.bob.device.stats().responses_sent == 1);
}

TEST_CASE("Endpoint roaming: authenticated packets from a new address move the peer") {
  Pair p;
  Establish(p);
  const udp::Endpoint moved = udp::Endpoint::V4({203, 0, 113, 9}, 40000);
  p.SendFrom(p.alice, Ipv4Packet(kAliceIp, kBobIp, 20));
  const Bytes wire = p.alice.output.outbox.front().bytes;
  p.alice.output.outbox.clear();
  p.Inject(p.bob, wire, moved);
  REQUIRE(p.bob.output.delivered.size() == 1);
  p.SendFrom(p.bob, Ipv4Packet(kBobIp, kAliceIp, 20));
  REQUIRE(p.bob.output.outbox.size() == 1);
  CHECK(p.bob.output.outbox.front().to == moved);
  CHECK(p.bob.device.stats().endpoint_changes == 2);  // learned, then moved

  // A forged packet from yet another address does not move it.
  Bytes forged = wire;
  WriteLe64(forged, transport::kCounterOffset, 77);
  p.Inject(p.bob, forged, udp::Endpoint::V4({198, 51, 100, 1}, 1));
  CHECK(*p.bob.device.Status().peers[0].endpoint == moved);
}

TEST_CASE("After REKEY_AFTER_TIME the initiator rekeys on send and traffic keeps flowing") {
  Pair p;
  Establish(p);
  for (int second = 0; second < 200; second += 10) {
    p.Tick(std::chrono::seconds(10));
    p.SendFrom(p.alice, Ipv4Packet(kAliceIp, kBobIp, 30));
    p.SendFrom(p.bob, Ipv4Packet(kBobIp, kAliceIp, 30));
    p.Flush();
    INFO("t=" << second + 10 << "s");
    REQUIRE(p.bob.output.delivered.size() == 1);
    REQUIRE(p.alice.output.delivered.size() == 1);
    p.bob.output.delivered.clear();
    p.alice.output.delivered.clear();
  }
  CHECK(p.alice.device.stats().handshakes_completed >= 2);
  CHECK(p.alice.device.stats().dropped(DropReason::kExpiredKeypair) == 0);
  CHECK(p.bob.device.stats().total_dropped() == 0);
}

TEST_CASE("Under load, a handshake needs a cookie: reply, mac2, then success") {
  DeviceOptions options;
  options.under_load_threshold = 0;  // Bob: every handshake message counts as load
  Pair p(options);
  p.SendFrom(p.alice, Ipv4Packet(kAliceIp, kBobIp, 10));
  p.Flush();
  CHECK(p.bob.device.stats().cookie_replies_sent == 1);
  CHECK(p.bob.device.stats().dropped(DropReason::kCookieReplySent) == 1);
  CHECK(p.alice.device.stats().cookie_replies_received == 1);
  CHECK(p.bob.output.delivered.empty());
  // The retransmission carries mac2 and goes through.
  p.Tick(std::chrono::milliseconds(5400));
  p.Flush();
  CHECK(p.bob.device.stats().responses_sent == 1);
  CHECK(p.bob.output.delivered.size() == 1);
}

TEST_CASE("Without an answer the initiation is retried every ~5 s and given up after 90 s") {
  Pair p;
  p.SendFrom(p.alice, Ipv4Packet(kAliceIp, kBobIp, 10));
  p.alice.output.outbox.clear();  // the network eats everything
  for (int i = 0; i < 1200; ++i) {
    p.Tick(std::chrono::milliseconds(100));
    p.alice.output.outbox.clear();
  }
  CHECK(p.alice.device.stats().initiations_sent == kMaxTimerHandshakes);
  CHECK(p.alice.device.stats().dropped(DropReason::kHandshakeGaveUp) == 1);
}

TEST_CASE("A peer that received data and has nothing to say sends a keepalive after 10 s") {
  Pair p;
  Establish(p);
  p.alice.output.outbox.clear();
  p.Tick(std::chrono::seconds(9));
  CHECK(p.bob.output.outbox.empty());
  p.Tick(std::chrono::seconds(2));
  REQUIRE(p.bob.output.outbox.size() == 1);
  CHECK(p.bob.output.outbox.front().bytes.size() == transport::kMinSize);
  p.Flush();
  CHECK(p.alice.device.stats().keepalives_received == 1);
}

TEST_CASE("Persistent keepalive sends at once and then every interval") {
  Pair p;
  Establish(p);
  p.Flush();
  DeviceConfigUpdate update;
  PeerConfigUpdate& peer = update.peers.emplace_back();
  peer.public_key = p.bob.public_key;
  peer.update_only = true;
  peer.persistent_keepalive = std::chrono::seconds(25);
  REQUIRE(p.alice.device.Apply(update, p.clock.Now()).ok());
  const uint64_t before = p.alice.device.stats().keepalives_sent;
  p.Tick(std::chrono::milliseconds(1));
  CHECK(p.alice.device.stats().keepalives_sent == before + 1);
  p.Flush();
  p.Tick(std::chrono::seconds(26));
  CHECK(p.alice.device.stats().keepalives_sent >= before + 2);
}

TEST_CASE("Configuration: remove, update_only, replace_allowed_ips, replace_peers") {
  Pair p;
  DeviceConfigUpdate update;
  PeerConfigUpdate& add = update.peers.emplace_back();
  auto other = x25519::GenerateKeyPair();
  REQUIRE(other.ok());
  add.public_key = other->public_key;
  add.update_only = true;
  REQUIRE(p.alice.device.Apply(update, p.clock.Now()).ok());
  CHECK(p.alice.device.peer_count() == 1);  // update_only does not create

  update.peers[0].update_only = false;
  update.peers[0].allowed_ips = {Prefix("10.1.0.0/16"), Prefix("fd00::/64")};
  REQUIRE(p.alice.device.Apply(update, p.clock.Now()).ok());
  CHECK(p.alice.device.peer_count() == 2);

  update.peers[0].replace_allowed_ips = true;
  update.peers[0].allowed_ips = {Prefix("10.2.0.0/16")};
  REQUIRE(p.alice.device.Apply(update, p.clock.Now()).ok());
  const DeviceStatus status = p.alice.device.Status();
  REQUIRE(status.peers.size() == 2);
  REQUIRE(status.peers[1].allowed_ips.size() == 1);
  CHECK(status.peers[1].allowed_ips[0].ToString() == "10.2.0.0/16");

  update.peers[0].remove = true;
  REQUIRE(p.alice.device.Apply(update, p.clock.Now()).ok());
  CHECK(p.alice.device.peer_count() == 1);

  DeviceConfigUpdate replace;
  replace.replace_peers = true;
  REQUIRE(p.alice.device.Apply(replace, p.clock.Now()).ok());
  CHECK(p.alice.device.peer_count() == 0);
  // A peer with our own public key is ignored.
  DeviceConfigUpdate self;
  self.peers.emplace_back().public_key = p.alice.public_key;
  REQUIRE(p.alice.device.Apply(self, p.clock.Now()).ok());
  CHECK(p.alice.device.peer_count() == 0);
}

}  // namespace
}  // namespace meshvpn::wg

namespace meshvpn::wg {
namespace {

TEST_CASE("A forged response does not spend the handshake: the real one still completes it") {
  test::Pair p;
  p.SendFrom(p.alice, test::Ipv4Packet({10, 0, 0, 1}, {10, 0, 0, 2}, 10));
  REQUIRE(p.alice.output.outbox.size() == 1);
  p.Inject(p.bob, p.alice.output.outbox.front().bytes, p.alice.endpoint);
  p.alice.output.outbox.clear();
  REQUIRE(p.bob.output.outbox.size() == 1);
  const Bytes real = p.bob.output.outbox.front().bytes;
  p.bob.output.outbox.clear();

  // Anyone who saw the initiation knows the index; mac1 needs only Alice's public key.
  Bytes forged = real;
  forged[response::kEncryptedNothingOffset] ^= 0x80;
  auto macs = CookieGenerator::Create(p.alice.public_key.bytes());
  REQUIRE(macs.ok());
  REQUIRE(macs->AddMacs(forged, p.clock.Now()));
  p.Inject(p.alice, forged, p.bob.endpoint);
  CHECK(p.alice.device.stats().dropped(DropReason::kHandshakeFailed) == 1);
  CHECK(p.alice.device.stats().handshakes_completed == 0);

  p.Inject(p.alice, real, p.bob.endpoint);
  CHECK(p.alice.device.stats().handshakes_completed == 1);
  p.Flush();
  CHECK(p.bob.output.delivered.size() == 1);
}

}  // namespace
}  // namespace meshvpn::wg
