// WireGuard's use of the primitives, checked against a real handshake capture
// (testdata/wireguard_handshake_kat.json): the construction and identifier hashes, the hash and
// chaining-key steps that need no Diffie-Hellman, both mac1 values and the transport keys.
#include <catch2/catch.hpp>
#include <string>

#include "meshvpn/noise/blake2s.h"
#include "meshvpn/noise/kdf.h"
#include "test_util.h"

namespace meshvpn::noise {
namespace {

using meshvpn::test::JsonValue;
using testing::Hex;
using testing::Unhex;

constexpr std::string_view kConstruction = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
constexpr std::string_view kIdentifier = "WireGuard v1 zx2c4 Jason@zx2c4.com";
constexpr std::string_view kLabelMac1 = "mac1----";

// The trace entry `index`, after checking that it is the step we think it is.
const JsonValue& Step(const JsonValue& kat, size_t index, std::string_view starts_with) {
  const JsonValue& step = kat.at("trace").at(index);
  INFO("trace[" << index << "] is \"" << step.at("step").AsString() << "\"");
  REQUIRE(step.at("step").AsString().rfind(starts_with, 0) == 0);
  return step;
}

Bytes Field(const JsonValue& step, std::string_view name) {
  return Unhex(step.at(name).AsString());
}

TEST_CASE("WireGuard's construction and identifier hashes") {
  const auto kat = testing::LoadJson("wireguard_handshake_kat.json");
  REQUIRE(kat.at("constants").at("construction").AsString() == kConstruction);
  REQUIRE(kat.at("constants").at("identifier").AsString() == kIdentifier);
  const Bytes responder_static = Unhex(kat.at("keys").at("responder_static_public").AsString());
  for (CryptoBackend backend : kAllCryptoBackends) {
    INFO("backend " << ToString(backend));
    // C = HASH(CONSTRUCTION): the initial chaining key, the same for every WireGuard handshake.
    const Blake2sHash c = Blake2s256(AsBytes(kConstruction), backend);
    CHECK(Hex(c) == Step(kat, 0, "C = HASH(CONSTRUCTION)").at("ck").AsString());
    CHECK(Hex(c) == "60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36");
    // H = HASH(C || IDENTIFIER): the initial hash, also a constant.
    const Blake2sHash h = Blake2s256({c, AsBytes(kIdentifier)}, backend);
    CHECK(Hex(h) == Step(kat, 1, "H = HASH(C || IDENTIFIER)").at("h").AsString());
    CHECK(Hex(h) == "2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3");
    // H = HASH(H || S_pub_r): mixes in the responder's static key, known to the initiator.
    CHECK(Hex(Blake2s256({h, responder_static}, backend)) ==
          Step(kat, 2, "H = HASH(H || S_pub_r)").at("h").AsString());
  }
}

TEST_CASE("WireGuard handshake: every hash and KDF step that needs no Diffie-Hellman") {
  const auto kat = testing::LoadJson("wireguard_handshake_kat.json");
  const auto& init = kat.at("messages").at("handshake_initiation").at("fields");
  const auto& resp = kat.at("messages").at("handshake_response").at("fields");
  const Bytes psk = Unhex(kat.at("keys").at("preshared_key").AsString());

  for (CryptoBackend backend : kAllCryptoBackends) {
    INFO("backend " << ToString(backend));
    // Initiation: C = KDF1(C, E_pub_i); H = HASH(H || E_pub_i).
    const auto& s2 = Step(kat, 2, "H = HASH(H || S_pub_r)");
    const auto& s3 = Step(kat, 3, "initiation: C = KDF1(C, E_pub_i)");
    const Bytes e_pub_i = Field(s3, "E_pub_i");
    CHECK(Hex(e_pub_i) == init.at("unencrypted_ephemeral").AsString());
    CHECK(Hex(Kdf1(Field(Step(kat, 0, "C ="), "ck"), e_pub_i, backend)) == s3.at("ck").AsString());
    CHECK(Hex(Blake2s256({Field(s2, "h"), e_pub_i}, backend)) == s3.at("h").AsString());

    // H = HASH(H || encrypted_static), then H = HASH(H || encrypted_timestamp).
    const auto& s5 = Step(kat, 5, "H = HASH(H || encrypted_static)");
    CHECK(Hex(Blake2s256({Field(s3, "h"), Unhex(init.at("encrypted_static").AsString())},
                         backend)) == s5.at("h").AsString());
    const auto& s7 = Step(kat, 7, "H = HASH(H || encrypted_timestamp)");
    CHECK(Hex(Blake2s256({Field(s5, "h"), Unhex(init.at("encrypted_timestamp").AsString())},
                         backend)) == s7.at("h").AsString());

    // Response: C = KDF1(C, E_pub_r) from the chaining key after the initiation's last KDF2.
    const auto& s6 = Step(kat, 6, "(C, k) = KDF2(C, DH(S_priv_i, S_pub_r))");
    const auto& s9 = Step(kat, 9, "response: C = KDF1(C, E_pub_r)");
    const Bytes e_pub_r = Field(s9, "E_pub_r");
    CHECK(Hex(e_pub_r) == resp.at("unencrypted_ephemeral").AsString());
    CHECK(Hex(Kdf1(Field(s6, "ck"), e_pub_r, backend)) == s9.at("ck").AsString());
    CHECK(Hex(Blake2s256({Field(s7, "h"), e_pub_r}, backend)) == s9.at("h").AsString());

    // (C, tau, k) = KDF3(C, psk) after the two DH steps of the response.
    const auto& s11 = Step(kat, 11, "C = KDF1(C, DH(E_priv_r, S_pub_i))");
    const auto& s12 = Step(kat, 12, "(C, tau, k) = KDF3(C, Q=psk)");
    const auto [ck, tau, k] = Kdf3(Field(s11, "ck"), psk, backend);
    CHECK(Hex(ck) == s12.at("ck").AsString());
    CHECK(Hex(tau) == s12.at("tau").AsString());
    CHECK(Hex(k) == s12.at("k").AsString());
    CHECK(Hex(ck) == kat.at("derived").at("final_chaining_key").AsString());

    // H = HASH(H || tau); H = HASH(H || encrypted_nothing): the final handshake hash.
    const auto& s13 = Step(kat, 13, "H = HASH(H || tau)");
    const Blake2sHash h13 = Blake2s256({Field(s9, "h"), tau}, backend);
    CHECK(Hex(h13) == s13.at("h").AsString());
    const Bytes encrypted_nothing = Unhex(resp.at("encrypted_nothing").AsString());
    const Blake2sHash final_h = Blake2s256({h13, encrypted_nothing}, backend);
    CHECK(Hex(final_h) == Step(kat, 14, "encrypted_nothing").at("h").AsString());
    CHECK(Hex(final_h) == kat.at("derived").at("final_handshake_hash").AsString());

    // Transport keys: (T_send_i, T_recv_i) = KDF2(C, empty).
    const auto& s16 = Step(kat, 16, "(T_send_i = T_recv_r, T_recv_i = T_send_r) = KDF2(C, \"\")");
    const auto [send, recv] = Kdf2(ck, {}, backend);
    CHECK(Hex(send) == s16.at("T_send_i").AsString());
    CHECK(Hex(recv) == s16.at("T_recv_i").AsString());
    CHECK(Hex(send) == kat.at("derived").at("transport_key_initiator_send").AsString());
  }
}

TEST_CASE("WireGuard mac1 of the captured initiation and response") {
  const auto kat = testing::LoadJson("wireguard_handshake_kat.json");
  const auto& keys = kat.at("keys");
  struct Case {
    std::string message, mac_key_step, receiver_static, mac1_key_field;
    size_t mac1_offset;
  };
  // mac1 covers the message up to itself: 116 bytes of the 148-byte initiation, 60 of the 92-byte
  // response. Its key is HASH(LABEL_MAC1 || the receiver's static public key).
  const Case cases[] = {
      {"handshake_initiation", "initiation mac1", "responder_static_public",
       "mac1_key_for_responder", 116},
      {"handshake_response", "response mac1", "initiator_static_public", "mac1_key_for_initiator",
       60},
  };
  for (const Case& c : cases) {
    INFO(c.message);
    const auto& msg = kat.at("messages").at(c.message);
    const Bytes payload = Unhex(msg.at("udp_payload_hex").AsString());
    REQUIRE(payload.size() == c.mac1_offset + 32);
    const size_t step_index = c.mac1_offset == 116 ? 8 : 15;
    const auto& step = Step(kat, step_index, c.mac_key_step);
    for (CryptoBackend backend : kAllCryptoBackends) {
      INFO("backend " << ToString(backend));
      const Blake2sHash mac1_key =
          Blake2s256({AsBytes(kLabelMac1), Unhex(keys.at(c.receiver_static).AsString())}, backend);
      CHECK(Hex(mac1_key) == step.at("mac1_key").AsString());
      CHECK(Hex(mac1_key) == kat.at("derived").at(c.mac1_key_field).AsString());
      const Mac16 mac1 = Blake2sMac16(mac1_key, ByteSpan(payload).first(c.mac1_offset), backend);
      CHECK(Hex(mac1) == msg.at("fields").at("mac1").AsString());
      CHECK(Hex(mac1) == Hex(ByteSpan(payload).subspan(c.mac1_offset, 16)));
      CHECK(Hex(mac1) == step.at("mac1").AsString());
    }
  }
}

}  // namespace
}  // namespace meshvpn::noise
