// DERP's post-handshake frames: each builder's bytes (sizes from derp.go and derpserver.go), and
// the client's parser of server frames, including the short and extended forms Tailscale accepts.
#include "meshvpn/derp/codec.h"

#include <catch2/catch.hpp>
#include <string>

namespace meshvpn::derp {
namespace {

PublicKey KeyOf(uint8_t fill) {
  std::array<uint8_t, 32> b;
  b.fill(fill);
  return PublicKey(b);
}

// The one frame in `wire`, checked by the reader, viewed in `wire` itself (which outlives it).
FrameView Single(const std::string& wire) {
  FrameReader reader;
  reader.Feed(AsBytes(wire));
  auto frame = reader.Next();
  REQUIRE(frame);
  REQUIRE(frame->payload.size() + kFrameHeaderLen == wire.size());
  REQUIRE_FALSE(reader.Next());
  return FrameView{frame->type, AsBytes(wire).subspan(kFrameHeaderLen)};
}

TEST_CASE("builders write the frame sizes of derp.go") {
  std::string out;
  AppendSendPacket(KeyOf(1), AsBytes("pkt"), &out);
  CHECK(out == std::string("\x04\x00\x00\x00\x23", 5) + std::string(32, '\x01') + "pkt");
  out.clear();
  AppendForwardPacket(KeyOf(1), KeyOf(2), AsBytes("p"), &out);
  CHECK(out.size() == 5 + 65);
  CHECK(out[0] == '\x0a');
  out.clear();
  AppendNotePreferred(true, &out);
  CHECK(out == std::string("\x07\x00\x00\x00\x01\x01", 6));
  out.clear();
  AppendPeerGone(KeyOf(3), PeerGoneReason::kNotHere, &out);
  CHECK(out.size() == 5 + 33);
  CHECK(out.back() == '\x01');
  out.clear();
  AppendPeerPresent(KeyOf(4), PeerEndpoint::FromIpv4(0xc0000201, 41641),
                    peer_present_flags::kIsRegular, &out);
  REQUIRE(out.size() == 5 + 51);
  CHECK(out.substr(5 + 32, 16) == std::string("\0\0\0\0\0\0\0\0\0\0\xff\xff\xc0\x00\x02\x01", 16));
  CHECK(out.substr(5 + 48, 3) == std::string("\xa2\xa9\x01", 3));
  out.clear();
  AppendWatchConns(&out);
  AppendKeepAlive(&out);
  CHECK(out == std::string("\x10\0\0\0\0\x06\0\0\0\0", 10));
  out.clear();
  AppendRestarting(std::chrono::milliseconds(1500), std::chrono::milliseconds(60000), &out);
  CHECK(out == std::string("\x15\0\0\0\x08\0\0\x05\xdc\0\0\xea\x60", 13));
}

TEST_CASE("the client parses every server frame it knows") {
  std::string wire;
  AppendRecvPacket(KeyOf(9), AsBytes("hello"), &wire);
  auto m = ParseServerMessage(Single(wire));
  REQUIRE(m);
  const auto& recv = std::get<RecvPacketMessage>(*m);
  CHECK(recv.source == KeyOf(9));
  CHECK(meshvpn::ToString(recv.data) == "hello");

  wire.clear();
  AppendPeerGone(KeyOf(5), PeerGoneReason::kNotHere, &wire);
  m = ParseServerMessage(Single(wire));
  REQUIRE(m);
  CHECK(std::get<PeerGoneMessage>(*m).reason == PeerGoneReason::kNotHere);
  // A 32-byte PeerGone (older servers) means "disconnected".
  wire = std::string("\x08\0\0\0\x20", 5) + std::string(32, '\x05');
  m = ParseServerMessage(Single(wire));
  REQUIRE(m);
  CHECK(std::get<PeerGoneMessage>(*m).reason == PeerGoneReason::kDisconnected);

  wire.clear();
  AppendPeerPresent(KeyOf(6), PeerEndpoint::FromIpv4(0x0a000001, 443),
                    peer_present_flags::kIsMeshPeer, &wire);
  m = ParseServerMessage(Single(wire));
  REQUIRE(m);
  const auto& present = std::get<PeerPresentMessage>(*m);
  REQUIRE(present.endpoint);
  CHECK(present.endpoint->ToString() == "10.0.0.1:443");
  CHECK(present.flags == peer_present_flags::kIsMeshPeer);
  // Key only (older servers), and key + endpoint without flags.
  wire = std::string("\x09\0\0\0\x20", 5) + std::string(32, '\x06');
  m = ParseServerMessage(Single(wire));
  REQUIRE(m);
  CHECK_FALSE(std::get<PeerPresentMessage>(*m).endpoint);
  wire = std::string("\x09\0\0\0\x32", 5) + std::string(32, '\x06') + std::string(15, '\0') +
         std::string("\x01\x00\x50", 3);
  m = ParseServerMessage(Single(wire));
  REQUIRE(m);
  CHECK(std::get<PeerPresentMessage>(*m).endpoint->ToString() == "[::1]:80");
  CHECK(std::get<PeerPresentMessage>(*m).flags == 0);

  wire.clear();
  AppendPing(PingData{1, 2, 3, 4, 5, 6, 7, 8}, &wire);
  m = ParseServerMessage(Single(wire));
  REQUIRE(m);
  CHECK(std::get<PingMessage>(*m).data == PingData{1, 2, 3, 4, 5, 6, 7, 8});
  wire.clear();
  AppendPong(PingData{8, 7, 6, 5, 4, 3, 2, 1}, &wire);
  m = ParseServerMessage(Single(wire));
  REQUIRE(m);
  CHECK(std::get<PongMessage>(*m).data[0] == 8);

  wire.clear();
  AppendHealth("no route to region", &wire);
  m = ParseServerMessage(Single(wire));
  REQUIRE(m);
  CHECK(std::get<HealthMessage>(*m).problem == "no route to region");

  wire.clear();
  AppendRestarting(std::chrono::milliseconds(1500), std::chrono::milliseconds(60000), &wire);
  m = ParseServerMessage(Single(wire));
  REQUIRE(m);
  CHECK(std::get<RestartingMessage>(*m).reconnect_in == std::chrono::milliseconds(1500));
  CHECK(std::get<RestartingMessage>(*m).try_for == std::chrono::milliseconds(60000));

  wire.clear();
  AppendKeepAlive(&wire);
  m = ParseServerMessage(Single(wire));
  REQUIRE(m);
  CHECK(std::holds_alternative<KeepAliveMessage>(*m));
}

TEST_CASE("the client skips frames too short for their fields and types it does not know") {
  for (const std::string& wire :
       {std::string("\x05\0\0\0\x1f", 5) + std::string(31, 'k'),     // recv packet without a key
        std::string("\x08\0\0\0\x10", 5) + std::string(16, 'k'),     // peer gone, half a key
        std::string("\x12\0\0\0\x07", 5) + std::string(7, 'p'),      // ping of 7 bytes
        std::string("\x15\0\0\0\x04", 5) + std::string(4, 'r'),      // restarting of 4 bytes
        std::string("\x7f\0\0\0\x02", 5) + std::string(2, 'u'),      // unknown type
        std::string("\x04\0\0\0\x20", 5) + std::string(32, 'k')}) {  // a client's own frame
    CHECK_FALSE(ParseServerMessage(Single(wire)));
  }
}

}  // namespace
}  // namespace meshvpn::derp
