// The control protocol's Noise IK channel: the handshake with the pinned key (and without it),
// Envelopes of every size over records, any split of the stream, and what ends a channel.
#include "meshvpn/control/noise_channel.h"

#include <catch2/catch.hpp>

#include "meshvpn/control/protocol.h"
#include "meshvpn/x25519/x25519.h"

namespace meshvpn::control {
namespace {

x25519::KeyPair Keys() {
  absl::StatusOr<x25519::KeyPair> k = x25519::GenerateKeyPair();
  REQUIRE(k.ok());
  return *std::move(k);
}

struct Pair {
  NoiseChannel client;
  NoiseChannel server;
  x25519::PublicKey client_key_seen_by_server;
};

Pair Connect(const x25519::KeyPair& machine, const x25519::KeyPair& server) {
  absl::StatusOr<ClientHandshake> hs =
      ClientHandshake::Start(machine.private_key, server.public_key);
  REQUIRE(hs.ok());
  absl::StatusOr<AcceptedChannel> accepted =
      AcceptHandshake(server.private_key, AsBytes(hs->initiation()));
  INFO(accepted.status().ToString());
  REQUIRE(accepted.ok());
  absl::StatusOr<NoiseChannel> client = hs->Finish(AsBytes(accepted->response));
  INFO(client.status().ToString());
  REQUIRE(client.ok());
  return Pair{*std::move(client), std::move(accepted->channel), accepted->machine_key};
}

v1::Envelope MapWithPeers(int peers) {
  v1::Envelope e;
  v1::MapResponse* m = e.mutable_map_response();
  m->set_seq(1);
  m->set_full(true);
  for (int i = 0; i < peers; ++i) {
    v1::Node* n = m->add_peers();
    n->set_id(static_cast<uint64_t>(i + 1));
    n->set_name("peer-" + std::to_string(i));
    n->set_node_key(std::string(32, static_cast<char>(i)));
  }
  return e;
}

TEST_CASE("handshake: the server learns the machine key; both sides agree", "[control][noise]") {
  const x25519::KeyPair machine = Keys();
  const x25519::KeyPair server = Keys();
  Pair p = Connect(machine, server);
  CHECK(p.client_key_seen_by_server == machine.public_key);
  CHECK(p.client.handshake_hash() == p.server.handshake_hash());

  SECTION("Envelopes both ways, small and over many records, in one piece and byte by byte") {
    for (int peers : {0, 3, 5000}) {
      INFO(peers << " peers");
      const v1::Envelope sent = MapWithPeers(peers);
      std::string wire;
      REQUIRE(p.client.Send(sent, &wire).ok());
      std::vector<v1::Envelope> got;
      if (peers == 3) {
        for (char c : wire) REQUIRE(p.server.Receive(AsBytes(std::string_view(&c, 1)), &got).ok());
      } else {
        REQUIRE(p.server.Receive(AsBytes(wire), &got).ok());
      }
      REQUIRE(got.size() == 1);
      CHECK(got[0].SerializeAsString() == sent.SerializeAsString());
      CHECK(p.server.buffered() == 0);
      // And back.
      wire.clear();
      REQUIRE(p.server.Send(sent, &wire).ok());
      got.clear();
      REQUIRE(p.client.Receive(AsBytes(wire), &got).ok());
      REQUIRE(got.size() == 1);
    }
  }
  SECTION("several Envelopes in one read, and one split across reads") {
    std::string wire;
    for (int i = 0; i < 4; ++i) REQUIRE(p.client.Send(MapWithPeers(i), &wire).ok());
    std::vector<v1::Envelope> got;
    const size_t cut = wire.size() / 2 + 7;
    REQUIRE(p.server.Receive(AsBytes(std::string_view(wire).substr(0, cut)), &got).ok());
    REQUIRE(p.server.Receive(AsBytes(std::string_view(wire).substr(cut)), &got).ok());
    REQUIRE(got.size() == 4);
    for (int i = 0; i < 4; ++i) CHECK(got[i].map_response().peers_size() == i);
  }
  SECTION("a tampered record ends the channel for good") {
    std::string wire;
    REQUIRE(p.client.Send(MapWithPeers(1), &wire).ok());
    wire[kNoiseFrameHeader + 2] ^= 1;
    std::vector<v1::Envelope> got;
    CHECK(p.server.Receive(AsBytes(wire), &got).code() == absl::StatusCode::kUnauthenticated);
    std::string good;
    REQUIRE(p.client.Send(MapWithPeers(1), &good).ok());
    CHECK_FALSE(p.server.Receive(AsBytes(good), &got).ok());
    CHECK(got.empty());
  }
  SECTION("the peer's error frame") {
    std::vector<v1::Envelope> got;
    const absl::Status s = p.server.Receive(AsBytes(ErrorFrame("node key expired\x01")), &got);
    CHECK(s.code() == absl::StatusCode::kUnavailable);
    CHECK(s.message() == "control: the peer gave up: node key expired?");
  }
  SECTION("a handshake frame on an established channel") {
    std::vector<v1::Envelope> got;
    const std::string frame("\x01\x00\x00", 3);
    CHECK(p.server.Receive(AsBytes(frame), &got).code() == absl::StatusCode::kInvalidArgument);
  }
  SECTION("an empty Envelope (length 0) is malformed and ends the channel") {
    std::string wire;
    REQUIRE(p.client.SendEncoded("", &wire).ok());
    std::vector<v1::Envelope> got;
    CHECK(p.server.Receive(AsBytes(wire), &got).code() == absl::StatusCode::kInvalidArgument);
  }
  SECTION("Send refuses an Envelope over the limit") {
    std::string wire;
    CHECK(p.client.SendEncoded(std::string(kMaxEnvelopeBytes + 1, 'x'), &wire).code() ==
          absl::StatusCode::kResourceExhausted);
    CHECK(wire.empty());
  }
}

TEST_CASE("handshake failures", "[control][noise]") {
  const x25519::KeyPair machine = Keys();
  const x25519::KeyPair server = Keys();
  SECTION("the client pinned another server key: the server cannot read the initiation") {
    const x25519::KeyPair other = Keys();
    absl::StatusOr<ClientHandshake> hs =
        ClientHandshake::Start(machine.private_key, other.public_key);
    REQUIRE(hs.ok());
    CHECK(AcceptHandshake(server.private_key, AsBytes(hs->initiation())).status().code() ==
          absl::StatusCode::kUnauthenticated);
  }
  SECTION("a response from someone without the server's private key") {
    absl::StatusOr<ClientHandshake> hs =
        ClientHandshake::Start(machine.private_key, server.public_key);
    REQUIRE(hs.ok());
    absl::StatusOr<AcceptedChannel> accepted =
        AcceptHandshake(server.private_key, AsBytes(hs->initiation()));
    REQUIRE(accepted.ok());
    std::string forged = accepted->response;
    forged[kNoiseFrameHeader + 40] ^= 0x20;
    CHECK(hs->Finish(AsBytes(forged)).status().code() == absl::StatusCode::kUnauthenticated);
  }
  SECTION("the server refuses with an error frame") {
    absl::StatusOr<ClientHandshake> hs =
        ClientHandshake::Start(machine.private_key, server.public_key);
    REQUIRE(hs.ok());
    const absl::Status s = hs->Finish(AsBytes(ErrorFrame("unknown machine"))).status();
    CHECK(s.code() == absl::StatusCode::kUnavailable);
    CHECK(s.message() == "control: the server refused: unknown machine");
  }
  SECTION("malformed initiations") {
    absl::StatusOr<ClientHandshake> hs =
        ClientHandshake::Start(machine.private_key, server.public_key);
    REQUIRE(hs.ok());
    std::string init = hs->initiation();
    CHECK(AcceptHandshake(server.private_key, AsBytes(std::string_view(init).substr(0, 20)))
              .status()
              .code() == absl::StatusCode::kInvalidArgument);  // incomplete
    std::string wrong_version = init;
    wrong_version[kNoiseFrameHeader + 1] = 9;
    CHECK(AcceptHandshake(server.private_key, AsBytes(wrong_version)).status().code() ==
          absl::StatusCode::kFailedPrecondition);
    std::string wrong_type = init;
    wrong_type[0] = 4;
    CHECK(AcceptHandshake(server.private_key, AsBytes(wrong_type)).status().code() ==
          absl::StatusCode::kInvalidArgument);
    CHECK_FALSE(AcceptHandshake(server.private_key, ByteSpan()).ok());
  }
}

TEST_CASE("frame lengths", "[control][noise]") {
  CHECK_FALSE(CompleteFrameLength(ByteSpan()).has_value());
  const std::string frame("\x04\x00\x02\xaa\xbb\xcc", 6);
  CHECK_FALSE(CompleteFrameLength(AsBytes(std::string_view(frame).substr(0, 4))).has_value());
  CHECK(*CompleteFrameLength(AsBytes(frame)) == 5);
  CHECK(ErrorFrame(std::string(2000, 'x')).size() == kNoiseFrameHeader + 512);
}

}  // namespace
}  // namespace meshvpn::control
