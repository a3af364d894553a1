#include "meshvpn/wg/cookie.h"

#include <catch2/catch.hpp>
#include <chrono>

#include "wireguard_kat.h"

namespace meshvpn::wg {
namespace {

using std::chrono::seconds;

Bytes Hex(std::string_view h) {
  auto b = HexDecode(h);
  REQUIRE(b.ok());
  return *b;
}
std::array<uint8_t, 32> Key(std::string_view h) {
  std::array<uint8_t, 32> k{};
  REQUIRE(HexDecodeInto(h, k).ok());
  return k;
}

const udp::Endpoint kInitiatorAddr = udp::Endpoint::V4({10, 9, 0, 1}, 43462);

CryptoBackend Backend() { return GENERATE(CryptoBackend::kOpenSsl, CryptoBackend::kReference); }

TEST_CASE("mac1 keys of the captured handshake") {
  const CryptoBackend b = Backend();
  CHECK(HexEncode(Mac1Key(Key(kat::kResponderStaticPublic), b)) == kat::kMac1KeyForResponder);
  CHECK(HexEncode(Mac1Key(Key(kat::kInitiatorStaticPublic), b)) == kat::kMac1KeyForInitiator);
  CHECK(Mac1Key(Key(kat::kResponderStaticPublic), b) !=
        CookieKey(Key(kat::kResponderStaticPublic), b));
}

TEST_CASE("the checker accepts the captured messages' mac1 and rejects tampering") {
  const CryptoBackend b = Backend();
  FakeClock clock;
  auto responder = CookieChecker::Create(Key(kat::kResponderStaticPublic), b);
  auto initiator = CookieChecker::Create(Key(kat::kInitiatorStaticPublic), b);
  REQUIRE(responder.ok());
  REQUIRE(initiator.ok());
  Bytes init = Hex(kat::kInitiation);
  const Bytes resp = Hex(kat::kResponse);
  CHECK(responder->CheckMacs(init, kInitiatorAddr, false, clock.Now()) == MacCheck::kValidMac1);
  // Under load the captured mac2 (zeros: no cookie) is not enough.
  CHECK(responder->CheckMacs(init, kInitiatorAddr, true, clock.Now()) == MacCheck::kValidMac1);
  CHECK(initiator->CheckMacs(resp, kInitiatorAddr, false, clock.Now()) == MacCheck::kValidMac1);
  // The response's mac1 is keyed for the initiator, not for the responder.
  CHECK(responder->CheckMacs(resp, kInitiatorAddr, false, clock.Now()) == MacCheck::kInvalidMac1);
  for (size_t i : {size_t{4}, size_t{60}, size_t{115}, size_t{116}, size_t{131}}) {
    Bytes bad = init;
    bad[i] ^= 1;
    INFO(i);
    CHECK(responder->CheckMacs(bad, kInitiatorAddr, false, clock.Now()) == MacCheck::kInvalidMac1);
  }
  // mac2 is not covered by mac1: changing it leaves mac1 valid.
  init[140] ^= 1;
  CHECK(responder->CheckMacs(init, kInitiatorAddr, false, clock.Now()) == MacCheck::kValidMac1);
  CHECK(responder->CheckMacs(Hex(kat::kTransport0), kInitiatorAddr, false, clock.Now()) ==
        MacCheck::kMalformed);
  CHECK(responder->CheckMacs(ByteSpan(init).first(100), kInitiatorAddr, false, clock.Now()) ==
        MacCheck::kMalformed);
  CHECK(ToString(MacCheck::kInvalidMac1) == "invalid mac1");
}

TEST_CASE("the generator reproduces the captured mac1 and a zero mac2") {
  const CryptoBackend b = Backend();
  FakeClock clock;
  auto to_responder = CookieGenerator::Create(Key(kat::kResponderStaticPublic), b);
  auto to_initiator = CookieGenerator::Create(Key(kat::kInitiatorStaticPublic), b);
  REQUIRE(to_responder.ok());
  REQUIRE(to_initiator.ok());
  for (auto [hex, gen] :
       {std::pair{kat::kInitiation, &*to_responder}, std::pair{kat::kResponse, &*to_initiator}}) {
    const Bytes captured = Hex(hex);
    Bytes msg = captured;
    MacOffsets off;
    REQUIRE(FindMacOffsets(msg, &off));
    std::fill(msg.begin() + static_cast<ptrdiff_t>(off.mac1), msg.end(), 0xee);
    REQUIRE(gen->AddMacs(msg, clock.Now()));
    CHECK(msg == captured);
  }
  Bytes transport = Hex(kat::kTransport0);
  const Bytes before = transport;
  CHECK_FALSE(to_responder->AddMacs(transport, clock.Now()));
  CHECK(transport == before);
}

struct Pair {
  CookieGenerator initiator;
  CookieChecker responder;
};
Pair MakePair(CryptoBackend b) {
  auto g = CookieGenerator::Create(Key(kat::kResponderStaticPublic), b);
  auto c = CookieChecker::Create(Key(kat::kResponderStaticPublic), b);
  REQUIRE(g.ok());
  REQUIRE(c.ok());
  return Pair{std::move(*g), std::move(*c)};
}

TEST_CASE("under load: cookie reply, then a valid mac2") {
  const CryptoBackend b = Backend();
  FakeClock clock;
  Pair p = MakePair(b);
  Bytes msg = Hex(kat::kInitiation);
  REQUIRE(p.initiator.AddMacs(msg, clock.Now()));
  REQUIRE(p.responder.CheckMacs(msg, kInitiatorAddr, true, clock.Now()) == MacCheck::kValidMac1);

  std::array<uint8_t, cookie_reply::kSize> reply;
  REQUIRE(p.responder.MakeCookieReply(msg, kInitiatorAddr, clock.Now(), reply));
  CookieReply decoded;
  REQUIRE(Decode(reply, &decoded) == MessageError::kOk);
  CHECK(decoded.receiver_index == kat::kInitiatorSenderIndex);

  clock.Advance(seconds(1));
  CHECK_FALSE(p.initiator.HasCookie(clock.Now()));
  REQUIRE(p.initiator.ConsumeCookieReply(reply, clock.Now()) == CookieGenerator::ReplyResult::kOk);
  CHECK(p.initiator.HasCookie(clock.Now()));
  // Only one reply per message sent.
  CHECK(p.initiator.ConsumeCookieReply(reply, clock.Now()) ==
        CookieGenerator::ReplyResult::kUnexpected);

  // The retried initiation carries a mac2 the responder accepts from that address only.
  msg[4] ^= 0x55;  // a new sender index, as a retry would have
  REQUIRE(p.initiator.AddMacs(msg, clock.Now()));
  CHECK(p.responder.CheckMacs(msg, kInitiatorAddr, true, clock.Now()) ==
        MacCheck::kValidMac1AndMac2);
  CHECK(p.responder.CheckMacs(msg, kInitiatorAddr, false, clock.Now()) == MacCheck::kValidMac1);
  CHECK(p.responder.CheckMacs(msg, kInitiatorAddr.WithPort(43463), true, clock.Now()) ==
        MacCheck::kValidMac1);
  CHECK(p.responder.CheckMacs(msg, udp::Endpoint::V4({10, 9, 0, 3}, 43462), true, clock.Now()) ==
        MacCheck::kValidMac1);

  // The initiator forgets the cookie after 120 s: mac2 goes back to zeros.
  clock.Advance(kCookieRefreshTime);
  CHECK_FALSE(p.initiator.HasCookie(clock.Now()));
  REQUIRE(p.initiator.AddMacs(msg, clock.Now()));
  MacOffsets off;
  REQUIRE(FindMacOffsets(msg, &off));
  CHECK(Bytes(msg.begin() + static_cast<ptrdiff_t>(off.mac2), msg.end()) == Bytes(16, 0));
}

TEST_CASE("the responder's secret changes after 120 s, invalidating old cookies") {
  const CryptoBackend b = Backend();
  FakeClock clock;
  Pair p = MakePair(b);
  Bytes msg = Hex(kat::kInitiation);
  REQUIRE(p.initiator.AddMacs(msg, clock.Now()));
  std::array<uint8_t, cookie_reply::kSize> reply;
  REQUIRE(p.responder.MakeCookieReply(msg, kInitiatorAddr, clock.Now(), reply));
  REQUIRE(p.initiator.ConsumeCookieReply(reply, clock.Now()) == CookieGenerator::ReplyResult::kOk);
  clock.Advance(seconds(119));
  REQUIRE(p.initiator.AddMacs(msg, clock.Now()));
  CHECK(p.responder.CheckMacs(msg, kInitiatorAddr, true, clock.Now()) ==
        MacCheck::kValidMac1AndMac2);
  clock.Advance(seconds(1));  // the secret is now 120 s old
  CHECK(p.responder.CheckMacs(msg, kInitiatorAddr, true, clock.Now()) == MacCheck::kValidMac1);
}

TEST_CASE("cookie replies: same cookie per source, fresh nonces, and forgeries refused") {
  const CryptoBackend b = Backend();
  FakeClock clock;
  Pair p = MakePair(b);
  Bytes msg = Hex(kat::kInitiation);
  MacOffsets off;
  REQUIRE(FindMacOffsets(msg, &off));

  // Decrypting independently with HASH(LABEL_COOKIE || responder public) and aad = mac1.
  auto open = [&](const std::array<uint8_t, 64>& r) {
    auto aead = aead::XChaCha20Poly1305::Create(CookieKey(Key(kat::kResponderStaticPublic)));
    REQUIRE(aead.ok());
    std::array<uint8_t, 32> sealed;
    std::copy(r.begin() + 32, r.end(), sealed.begin());
    REQUIRE(aead->Open(ByteSpan(r).subspan(8, 24), ByteSpan(msg).subspan(off.mac1, 16), sealed) ==
            aead::AeadResult::kOk);
    return Bytes(sealed.begin(), sealed.begin() + 16);
  };
  std::array<uint8_t, 64> r1, r2, r3;
  REQUIRE(p.responder.MakeCookieReply(msg, kInitiatorAddr, clock.Now(), r1));
  REQUIRE(p.responder.MakeCookieReply(msg, kInitiatorAddr, clock.Now(), r2));
  REQUIRE(p.responder.MakeCookieReply(msg, kInitiatorAddr.WithPort(1), clock.Now(), r3));
  CHECK(ByteSpan(r1).subspan(8, 24).size() == 24);
  CHECK(Bytes(r1.begin() + 8, r1.begin() + 32) != Bytes(r2.begin() + 8, r2.begin() + 32));
  CHECK(open(r1) == open(r2));
  CHECK(open(r1) != open(r3));

  // Before any message was sent, a reply is unexpected.
  auto fresh = CookieGenerator::Create(Key(kat::kResponderStaticPublic), b);
  REQUIRE(fresh.ok());
  CHECK(fresh->ConsumeCookieReply(r1, clock.Now()) == CookieGenerator::ReplyResult::kUnexpected);

  REQUIRE(p.initiator.AddMacs(msg, clock.Now()));
  std::array<uint8_t, 64> bad = r1;
  bad[40] ^= 1;
  CHECK(p.initiator.ConsumeCookieReply(bad, clock.Now()) ==
        CookieGenerator::ReplyResult::kAuthenticationFailed);
  CHECK(p.initiator.ConsumeCookieReply(ByteSpan(r1).first(63), clock.Now()) ==
        CookieGenerator::ReplyResult::kMalformed);
  // A reply to an older message (another mac1) does not authenticate.
  msg[4] ^= 1;
  REQUIRE(p.initiator.AddMacs(msg, clock.Now()));
  CHECK(p.initiator.ConsumeCookieReply(r1, clock.Now()) ==
        CookieGenerator::ReplyResult::kAuthenticationFailed);
  CHECK_FALSE(p.initiator.HasCookie(clock.Now()));
  CHECK(ToString(CookieGenerator::ReplyResult::kUnexpected) == "unexpected cookie reply");

  std::array<uint8_t, 64> none;
  CHECK_FALSE(
      p.responder.MakeCookieReply(Hex(kat::kTransport0), kInitiatorAddr, clock.Now(), none));
}

TEST_CASE("cookie over IPv6 sources") {
  FakeClock clock;
  Pair p = MakePair(CryptoBackend::kOpenSsl);
  const auto v6 = udp::Endpoint::Parse("[fd00::1]:51820");
  REQUIRE(v6.ok());
  Bytes msg = Hex(kat::kResponse);
  // A response is sent to the initiator, but the roles of the key do not matter here: the
  // generator and checker below both use the responder's key.
  REQUIRE(p.initiator.AddMacs(msg, clock.Now()));
  std::array<uint8_t, 64> reply;
  REQUIRE(p.responder.MakeCookieReply(msg, *v6, clock.Now(), reply));
  CookieReply decoded;
  REQUIRE(Decode(reply, &decoded) == MessageError::kOk);
  CHECK(decoded.receiver_index == kat::kResponderSenderIndex);
  REQUIRE(p.initiator.ConsumeCookieReply(reply, clock.Now()) == CookieGenerator::ReplyResult::kOk);
  REQUIRE(p.initiator.AddMacs(msg, clock.Now()));
  CHECK(p.responder.CheckMacs(msg, *v6, true, clock.Now()) == MacCheck::kValidMac1AndMac2);
  CHECK(p.responder.CheckMacs(msg, v6->WithPort(51821), true, clock.Now()) == MacCheck::kValidMac1);
}

}  // namespace
}  // namespace meshvpn::wg
