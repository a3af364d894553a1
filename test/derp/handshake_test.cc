// DERP's handshake: NaCl box against the published box vector, the frames' bytes, ClientInfo
// and ServerInfo JSON exactly as Go's encoding/json writes and reads them (vectors from
// Tailscale's derp/derp_test.go TestClientInfoUnmarshal and from its struct tags), and a lying
// client's boxes refused.
#include "meshvpn/derp/handshake.h"

#include <catch2/catch.hpp>
#include <string>

#include "meshvpn/base/bytes.h"
#include "meshvpn/derp/box.h"
#include "meshvpn/derp/frame.h"
#include "meshvpn/derp/messages.h"
#include "meshvpn/x25519/x25519.h"

namespace meshvpn::derp {
namespace {

Bytes Hex(std::string_view hex) { return HexDecode(hex).value(); }

PrivateKey Priv(std::string_view hex) { return PrivateKey::FromHex(hex).value(); }
PublicKey Pub(const PrivateKey& k) { return x25519::DerivePublicKey(k).value(); }

// The box vector of Bernstein's "Cryptography in NaCl" (section 10), also libsodium's
// test/default/box.c: Alice's secret key, Bob's public key, the nonce, 131 bytes of message and
// the 147 bytes crypto_box_easy gives (tag first, as Go's box.Seal writes it).
constexpr std::string_view kAliceSecret =
    "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
constexpr std::string_view kBobSecret =
    "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
constexpr std::string_view kBobPublic =
    "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
constexpr std::string_view kNonce = "69696ee955b62b73cd62bda875fc73d68219e0036b7a0b37";
constexpr std::string_view kMessage =
    "be075fc53c81f2d5cf141316ebeb0c7b5228c52a4c62cbd44b66849b64244ffce5ecbaaf33bd751a1ac728d45e6c"
    "61296cdc3c01233561f41db66cce314adb310e3be8250c46f06dceea3a7fa1348057e2f6556ad6b1318a024a838f"
    "21af1fde048977eb48f59ffd4924ca1c60902e52f0a089bc76897040e082f937763848645e0705";
constexpr std::string_view kBox =
    "f3ffc7703f9400e52a7dfb4b3d3305d98e993b9f48681273c29650ba32fc76ce48332ea7164d96a4476fb8c531a1"
    "186ac0dfc17c98dce87b4da7f011ec48c97271d2c20f9b928fe2270d6fb863d51738b48eeee314a7cc8ab9321645"
    "48e526ae90224368517acfeabd6bb3732bc0e9da99832b61ca01b6de56244a9e88d5f9b37973f622a43d14a6599b"
    "1f654cb45a74e355a5";

TEST_CASE("SealTo is nonce || crypto_box_easy, as Tailscale's SealTo (NaCl box vector)") {
  const PrivateKey alice = Priv(kAliceSecret);
  const PublicKey bob = PublicKey::FromHex(kBobPublic).value();
  const Bytes message = Hex(kMessage);
  const Bytes nonce = Hex(kNonce);
  const std::string sealed = SealToWithNonce(alice, bob, message, nonce);
  REQUIRE(sealed.size() == kNonceLen + message.size() + kBoxTagLen);
  CHECK(HexEncode(AsBytes(sealed).first(kNonceLen)) == kNonce);
  CHECK(HexEncode(AsBytes(sealed).subspan(kNonceLen)) == kBox);

  // Bob opens it with Alice's public key.
  const PrivateKey bob_secret = Priv(kBobSecret);
  auto opened = OpenFrom(bob_secret, Pub(alice), AsBytes(sealed));
  REQUIRE(opened);
  CHECK(Bytes(opened->begin(), opened->end()) == message);
}

TEST_CASE("OpenFrom refuses a flipped bit, a wrong sender, a short box") {
  const PrivateKey alice = PrivateKey::Generate().value();
  const PrivateKey bob = PrivateKey::Generate().value();
  const PrivateKey mallory = PrivateKey::Generate().value();
  std::string sealed = SealTo(alice, Pub(bob), AsBytes("hello"));
  REQUIRE(OpenFrom(bob, Pub(alice), AsBytes(sealed)) == std::optional<std::string>("hello"));
  CHECK_FALSE(OpenFrom(bob, Pub(mallory), AsBytes(sealed)));
  for (size_t i = 0; i < sealed.size(); ++i) {
    std::string bad = sealed;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    CHECK_FALSE(OpenFrom(bob, Pub(alice), AsBytes(bad)));
  }
  CHECK_FALSE(OpenFrom(bob, Pub(alice), AsBytes(sealed).first(kSealOverhead - 1)));
  // Two seals of the same message differ (fresh nonce).
  CHECK(SealTo(alice, Pub(bob), AsBytes("hello")) != sealed);
  // The all-zero public key is a low-order point: no box.
  CHECK(SealTo(alice, PublicKey(), AsBytes("x")).empty());
}

TEST_CASE("ClientInfo JSON is Go's json.Marshal of derp.ClientInfo") {
  ClientInfo info;
  info.version = kProtocolVersion;
  CHECK(EncodeClientInfoJson(info) == R"({"version":2,"CanAckPings":false})");
  info.can_ack_pings = true;
  info.is_prober = true;
  info.app_name = "derp_client <x> & \"q\"\n";
  CHECK(
      EncodeClientInfoJson(info) ==
      R"({"version":2,"CanAckPings":true,"IsProber":true,"AppName":"derp_client \u003cx\u003e \u0026 \"q\"\n"})");
  ClientInfo meshed;
  meshed.mesh_key =
      MeshKey::Parse("6d529e9d4ef632d22d4a4214cb49da8f1ba1b72697061fb24e312984c35ec8d8").value();
  meshed.version = 2;
  CHECK(
      EncodeClientInfoJson(meshed) ==
      R"({"meshKey":"6d529e9d4ef632d22d4a4214cb49da8f1ba1b72697061fb24e312984c35ec8d8","version":2,"CanAckPings":false})");
  ClientInfo zero;
  CHECK(EncodeClientInfoJson(zero) == R"({"CanAckPings":false})");
  // Invalid UTF-8 becomes U+FFFD, as Go writes it; U+2028 is escaped.
  zero.app_name = std::string("a\xff\xe2\x80\xa8", 5);
  CHECK(EncodeClientInfoJson(zero) ==
        "{\"CanAckPings\":false,\"AppName\":\"a\xef\xbf\xbd\\u2028\"}");
}

TEST_CASE("ClientInfo JSON decodes as Go's json.Unmarshal (derp_test.go TestClientInfoUnmarshal)") {
  const auto want_mesh =
      MeshKey::Parse("6d529e9d4ef632d22d4a4214cb49da8f1ba1b72697061fb24e312984c35ec8d8").value();
  auto empty = DecodeClientInfoJson("{}");
  REQUIRE(empty.ok());
  CHECK(empty->version == 0);
  CHECK(empty->mesh_key.IsZero());
  for (
      std::string_view json :
      {R"({"Version":5,"MeshKey":"6d529e9d4ef632d22d4a4214cb49da8f1ba1b72697061fb24e312984c35ec8d8"})",
       R"({"version":5,"meshKey":"6d529e9d4ef632d22d4a4214cb49da8f1ba1b72697061fb24e312984c35ec8d8"})"}) {
    auto got = DecodeClientInfoJson(json);
    REQUIRE(got.ok());
    CHECK(got->version == 5);
    CHECK(got->mesh_key.ConstantTimeEquals(want_mesh));
  }
  CHECK_FALSE(DecodeClientInfoJson(R"({"version":5,"meshKey":"abcdefg"})").ok());
  CHECK_FALSE(
      DecodeClientInfoJson(
          R"({"version":5,"meshKey":"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"})")
          .ok());
  // Go: unknown fields ignored, type mismatches are errors, null leaves the field.
  auto extra = DecodeClientInfoJson(R"({"version":2,"CanAckPings":true,"Future":[1,{"x":2}]})");
  REQUIRE(extra.ok());
  CHECK(extra->can_ack_pings);
  CHECK_FALSE(DecodeClientInfoJson(R"({"version":"2"})").ok());
  CHECK_FALSE(DecodeClientInfoJson(R"({"version":2.5})").ok());
  CHECK_FALSE(DecodeClientInfoJson(R"({"CanAckPings":1})").ok());
  CHECK_FALSE(DecodeClientInfoJson(R"([1,2])").ok());
  CHECK_FALSE(DecodeClientInfoJson(R"({"version":2)").ok());
  CHECK(DecodeClientInfoJson(R"({"version":null})").ok());
}

TEST_CASE("ServerInfo JSON both ways") {
  ServerInfo info;
  info.version = 2;
  CHECK(EncodeServerInfoJson(info) == R"({"version":2})");
  info.token_bucket_bytes_per_second = 1000;
  info.token_bucket_bytes_burst = 65568;
  const std::string json = EncodeServerInfoJson(info);
  CHECK(json == R"({"version":2,"TokenBucketBytesPerSecond":1000,"TokenBucketBytesBurst":65568})");
  auto back = DecodeServerInfoJson(json);
  REQUIRE(back.ok());
  CHECK(back->version == 2);
  CHECK(back->token_bucket_bytes_per_second == 1000);
  CHECK(back->token_bucket_bytes_burst == 65568);
  CHECK(EncodeServerInfoJson(ServerInfo{}) == "{}");
}

TEST_CASE("the three handshake frames, made and opened") {
  const PrivateKey server = PrivateKey::Generate().value();
  const PrivateKey client = PrivateKey::Generate().value();
  const PublicKey server_pub = Pub(server), client_pub = Pub(client);

  // ServerKey: 01, length 40, magic, key.
  const std::string greeting = MakeServerKeyFrame(server_pub);
  REQUIRE(greeting.size() == kFrameHeaderLen + kServerKeyFrameLen);
  CHECK(greeting.substr(0, 5) == std::string("\x01\x00\x00\x00\x28", 5));
  CHECK(greeting.substr(5, 8) == kMagicString);
  auto parsed_key = ParseServerKey(AsBytes(greeting).subspan(kFrameHeaderLen));
  REQUIRE(parsed_key.ok());
  CHECK(*parsed_key == server_pub);
  // Longer is fine (future use); a wrong magic or short payload is not.
  std::string longer = greeting.substr(5) + "future";
  CHECK(ParseServerKey(AsBytes(longer)).ok());
  std::string bad_magic = greeting.substr(5);
  bad_magic[0] = 'X';
  CHECK_FALSE(ParseServerKey(AsBytes(bad_magic)).ok());
  CHECK_FALSE(ParseServerKey(AsBytes(greeting).subspan(5, 39)).ok());

  // ClientInfo: 02, client key, nonce, box.
  ClientInfo info;
  info.version = 2;
  info.can_ack_pings = true;
  const std::string hello = MakeClientInfoFrame(client, client_pub, server_pub, info);
  CHECK(static_cast<uint8_t>(hello[0]) == 0x02);
  const std::string json = EncodeClientInfoJson(info);
  CHECK(hello.size() == kFrameHeaderLen + kKeyLen + kSealOverhead + json.size());
  CHECK(hello.substr(5, 32) == meshvpn::ToString(client_pub.bytes()));
  auto opened = OpenClientInfo(server, AsBytes(hello).subspan(kFrameHeaderLen));
  REQUIRE(opened.ok());
  CHECK(opened->client == client_pub);
  CHECK(opened->info.version == 2);
  CHECK(opened->info.can_ack_pings);

  // ServerInfo: 03, nonce, box.
  const std::string reply = MakeServerInfoFrame(server, client_pub, ServerInfo{2, 0, 0});
  CHECK(static_cast<uint8_t>(reply[0]) == 0x03);
  auto server_info = OpenServerInfo(client, server_pub, AsBytes(reply).subspan(kFrameHeaderLen));
  REQUIRE(server_info.ok());
  CHECK(server_info->version == 2);
}

TEST_CASE("a lying client: a box for another server, a claimed key it does not hold, bad sizes") {
  const PrivateKey server = PrivateKey::Generate().value();
  const PrivateKey other_server = PrivateKey::Generate().value();
  const PrivateKey client = PrivateKey::Generate().value();
  const PrivateKey victim = PrivateKey::Generate().value();
  ClientInfo info;
  info.version = 2;
  // Sealed to another server.
  std::string frame = MakeClientInfoFrame(client, Pub(client), Pub(other_server), info);
  CHECK(absl::IsPermissionDenied(OpenClientInfo(server, AsBytes(frame).subspan(5)).status()));
  // Claims the victim's public key but seals with its own private key.
  frame = MakeClientInfoFrame(client, Pub(victim), Pub(server), info);
  CHECK(absl::IsPermissionDenied(OpenClientInfo(server, AsBytes(frame).subspan(5)).status()));
  // Shorter than key + nonce, longer than 256 KiB.
  const std::string short_payload(kKeyLen + kNonceLen - 1, 'x');
  CHECK_FALSE(OpenClientInfo(server, AsBytes(short_payload)).ok());
  const std::string long_payload(kMaxClientInfoFrameLen + 1, 'x');
  CHECK_FALSE(OpenClientInfo(server, AsBytes(long_payload)).ok());
  // A box that opens but holds no JSON object.
  std::string payload =
      meshvpn::ToString(Pub(client).bytes()) + SealTo(client, Pub(server), AsBytes("[]"));
  CHECK(absl::IsInvalidArgument(OpenClientInfo(server, AsBytes(payload)).status()));
}

}  // namespace
}  // namespace meshvpn::derp
