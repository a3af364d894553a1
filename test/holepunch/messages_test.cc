// The wire format: every message round-trips, malformed datagrams are rejected with a reason,
// MACs verify and any flipped bit breaks them, and the magic never collides with STUN.
#include "meshvpn/holepunch/messages.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>
#include <vector>

#include "meshvpn/x25519/x25519.h"

namespace meshvpn::holepunch {
namespace {

udp::Endpoint Ep(const char* s) { return *udp::Endpoint::Parse(s); }

x25519::PublicKey TestKey(uint8_t fill) {
  std::array<uint8_t, 32> b{};
  b.fill(fill);
  return x25519::PublicKey(b);
}

std::vector<uint8_t> Wire(size_t n, const std::array<uint8_t, 2048>& buf) {
  return std::vector<uint8_t>(buf.begin(), buf.begin() + n);
}

Register SampleRegister() {
  Register r;
  r.nonce = 0x0102030405060708ull;
  r.key = TestKey(7);
  r.flags = kFlagHardNat;
  r.name = "alice";
  r.peer = "bob-2.home_lan";
  r.candidates = {{Ep("192.168.1.2:40000"), CandidateKind::kLocal},
                  {Ep("203.0.113.101:40000"), CandidateKind::kStun},
                  {Ep("[2001:db8::1]:40000"), CandidateKind::kLocal}};
  return r;
}

TEST_CASE("rendezvous messages round-trip") {
  std::array<uint8_t, 2048> buf{};
  const Register r = SampleRegister();
  size_t n = Encode(r, buf);
  REQUIRE(n == kHeaderSize + 8 + 32 + 1 + 1 + 5 + 1 + 14 + 1 + 3 * 1 + 7 + 7 + 19);
  Register r2;
  REQUIRE(Decode(Wire(n, buf), &r2) == ParseError::kOk);
  CHECK(r2.nonce == r.nonce);
  CHECK(r2.key == r.key);
  CHECK(r2.flags == r.flags);
  CHECK(r2.name == r.name);
  CHECK(r2.peer == r.peer);
  CHECK(r2.candidates == r.candidates);
  CHECK(PeekHeader(Wire(n, buf)).type == MessageType::kRegister);

  RegisterAck ack{9, 30, Ep("203.0.113.101:5555")};
  n = Encode(ack, buf);
  REQUIRE(n == kHeaderSize + 8 + 2 + kEndpointV4Size);
  RegisterAck ack2;
  REQUIRE(Decode(Wire(n, buf), &ack2) == ParseError::kOk);
  CHECK(ack2.nonce == 9);
  CHECK(ack2.lease_seconds == 30);
  CHECK(ack2.observed == ack.observed);

  PeerInfo info;
  info.nonce = 11;
  info.key = TestKey(3);
  info.name = "bob";
  info.candidates = r.candidates;
  n = Encode(info, buf);
  PeerInfo info2;
  REQUIRE(Decode(Wire(n, buf), &info2) == ParseError::kOk);
  CHECK(info2.key == info.key);
  CHECK(info2.name == "bob");
  CHECK(info2.candidates == info.candidates);

  RegisterError err{5, RegisterErrorCode::kNameTaken};
  n = Encode(err, buf);
  REQUIRE(n == kHeaderSize + 9);
  RegisterError err2;
  REQUIRE(Decode(Wire(n, buf), &err2) == ParseError::kOk);
  CHECK(err2.code == RegisterErrorCode::kNameTaken);
  CHECK(ToString(err2.code) == "name taken by another key");
}

TEST_CASE("probes round-trip with their MAC and have the documented sizes") {
  const SessionKey key = SessionKey::FromBytes(TestKey(0x42).bytes());
  std::array<uint8_t, 2048> buf{};
  Ping ping;
  ping.sender = TestKey(1);
  for (size_t i = 0; i < ping.tx.size(); ++i) ping.tx[i] = static_cast<uint8_t>(i);
  size_t n = Encode(ping, key, buf);
  REQUIRE(n == kPingSize);
  Ping ping2;
  REQUIRE(Decode(Wire(n, buf), &ping2) == ParseError::kOk);
  CHECK(ping2.tx == ping.tx);
  CHECK(ping2.sender == ping.sender);
  CHECK(VerifyMac(Wire(n, buf), key));

  Pong pong{TestKey(2), ping.tx, Ep("203.0.113.5:1234")};
  n = Encode(pong, key, buf);
  REQUIRE(n == kPongMinSize);
  Pong pong2;
  REQUIRE(Decode(Wire(n, buf), &pong2) == ParseError::kOk);
  CHECK(pong2.observed == pong.observed);
  pong.observed = Ep("[2001:db8::5]:1234");
  CHECK(Encode(pong, key, buf) == kPongMaxSize);

  const std::string text = "Hello from Alice!";
  Message m{TestKey(1), 77, AsBytes(text)};
  n = Encode(m, key, buf);
  REQUIRE(n == kMessageOverhead + text.size());
  const std::vector<uint8_t> mw = Wire(n, buf);
  Message m2;
  REQUIRE(Decode(mw, &m2) == ParseError::kOk);
  CHECK(m2.id == 77);
  CHECK(meshvpn::ToString(m2.text) == text);
  const std::string too_long(kMaxTextSize + 1, 'x');
  CHECK(Encode(Message{TestKey(1), 1, AsBytes(too_long)}, key, buf) == 0);

  MessageAck a{TestKey(1), 77};
  n = Encode(a, key, buf);
  REQUIRE(n == kMessageAckSize);
  MessageAck a2;
  REQUIRE(Decode(Wire(n, buf), &a2) == ParseError::kOk);
  CHECK(a2.id == 77);
}

TEST_CASE("every flipped bit of a probe breaks it, and another key does not verify") {
  const SessionKey key = SessionKey::FromBytes(TestKey(0x42).bytes());
  const SessionKey other = SessionKey::FromBytes(TestKey(0x43).bytes());
  std::array<uint8_t, 2048> buf{};
  Pong pong{TestKey(2), TxId{}, Ep("203.0.113.5:1234")};
  const std::vector<uint8_t> wire = Wire(Encode(pong, key, buf), buf);
  CHECK(VerifyMac(wire, key));
  CHECK(!VerifyMac(wire, other));
  for (size_t i = 0; i < wire.size() * 8; ++i) {
    std::vector<uint8_t> bad = wire;
    bad[i / 8] ^= static_cast<uint8_t>(1u << (i % 8));
    Pong p;
    CHECK((Decode(bad, &p) != ParseError::kOk || !VerifyMac(bad, key)));
  }
  CHECK(!VerifyMac(std::vector<uint8_t>(10, 0), key));
}

TEST_CASE("malformed datagrams are rejected with a reason") {
  std::array<uint8_t, 2048> buf{};
  const std::vector<uint8_t> good = Wire(Encode(SampleRegister(), buf), buf);
  Register r;
  struct Case {
    const char* what;
    std::vector<uint8_t> bytes;
    ParseError want;
  };
  std::vector<Case> cases;
  cases.push_back({"empty", {}, ParseError::kTooShort});
  cases.push_back({"half a header", {'M', 'V', 'H', 'P', 1}, ParseError::kTooShort});
  cases.push_back({"not ours", std::vector<uint8_t>(20, 0), ParseError::kBadMagic});
  auto mutate = [&](const char* what, size_t at, uint8_t value, ParseError want) {
    std::vector<uint8_t> b = good;
    b[at] = value;
    cases.push_back({what, b, want});
  };
  mutate("version 2", 4, 2, ParseError::kBadVersion);
  mutate("type 0x7f", 5, 0x7f, ParseError::kUnknownType);
  mutate("a ping's type", 5, 0x10, ParseError::kWrongType);
  const size_t name_len_at = kHeaderSize + 8 + 32 + 1;
  mutate("empty name", name_len_at, 0, ParseError::kBadName);
  mutate("name runs past the end", name_len_at, 200, ParseError::kTruncated);
  mutate("upper-case name", name_len_at + 1, 'A', ParseError::kBadName);
  const size_t count_at = name_len_at + 1 + 5 + 1 + 14;
  mutate("too many candidates", count_at, kMaxCandidates + 1, ParseError::kTooManyCandidates);
  mutate("candidate kind 0", count_at + 1, 0, ParseError::kBadKind);
  mutate("candidate kind 6", count_at + 1, 6, ParseError::kBadKind);
  mutate("family 5", count_at + 2, 5, ParseError::kBadFamily);
  {
    std::vector<uint8_t> b = good;
    b.push_back(0);
    cases.push_back({"trailing byte", b, ParseError::kTrailingBytes});
    b = good;
    b.pop_back();
    cases.push_back({"one byte short", b, ParseError::kTruncated});
  }
  for (const Case& c : cases) {
    INFO(c.what);
    CHECK(Decode(c.bytes, &r) == c.want);
    CHECK(!ToString(c.want).empty());
  }
  // Every truncation of every valid message is rejected.
  for (size_t n = 0; n < good.size(); ++n) {
    CHECK(Decode(ByteSpan(good.data(), n), &r) != ParseError::kOk);
  }
  // A Message whose length field claims more than kMaxTextSize.
  Message m{TestKey(1), 1, AsBytes("hi")};
  std::vector<uint8_t> mw = Wire(Encode(m, SessionKey{}, buf), buf);
  mw[kHeaderSize + 32 + 8] = 0x04;
  mw[kHeaderSize + 32 + 9] = 0x01;
  Message m2;
  CHECK(Decode(mw, &m2) == ParseError::kTextTooLong);
}

TEST_CASE("names, encoders' refusals, and demultiplexing against STUN") {
  CHECK(ValidName("alice"));
  CHECK(ValidName("node-1.lan_b"));
  CHECK(ValidName(std::string(32, 'a')));
  CHECK(!ValidName(std::string(33, 'a')));
  CHECK(!ValidName(""));
  CHECK(!ValidName("Alice"));
  CHECK(!ValidName("a b"));
  std::array<uint8_t, 2048> buf{};
  Register r = SampleRegister();
  r.name = "Bad Name";
  CHECK(Encode(r, buf) == 0);
  r = SampleRegister();
  r.candidates.resize(kMaxCandidates + 1);
  CHECK(Encode(r, buf) == 0);
  CHECK(Encode(SampleRegister(), std::span<uint8_t>(buf.data(), 20)) == 0);
  // A STUN binding request (top bits 00, magic cookie at 4..7) is not a holepunch datagram.
  const uint8_t stun[20] = {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42};
  CHECK(!HasMagic(stun));
  CHECK(PeekHeader(stun).error == ParseError::kBadMagic);
  CHECK((static_cast<uint8_t>('M') & 0xC0) != 0);
}

TEST_CASE("the fuzz corpus's probes, MAC'd by Python's hashlib.blake2s, match ours byte for byte") {
  // test/fuzz/holepunch_messages/gen_corpus.py: key 0xA0..0xBF, sender 0x02 x 32, tx 0..11.
  std::array<uint8_t, 32> k{};
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(0xA0 + i);
  const SessionKey key = SessionKey::FromBytes(k);
  std::ifstream in("../fuzz/holepunch_messages/corpus/ping.bin", std::ios::binary);
  REQUIRE(in.good());
  const std::vector<uint8_t> file((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
  Ping ping;
  ping.sender = TestKey(2);
  for (size_t i = 0; i < ping.tx.size(); ++i) ping.tx[i] = static_cast<uint8_t>(i);
  std::array<uint8_t, 2048> buf{};
  CHECK(Wire(Encode(ping, key, buf), buf) == file);
  CHECK(VerifyMac(file, key));
}

}  // namespace
}  // namespace meshvpn::holepunch
