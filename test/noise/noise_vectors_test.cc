// Every Noise test vector in testdata/noise_vectors.json (cacophony, snow and noise-c: IKpsk2,
// IK and NN over 25519_ChaChaPoly_BLAKE2s), replayed by an initiator and a responder in both
// crypto backends: each handshake and transport ciphertext, and the handshake hash.
#include <catch2/catch.hpp>
#include <optional>
#include <string>

#include "meshvpn/noise/handshake_state.h"
#include "test_util.h"

namespace meshvpn::noise {
namespace {

using testing::Hex;
using testing::Unhex;

x25519::PrivateKey PrivateKeyFrom(const meshvpn::test::JsonValue& v) {
  auto key = x25519::PrivateKey::FromHex(v.AsString());
  REQUIRE(key.ok());
  return *std::move(key);
}

std::optional<x25519::PresharedKey> PskFrom(const meshvpn::test::JsonValue& vector,
                                            std::string_view field) {
  const auto* psks = vector.Find(field);
  if (psks == nullptr || psks->size() == 0) return std::nullopt;
  REQUIRE(psks->size() == 1);
  auto psk = x25519::PresharedKey::FromHex(psks->at(size_t{0}).AsString());
  REQUIRE(psk.ok());
  return *std::move(psk);
}

HandshakeConfig ConfigFor(const meshvpn::test::JsonValue& v, Role role, CryptoBackend backend) {
  const std::string name = v.at("protocol_name").AsString();
  const std::string prefix = "Noise_";
  const std::string pattern_name =
      name.substr(prefix.size(), name.find('_', prefix.size()) - prefix.size());
  auto pattern = ParseHandshakePattern(pattern_name);
  REQUIRE(pattern.ok());
  REQUIRE(GetPatternSpec(*pattern).protocol_name == name);
  const std::string side = role == Role::kInitiator ? "init_" : "resp_";
  HandshakeConfig config;
  config.pattern = *pattern;
  config.role = role;
  config.backend = backend;
  config.prologue = Unhex(v.at(side + "prologue").AsString());
  if (const auto* s = v.Find(side + "static")) config.local_static = PrivateKeyFrom(*s);
  config.local_ephemeral = PrivateKeyFrom(v.at(side + "ephemeral"));
  if (const auto* rs = v.Find(side + "remote_static")) {
    auto key = x25519::PublicKey::FromHex(rs->AsString());
    REQUIRE(key.ok());
    config.remote_static = *key;
  }
  config.psk = PskFrom(v, side + "psks");
  return config;
}

TEST_CASE("HandshakeState reproduces every vector of noise_vectors.json") {
  const auto json = testing::LoadJson("noise_vectors.json");
  const auto& vectors = json.at("vectors");
  REQUIRE(vectors.size() == 7);
  size_t with_hash = 0;
  for (CryptoBackend backend : kAllCryptoBackends) {
    for (size_t i = 0; i < vectors.size(); ++i) {
      const auto& v = vectors.at(i);
      INFO("backend " << ToString(backend) << ", vector " << i << " "
                      << v.at("protocol_name").AsString());
      auto initiator = HandshakeState::Create(ConfigFor(v, Role::kInitiator, backend));
      auto responder = HandshakeState::Create(ConfigFor(v, Role::kResponder, backend));
      REQUIRE(initiator.ok());
      REQUIRE(responder.ok());

      const auto& messages = v.at("messages");
      std::optional<TransportState> ti, tr;
      for (size_t m = 0; m < messages.size(); ++m) {
        INFO("message " << m);
        const Bytes payload = Unhex(messages.at(m).at("payload").AsString());
        const std::string expected = messages.at(m).at("ciphertext").AsString();
        const bool from_initiator = m % 2 == 0;
        Bytes wire(payload.size() + 200);
        Bytes received(wire.size());
        if (!ti) {
          HandshakeState& writer = from_initiator ? *initiator : *responder;
          HandshakeState& reader = from_initiator ? *responder : *initiator;
          REQUIRE(writer.IsMyTurnToWrite());
          auto n = writer.WriteMessage(payload, wire);
          REQUIRE(n.ok());
          wire.resize(*n);
          CHECK(Hex(wire) == expected);
          auto p = reader.ReadMessage(wire, received);
          REQUIRE(p.ok());
          received.resize(*p);
          CHECK(received == payload);
          if (initiator->IsComplete()) {
            REQUIRE(responder->IsComplete());
            CHECK(initiator->handshake_hash() == responder->handshake_hash());
            if (const auto* h = v.Find("handshake_hash")) {
              CHECK(Hex(initiator->handshake_hash()) == h->AsString());
              ++with_hash;
            }
            auto a = initiator->Split();
            auto b = responder->Split();
            REQUIRE(a.ok());
            REQUIRE(b.ok());
            ti = std::move(*a);
            tr = std::move(*b);
          }
        } else {
          CipherState& send = from_initiator ? ti->send : tr->send;
          CipherState& recv = from_initiator ? tr->receive : ti->receive;
          std::copy(payload.begin(), payload.end(), wire.begin());
          auto n = send.EncryptWithAd({}, wire, payload.size());
          REQUIRE(n.ok());
          wire.resize(*n);
          CHECK(Hex(wire) == expected);
          auto p = recv.DecryptWithAd({}, wire);
          REQUIRE(p.ok());
          wire.resize(*p);
          CHECK(wire == payload);
        }
      }
      CHECK(ti.has_value());
    }
  }
  CHECK(with_hash == 2 * 5);  // five of the seven vectors carry handshake_hash
}

}  // namespace
}  // namespace meshvpn::noise
