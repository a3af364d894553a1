#include "meshvpn/wg/messages.h"

#include <catch2/catch.hpp>
#include <vector>

#include "wireguard_kat.h"

namespace meshvpn::wg {
namespace {

Bytes Hex(std::string_view h) {
  auto b = HexDecode(h);
  REQUIRE(b.ok());
  return *b;
}

TEST_CASE("message sizes and constants match the whitepaper") {
  STATIC_REQUIRE(initiation::kSize == 148);
  STATIC_REQUIRE(response::kSize == 92);
  STATIC_REQUIRE(cookie_reply::kSize == 64);
  STATIC_REQUIRE(transport::kHeaderSize == 16);
  STATIC_REQUIRE(transport::kMinSize == 32);
  CHECK(kRekeyAfterMessages == 1152921504606846976ull);
  // 2^64 - 2^13 - 1, written out.
  CHECK(kRejectAfterMessages == 0xFFFFFFFFFFFFDFFFull);
  CHECK(kRekeyAfterTime.count() == 120);
  CHECK(kRejectAfterTime.count() == 180);
  CHECK(kRekeyAttemptTime.count() == 90);
  CHECK(kRekeyTimeout.count() == 5);
  CHECK(kKeepaliveTimeout.count() == 10);
  CHECK(kCookieRefreshTime.count() == 120);
  CHECK(kConstruction.size() == 37);
  CHECK(kIdentifier == "WireGuard v1 zx2c4 Jason@zx2c4.com");
  CHECK(kLabelMac1.size() == 8);
  CHECK(kLabelCookie.size() == 8);
}

TEST_CASE("padding rounds up to 16 but never beyond the MTU") {
  CHECK(PaddedSize(0, 1420) == 0);
  CHECK(PaddedSize(15, 1420) == 16);
  CHECK(PaddedSize(16, 1420) == 16);
  CHECK(PaddedSize(17, 1420) == 32);
  CHECK(PaddedSize(1410, 1420) == 1420);  // 1424 capped at the MTU
  CHECK(PaddedSize(1500, 1420) == 1500);  // larger than the MTU: unchanged
  CHECK(TransportSize(96) == 128);        // the captured ICMP packet
}

TEST_CASE("ParseMessage classifies the captured handshake and transport messages") {
  const Bytes init = Hex(kat::kInitiation);
  const Bytes resp = Hex(kat::kResponse);
  const Bytes data = Hex(kat::kTransport0);
  ParsedMessage p = ParseMessage(init);
  REQUIRE(p.ok());
  CHECK(p.type == MessageType::kHandshakeInitiation);
  CHECK(p.bytes.data() == init.data());
  CHECK(p.bytes.size() == 148);
  p = ParseMessage(resp);
  REQUIRE(p.ok());
  CHECK(p.type == MessageType::kHandshakeResponse);
  p = ParseMessage(data);
  REQUIRE(p.ok());
  CHECK(p.type == MessageType::kTransportData);
  CHECK(ToString(p.type) == "transport data");
}

TEST_CASE("ParseMessage rejects malformed input with a reason") {
  const Bytes init = Hex(kat::kInitiation);
  struct Case {
    const char* name;
    Bytes bytes;
    MessageError want;
  };
  Bytes reserved = init;
  reserved[3] = 1;
  Bytes longer = init;
  longer.push_back(0);
  std::vector<Case> cases = {
      {"empty", {}, MessageError::kTooShort},
      {"three bytes", {1, 0, 0}, MessageError::kTooShort},
      {"type 0", Bytes(148, 0), MessageError::kUnknownType},
      {"type 5", {5, 0, 0, 0}, MessageError::kUnknownType},
      {"type 0xff", {0xff, 0, 0, 0}, MessageError::kUnknownType},
      {"reserved byte set", reserved, MessageError::kReservedNonZero},
      {"initiation 147", Bytes(init.begin(), init.end() - 1), MessageError::kWrongLength},
      {"initiation 149", longer, MessageError::kWrongLength},
      {"bare type 1", {1, 0, 0, 0}, MessageError::kWrongLength},
      {"response 91",
       [] {
         Bytes b(91, 0);
         b[0] = 2;
         return b;
       }(),
       MessageError::kWrongLength},
      {"cookie 65",
       [] {
         Bytes b(65, 0);
         b[0] = 3;
         return b;
       }(),
       MessageError::kWrongLength},
      {"transport 31",
       [] {
         Bytes b(31, 0);
         b[0] = 4;
         return b;
       }(),
       MessageError::kWrongLength},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    const ParsedMessage p = ParseMessage(c.bytes);
    CHECK_FALSE(p.ok());
    CHECK(p.error == c.want);
    CHECK_FALSE(ToString(p.error).empty());
  }
  Bytes keepalive(32, 0);
  keepalive[0] = 4;
  CHECK(ParseMessage(keepalive).ok());
}

TEST_CASE("decoding the captured initiation gives its fields, and encoding gives it back") {
  const Bytes init = Hex(kat::kInitiation);
  HandshakeInitiation m;
  REQUIRE(Decode(init, &m) == MessageError::kOk);
  CHECK(m.sender_index == kat::kInitiatorSenderIndex);
  CHECK(HexEncode(m.unencrypted_ephemeral) ==
        "5fcec7c8e5c8e2e3f7989eef60c228d82329d602b6b1e2bb9d068f89cf9d4d45");
  CHECK(HexEncode(m.mac1) == kat::kInitiationMac1);
  CHECK(m.mac2 == Mac{});
  const auto again = Encode(m);
  CHECK(Bytes(again.begin(), again.end()) == init);

  HandshakeResponse r;
  CHECK(Decode(init, &r) == MessageError::kUnexpectedType);
}

TEST_CASE("decoding the captured response and transport header") {
  const Bytes resp = Hex(kat::kResponse);
  HandshakeResponse r;
  REQUIRE(Decode(resp, &r) == MessageError::kOk);
  CHECK(r.sender_index == kat::kResponderSenderIndex);
  CHECK(r.receiver_index == kat::kInitiatorSenderIndex);
  CHECK(HexEncode(r.mac1) == kat::kResponseMac1);
  const auto again = Encode(r);
  CHECK(Bytes(again.begin(), again.end()) == resp);

  const Bytes data = Hex(kat::kTransport0);
  TransportHeader h;
  REQUIRE(Decode(data, &h) == MessageError::kOk);
  CHECK(h.receiver_index == kat::kResponderSenderIndex);
  CHECK(h.counter == 0);
  std::array<uint8_t, transport::kHeaderSize> header;
  Encode(h, header);
  CHECK(Bytes(header.begin(), header.end()) == Bytes(data.begin(), data.begin() + 16));
}

TEST_CASE("cookie reply and transport header round-trip, fields little-endian") {
  CookieReply c;
  c.receiver_index = 0x04030201;
  for (size_t i = 0; i < c.nonce.size(); ++i) c.nonce[i] = static_cast<uint8_t>(i + 1);
  for (size_t i = 0; i < c.encrypted_cookie.size(); ++i) {
    c.encrypted_cookie[i] = static_cast<uint8_t>(0xa0 + i);
  }
  const auto wire = Encode(c);
  CHECK(HexEncode(ByteSpan(wire).first(8)) == "0300000001020304");
  CHECK(wire[8] == 1);
  CHECK(wire[32] == 0xa0);
  CookieReply back;
  REQUIRE(Decode(wire, &back) == MessageError::kOk);
  CHECK(back == c);

  TransportHeader h{.receiver_index = 7, .counter = 0x0102030405060708ull};
  std::array<uint8_t, 32> msg{};
  Encode(h, std::span<uint8_t, 16>(msg.data(), 16));
  CHECK(HexEncode(ByteSpan(msg).first(16)) == "04000000070000000807060504030201");
  TransportHeader hb;
  REQUIRE(Decode(msg, &hb) == MessageError::kOk);
  CHECK(hb == h);
  CHECK(Decode(ByteSpan(msg).first(31), &hb) == MessageError::kWrongLength);
}

}  // namespace
}  // namespace meshvpn::wg
