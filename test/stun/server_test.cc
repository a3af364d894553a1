#include "meshvpn/stun/server.h"

#include <catch2/catch.hpp>
#include <vector>

#include "meshvpn/stun/builder.h"
#include "meshvpn/stun/integrity.h"
#include "meshvpn/stun/message.h"

namespace meshvpn::stun {
namespace {

const udp::Endpoint kA = *udp::Endpoint::Parse("192.0.2.1:3478");
const udp::Endpoint kB = *udp::Endpoint::Parse("192.0.2.2:3479");
const udp::Endpoint kClient = *udp::Endpoint::Parse("203.0.113.5:51000");

std::vector<uint8_t> Request(bool change_ip, bool change_port, uint16_t extra_attr = 0,
                             uint16_t type = kBindingRequest) {
  std::vector<uint8_t> buf(256);
  MessageBuilder b(buf);
  b.Start(type, TransactionId{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  if (change_ip || change_port) b.AddChangeRequest(change_ip, change_port);
  if (extra_attr != 0) b.AddAttribute(extra_attr, AsBytes("x"));
  b.AddFingerprint();
  REQUIRE(b.ok());
  buf.resize(b.size());
  return buf;
}

struct Answered {
  MessageView view;
  std::vector<uint8_t> bytes;
  ServerReply reply;
};

Answered Ask(Server& s, const std::vector<uint8_t>& req, int slot) {
  Answered a;
  a.bytes.resize(kMaxUdpMessageSize);
  REQUIRE(s.HandleDatagram(req, kClient, slot, a.bytes, &a.reply) == ServerDrop::kNone);
  a.bytes.resize(a.reply.size);
  REQUIRE(MessageView::Parse(a.bytes, &a.view) == ParseError::kOk);
  CHECK(VerifyFingerprint(a.view) == CheckResult::kOk);
  CHECK(a.reply.to == kClient);
  return a;
}

TEST_CASE("Server answers a binding request with the reflexive address") {
  auto s = Server::Create(ServerConfig{kA, std::nullopt, "meshvpn stun_server", true});
  REQUIRE(s.ok());
  CHECK(s->slot_count() == 1);
  Answered a = Ask(*s, Request(false, false), 0);
  // Use a fresh parse: `a.view` points into a.bytes, which moved with `a`.
  MessageView m;
  REQUIRE(MessageView::Parse(a.bytes, &m) == ParseError::kOk);
  CHECK(m.type() == kBindingSuccess);
  udp::Endpoint e;
  REQUIRE(GetAddress(m, attr::kXorMappedAddress, &e) == ParseError::kOk);
  CHECK(e == kClient);
  REQUIRE(GetAddress(m, attr::kMappedAddress, &e) == ParseError::kOk);
  CHECK(e == kClient);
  REQUIRE(GetAddress(m, attr::kResponseOrigin, &e) == ParseError::kOk);
  CHECK(e == kA);
  CHECK(m.Find(attr::kOtherAddress) == nullptr);
  CHECK(AsText(m.Find(attr::kSoftware)->value) == "meshvpn stun_server");
  CHECK(a.reply.from_slot == 0);
  CHECK(s->stats().success_responses == 1);
}

TEST_CASE("RFC 5780: CHANGE-REQUEST picks the answering socket, OTHER-ADDRESS names B:Q") {
  auto s = Server::Create(ServerConfig{kA, kB, "", true});
  REQUIRE(s.ok());
  REQUIRE(s->slot_count() == 4);
  CHECK(s->SlotEndpoint(0).ToString() == "192.0.2.1:3478");
  CHECK(s->SlotEndpoint(1).ToString() == "192.0.2.1:3479");
  CHECK(s->SlotEndpoint(2).ToString() == "192.0.2.2:3478");
  CHECK(s->SlotEndpoint(3).ToString() == "192.0.2.2:3479");
  struct Case {
    bool ip, port;
    int in_slot, want_slot;
    const char* origin;
    const char* other;
  };
  const Case cases[] = {
      {false, false, 0, 0, "192.0.2.1:3478", "192.0.2.2:3479"},
      {true, true, 0, 3, "192.0.2.2:3479", "192.0.2.2:3479"},
      {false, true, 0, 1, "192.0.2.1:3479", "192.0.2.2:3479"},
      {true, false, 0, 2, "192.0.2.2:3478", "192.0.2.2:3479"},
      {false, false, 2, 2, "192.0.2.2:3478", "192.0.2.1:3479"},
      {false, true, 3, 2, "192.0.2.2:3478", "192.0.2.1:3478"},
  };
  for (const Case& c : cases) {
    INFO("change ip " << c.ip << " port " << c.port << " slot " << c.in_slot);
    Answered a = Ask(*s, Request(c.ip, c.port), c.in_slot);
    MessageView m;
    REQUIRE(MessageView::Parse(a.bytes, &m) == ParseError::kOk);
    CHECK(a.reply.from_slot == c.want_slot);
    udp::Endpoint e;
    REQUIRE(GetAddress(m, attr::kResponseOrigin, &e) == ParseError::kOk);
    CHECK(e.ToString() == c.origin);
    REQUIRE(GetAddress(m, attr::kOtherAddress, &e) == ParseError::kOk);
    CHECK(e.ToString() == c.other);
    CHECK(m.Find(attr::kSoftware) == nullptr);
  }
  CHECK(s->stats().changed_address == 4);
}

TEST_CASE("Server errors: 420 for unknown required attributes and unsupported CHANGE-REQUEST") {
  auto single = Server::Create(ServerConfig{kA, std::nullopt, "s", true});
  REQUIRE(single.ok());
  for (auto [req, want] : {std::pair{Request(true, false), attr::kChangeRequest},
                           std::pair{Request(false, false, 0x0024), attr::kPriority}}) {
    Answered a = Ask(*single, req, 0);
    MessageView m;
    REQUIRE(MessageView::Parse(a.bytes, &m) == ParseError::kOk);
    CHECK(m.type() == kBindingError);
    CHECK(a.reply.error);
    ErrorCode ec;
    REQUIRE(DecodeErrorCode(m.Find(attr::kErrorCode)->value, &ec) == ParseError::kOk);
    CHECK(ec.code == 420);
    uint16_t types[4];
    size_t n = 0;
    REQUIRE(DecodeUnknownAttributes(m.Find(attr::kUnknownAttributes)->value, types, &n) ==
            ParseError::kOk);
    REQUIRE(n == 1);
    CHECK(types[0] == want);
    CHECK(m.Find(attr::kXorMappedAddress) == nullptr);
  }
  // An unknown optional attribute is fine.
  Answered ok = Ask(*single, Request(false, false, 0xC0DE), 0);
  CHECK_FALSE(ok.reply.error);
  // Another method: 400.
  Answered bad =
      Ask(*single, Request(false, false, 0, MessageType(0x002, MessageClass::kRequest)), 0);
  CHECK(bad.reply.error);
  CHECK(single->stats().error_responses == 3);
}

TEST_CASE("Server drops what it must not answer, counting each reason") {
  auto s = Server::Create(ServerConfig{kA, std::nullopt, "s", true});
  REQUIRE(s.ok());
  std::vector<uint8_t> out(kMaxUdpMessageSize);
  ServerReply r;
  CHECK(s->HandleDatagram(AsBytes("GET / HTTP/1.1\r\n\r\n"), kClient, 0, out, &r) ==
        ServerDrop::kMalformed);
  CHECK(s->HandleDatagram(Request(false, false, 0, kBindingSuccess), kClient, 0, out, &r) ==
        ServerDrop::kNotRequest);
  CHECK(s->HandleDatagram(Request(false, false, 0, kBindingIndication), kClient, 0, out, &r) ==
        ServerDrop::kNotRequest);
  auto corrupt = Request(false, false);
  corrupt.back() ^= 1;
  CHECK(s->HandleDatagram(corrupt, kClient, 0, out, &r) == ServerDrop::kBadFingerprint);
  CHECK(s->HandleDatagram(Request(false, false), kClient, 3, out, &r) == ServerDrop::kBadSlot);
  std::vector<uint8_t> tiny(30);
  CHECK(s->HandleDatagram(Request(false, false), kClient, 0, tiny, &r) == ServerDrop::kNoSpace);
  const auto& drops = s->stats().drops;
  CHECK(drops[static_cast<size_t>(ServerDrop::kMalformed)] == 1);
  CHECK(drops[static_cast<size_t>(ServerDrop::kNotRequest)] == 2);
  CHECK(drops[static_cast<size_t>(ServerDrop::kBadFingerprint)] == 1);
  CHECK(drops[static_cast<size_t>(ServerDrop::kNoSpace)] == 1);
}

TEST_CASE("Server config checks for RFC 5780 mode") {
  CHECK_FALSE(Server::Create(ServerConfig{kA, kA.WithPort(3479), "", true}).ok());
  CHECK_FALSE(Server::Create(ServerConfig{kA, kB.WithPort(3478), "", true}).ok());
  CHECK_FALSE(
      Server::Create(ServerConfig{*udp::Endpoint::Parse("0.0.0.0:3478"), kB, "", true}).ok());
  CHECK_FALSE(Server::Create(ServerConfig{kA, *udp::Endpoint::Parse("[::1]:3479"), "", true}).ok());
  CHECK(Server::Create(ServerConfig{kA, kB, "", true}).ok());
}

}  // namespace
}  // namespace meshvpn::stun
