// The DERP server core's mesh: a peer with the mesh key watches connections (PeerPresent and
// PeerGone) and forwards packets; forwarders route to clients on another server of the region;
// two cores wired together in memory relay between a client on each.
#include <catch2/catch.hpp>

#include "meshvpn/derp/server_core.h"
#include "server_test_support.h"

namespace meshvpn::derp {
namespace {

using testing::DiscoPacket;
using testing::FakeTransport;
using testing::OptionsWithNewKey;
using testing::ScriptedClient;

MeshKey TestMeshKey() {
  return MeshKey::Parse("6d529e9d4ef632d22d4a4214cb49da8f1ba1b72697061fb24e312984c35ec8d8").value();
}

ServerOptions MeshOptions() {
  ServerOptions o = OptionsWithNewKey();
  o.mesh_key = TestMeshKey();
  return o;
}

ClientInfo MeshInfo() {
  ClientInfo info;
  info.mesh_key = TestMeshKey();
  return info;
}

// A forwarder that records what it was given.
class RecordingForwarder final : public PacketForwarder {
 public:
  bool ForwardPacket(const PublicKey& src, const PublicKey& dst, ByteSpan packet) override {
    if (refuse) return false;
    forwarded.push_back({src, dst, meshvpn::ToString(packet)});
    return true;
  }
  std::string Describe() const override { return "recording"; }
  struct Entry {
    PublicKey src, dst;
    std::string packet;
  };
  std::vector<Entry> forwarded;
  bool refuse = false;
};

TEST_CASE("a mesh peer watches connections: everyone now, then each arrival and departure") {
  FakeClock clock;
  FakeTransport transport;
  ServerCore core(MeshOptions(), &transport, &clock);
  ScriptedClient alice(&core, &transport, 1), mesh(&core, &transport, 2);
  alice.Connect();
  mesh.Connect(MeshInfo());
  std::string watch;
  AppendWatchConns(&watch);
  mesh.Write(watch);
  CHECK_FALSE(mesh.closed());
  auto messages = mesh.Receive();
  REQUIRE(messages.size() == 2);  // alice and the mesh peer itself
  bool saw_alice = false;
  for (const auto& m : messages) {
    const auto& present = std::get<PeerPresentMessage>(m);
    if (present.peer == alice.pub()) {
      saw_alice = true;
      CHECK(present.flags == peer_present_flags::kIsRegular);
      CHECK(present.endpoint->ToString() == "198.51.100.1:40000");
    } else {
      CHECK(present.flags == peer_present_flags::kIsMeshPeer);
    }
  }
  CHECK(saw_alice);
  CHECK(core.stats().current_watchers == 1);

  ScriptedClient bob(&core, &transport, 3);
  bob.Connect();
  messages = mesh.Receive();
  REQUIRE(messages.size() == 1);
  CHECK(std::get<PeerPresentMessage>(messages[0]).peer == bob.pub());
  core.OnConnectionClosed(bob.id());
  messages = mesh.Receive();
  REQUIRE(messages.size() == 1);
  CHECK(std::get<PeerGoneMessage>(messages[0]).peer == bob.pub());
}

TEST_CASE("a mesh peer forwards a packet to a local client; the source key is the original") {
  FakeClock clock;
  FakeTransport transport;
  ServerCore core(MeshOptions(), &transport, &clock);
  ScriptedClient bob(&core, &transport, 1), mesh(&core, &transport, 2);
  bob.Connect();
  mesh.Connect(MeshInfo());
  const PublicKey far_away = x25519::DerivePublicKey(PrivateKey::Generate().value()).value();
  std::string frame;
  AppendForwardPacket(far_away, bob.pub(), AsBytes("from the other server"), &frame);
  mesh.Write(frame);
  CHECK(bob.Packets() == std::vector<std::string>{ShortKey(far_away) + ":from the other server"});
  CHECK(core.stats().packets_forwarded_in == 1);
  // For a key not here: dropped as unknown_dest_on_fwd.
  frame.clear();
  AppendForwardPacket(far_away, far_away, AsBytes("nobody"), &frame);
  mesh.Write(frame);
  CHECK(core.stats().packets_dropped[static_cast<size_t>(DropReason::kUnknownDestOnFwd)][1] == 1);
  // ClosePeer from the mesh peer closes bob.
  frame.clear();
  AppendClosePeer(bob.pub(), &frame);
  mesh.Write(frame);
  CHECK(bob.closed());
  CHECK_FALSE(mesh.closed());
}

TEST_CASE("a wrong mesh key gives a regular client: mesh frames close it") {
  FakeClock clock;
  FakeTransport transport;
  ServerCore core(MeshOptions(), &transport, &clock);
  ScriptedClient pretender(&core, &transport, 1);
  ClientInfo info;
  info.mesh_key = MeshKey::Parse(std::string(64, 'a')).value();
  pretender.Connect(info);
  std::string frame;
  AppendForwardPacket(pretender.pub(), pretender.pub(), AsBytes("x"), &frame);
  pretender.Write(frame);
  CHECK(pretender.closed());
  CHECK(core.stats().closed[static_cast<size_t>(CloseReason::kNotPermitted)] == 1);
}

TEST_CASE("packets for a key on another server go to its forwarder; losing it means PeerGone") {
  FakeClock clock;
  FakeTransport transport;
  ServerCore core(MeshOptions(), &transport, &clock);
  ScriptedClient alice(&core, &transport, 1);
  alice.Connect();
  RecordingForwarder link1, link2;
  const PublicKey remote = x25519::DerivePublicKey(PrivateKey::Generate().value()).value();
  core.AddPacketForwarder(remote, &link1);
  core.AddPacketForwarder(remote, &link2);
  alice.SendTo(remote, "over the mesh");
  REQUIRE(link1.forwarded.size() == 1);
  CHECK(link1.forwarded[0].src == alice.pub());
  CHECK(link1.forwarded[0].packet == "over the mesh");
  CHECK(link2.forwarded.empty());
  core.RemoveForwarder(&link1);  // that link broke: the second one takes over
  alice.SendTo(remote, "again");
  CHECK(link2.forwarded.size() == 1);
  link2.refuse = true;
  alice.SendTo(remote, "refused");
  CHECK(core.stats().packets_dropped[static_cast<size_t>(DropReason::kWriteError)][1] == 1);

  // alice received from `remote` through a forwarded packet; when the region loses it,
  // alice hears PeerGone.
  ScriptedClient mesh(&core, &transport, 2);
  mesh.Connect(MeshInfo());
  std::string frame;
  AppendForwardPacket(remote, alice.pub(), AsBytes("hi alice"), &frame);
  mesh.Write(frame);
  REQUIRE(alice.Packets().size() == 1);
  core.RemovePacketForwarder(remote, &link2);
  auto messages = alice.Receive();
  REQUIRE(messages.size() == 1);
  CHECK(std::get<PeerGoneMessage>(messages[0]).peer == remote);
  alice.SendTo(remote, DiscoPacket());
  CHECK(core.stats().packets_dropped[static_cast<size_t>(DropReason::kUnknownDest)][0] == 1);
}

// Server A's link to server B: a mesh client connection on B (with the mesh key and WatchConns)
// whose PeerPresent/PeerGone frames A turns into forwarders, and which carries A's
// ForwardPacket frames to B. Wired by hand here; uv_mesh does the same over TLS.
class InMemoryMeshLink final : public PacketForwarder {
 public:
  InMemoryMeshLink(ServerCore* a, ServerCore* b, FakeTransport* b_transport, ConnId id)
      : a_(a), on_b_(b, b_transport, id) {}
  void Connect() {
    on_b_.Connect(MeshInfo());
    std::string watch;
    AppendWatchConns(&watch);
    on_b_.Write(watch);
    Pump();
  }
  // Reads what B said on the link and updates A's forwarders.
  void Pump() {
    for (const auto& m : on_b_.Receive()) {
      if (const auto* p = std::get_if<PeerPresentMessage>(&m))
        a_->AddPacketForwarder(p->peer, this);
      if (const auto* g = std::get_if<PeerGoneMessage>(&m))
        a_->RemovePacketForwarder(g->peer, this);
    }
  }
  bool ForwardPacket(const PublicKey& src, const PublicKey& dst, ByteSpan packet) override {
    std::string frame;
    AppendForwardPacket(src, dst, packet, &frame);
    on_b_.Write(frame);
    return true;
  }
  std::string Describe() const override { return "in-memory"; }

 private:
  ServerCore* a_;
  ScriptedClient on_b_;
};

TEST_CASE("a region of two cores: a client on each reaches the other, and hears it leave") {
  FakeClock clock;
  FakeTransport ta, tb;
  ServerCore a(MeshOptions(), &ta, &clock), b(MeshOptions(), &tb, &clock);
  ScriptedClient alice(&a, &ta, 1), bob(&b, &tb, 1);
  alice.Connect();
  bob.Connect();
  InMemoryMeshLink a_to_b(&a, &b, &tb, 100), b_to_a(&b, &a, &ta, 100);
  a_to_b.Connect();
  b_to_a.Connect();

  alice.SendTo(bob.pub(), "alice on A to bob on B");
  CHECK(bob.Packets() ==
        std::vector<std::string>{ShortKey(alice.pub()) + ":alice on A to bob on B"});
  bob.SendTo(alice.pub(), "bob on B to alice on A");
  CHECK(alice.Packets() ==
        std::vector<std::string>{ShortKey(bob.pub()) + ":bob on B to alice on A"});
  CHECK(a.stats().packets_forwarded_out == 1);
  CHECK(b.stats().packets_forwarded_in == 1);

  // bob leaves B: B tells A's link, A drops the forwarder, alice (who heard from bob) is told.
  b.OnConnectionClosed(bob.id());
  a_to_b.Pump();
  auto messages = alice.Receive();
  REQUIRE(messages.size() == 1);
  CHECK(std::get<PeerGoneMessage>(messages[0]).peer == bob.pub());
}

}  // namespace
}  // namespace meshvpn::derp
