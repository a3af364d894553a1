#include "meshvpn/stun/message.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "common/json.h"
#include "meshvpn/stun/builder.h"
#include "meshvpn/stun/integrity.h"

namespace meshvpn::stun {
namespace {

const test::JsonValue& Vectors() {
  static const test::JsonValue v = [] {
    auto r = test::ReadJsonFile("testdata/stun_rfc5769.json");
    REQUIRE(r.ok());
    return *r;
  }();
  return v.at("vectors");
}

Bytes Hex(const std::string& s) {
  auto b = HexDecode(s);
  REQUIRE(b.ok());
  return *b;
}

const test::JsonValue& Vector(const std::string& section) {
  for (const auto& v : Vectors().AsArray()) {
    if (v.at("section").AsString() == section) return v;
  }
  FAIL("no vector " << section);
  return Vectors();
}

TEST_CASE("RFC 5769 vectors parse with the attributes the file lists") {
  for (const auto& v : Vectors().AsArray()) {
    INFO("section " << v.at("section").AsString());
    const Bytes wire = Hex(v.at("hex").AsString());
    MessageView m;
    REQUIRE(MessageView::Parse(wire, &m) == ParseError::kOk);
    CHECK(MessageView::LooksLikeStun(wire));
    CHECK(m.type() == std::stoi(v.at("message_type").AsString(), nullptr, 16));
    CHECK(HexEncode(m.transaction_id()) == v.at("transaction_id").AsString());
    const auto& attrs = v.at("attributes").AsArray();
    REQUIRE(m.attributes().size() == attrs.size());
    for (size_t i = 0; i < attrs.size(); ++i) {
      const Attribute& a = m.attributes()[i];
      CHECK(a.type == std::stoi(attrs[i].at("type").AsString(), nullptr, 16));
      CHECK(AttributeName(a.type) == attrs[i].at("name").AsString());
      CHECK(a.offset == attrs[i].at("offset").AsInt64());
      CHECK(HexEncode(a.value) == attrs[i].at("value_hex").AsString());
      CHECK(HexEncode(a.padding) == attrs[i].at("padding_hex").AsString());
    }
  }
}

TEST_CASE("RFC 5769 2.1 request: integrity with the short-term password, fingerprint") {
  const auto& v = Vector("2.1");
  const Bytes wire = Hex(v.at("hex").AsString());
  MessageView m;
  REQUIRE(MessageView::Parse(wire, &m) == ParseError::kOk);
  CHECK(m.method() == static_cast<uint16_t>(Method::kBinding));
  CHECK(m.message_class() == MessageClass::kRequest);
  const std::string password = v.at("parameters").at("password").AsString();
  CHECK(VerifyMessageIntegrity(m, AsBytes(password)) == CheckResult::kOk);
  CHECK(VerifyMessageIntegrity(m, AsBytes("wrong")) == CheckResult::kMismatch);
  CHECK(VerifyFingerprint(m) == CheckResult::kOk);
  CHECK(VerifyMessageIntegritySha256(m, AsBytes(password)) == CheckResult::kMissing);
  CHECK(AsText(m.Find(attr::kUsername)->value) == v.at("parameters").at("username").AsString());
  CHECK(AsText(m.Find(attr::kSoftware)->value) == v.at("parameters").at("software").AsString());
  // PRIORITY (ICE) is comprehension-required and not implemented here: reported, not fatal.
  REQUIRE(m.unknown_required().size() == 1);
  CHECK(m.unknown_required()[0] == attr::kPriority);
}

TEST_CASE("RFC 5769 2.2 and 2.3 responses decode XOR-MAPPED-ADDRESS and verify") {
  for (const char* section : {"2.2", "2.3"}) {
    const auto& v = Vector(section);
    INFO(section);
    const Bytes wire = Hex(v.at("hex").AsString());
    MessageView m;
    REQUIRE(MessageView::Parse(wire, &m) == ParseError::kOk);
    CHECK(m.message_class() == MessageClass::kSuccessResponse);
    CHECK(m.unknown_required().empty());
    udp::Endpoint mapped;
    REQUIRE(GetAddress(m, attr::kXorMappedAddress, &mapped) == ParseError::kOk);
    CHECK(mapped.AddressString() == v.at("expected").at("mapped_address").AsString());
    CHECK(mapped.port() == v.at("expected").at("mapped_port").AsInt64());
    const std::string password = v.at("parameters").at("password").AsString();
    CHECK(VerifyMessageIntegrity(m, AsBytes(password)) == CheckResult::kOk);
    CHECK(VerifyFingerprint(m) == CheckResult::kOk);
    CHECK(GetAddress(m, attr::kMappedAddress, &mapped) == ParseError::kMissingAttribute);
  }
}

TEST_CASE("RFC 5769 2.4 long-term credentials: MD5 key and integrity, no fingerprint") {
  const auto& v = Vector("2.4");
  const Bytes wire = Hex(v.at("hex").AsString());
  MessageView m;
  REQUIRE(MessageView::Parse(wire, &m) == ParseError::kOk);
  const auto& p = v.at("parameters");
  auto key = LongTermKeyMd5(p.at("username").AsString(), p.at("realm").AsString(),
                            p.at("password_after_saslprep").AsString());
  REQUIRE(key.ok());
  CHECK(HexEncode(*key) == v.at("expected").at("long_term_key_md5_hex_derived").AsString());
  CHECK(VerifyMessageIntegrity(m, *key) == CheckResult::kOk);
  CHECK(VerifyFingerprint(m) == CheckResult::kMissing);
  CHECK(AsText(m.Find(attr::kNonce)->value) == p.at("nonce").AsString());
  CHECK(AsText(m.Find(attr::kRealm)->value) == p.at("realm").AsString());
}

// Rebuilds each vector from its parsed attributes (values and padding as sent), computing
// MESSAGE-INTEGRITY and FINGERPRINT afresh: the result must be the original bytes.
TEST_CASE("RFC 5769 vectors re-encode byte for byte") {
  for (const auto& v : Vectors().AsArray()) {
    const std::string section = v.at("section").AsString();
    INFO(section);
    const Bytes wire = Hex(v.at("hex").AsString());
    MessageView m;
    REQUIRE(MessageView::Parse(wire, &m) == ParseError::kOk);
    Bytes key;
    if (section == "2.4") {
      const auto& p = v.at("parameters");
      auto k = LongTermKeyMd5(p.at("username").AsString(), p.at("realm").AsString(),
                              p.at("password_after_saslprep").AsString());
      REQUIRE(k.ok());
      key.assign(k->begin(), k->end());
    } else {
      const std::string pw = v.at("parameters").at("password").AsString();
      key.assign(pw.begin(), pw.end());
    }
    std::vector<uint8_t> out(512);
    MessageBuilder b(out);
    REQUIRE(b.Start(m.type(), m.transaction_id()));
    for (const Attribute& a : m.attributes()) {
      if (a.type == attr::kMessageIntegrity) {
        REQUIRE(b.AddMessageIntegrity(key));
      } else if (a.type == attr::kFingerprint) {
        REQUIRE(b.AddFingerprint());
      } else {
        REQUIRE(b.AddAttribute(a.type, a.value, a.padding));
      }
    }
    CHECK(HexEncode(b.Finish()) == HexEncode(wire));
  }
}

TEST_CASE("XOR-MAPPED-ADDRESS from the RFC 5769 IPv4 response encodes to the same bytes") {
  const Bytes wire = Hex(Vector("2.2").at("hex").AsString());
  MessageView m;
  REQUIRE(MessageView::Parse(wire, &m) == ParseError::kOk);
  std::vector<uint8_t> out(128);
  MessageBuilder b(out);
  REQUIRE(b.Start(kBindingSuccess, m.transaction_id()));
  REQUIRE(b.AddAddress(attr::kXorMappedAddress, *udp::Endpoint::Parse("192.0.2.1:32853")));
  MessageView rebuilt;
  REQUIRE(MessageView::Parse(b.Finish(), &rebuilt) == ParseError::kOk);
  CHECK(HexEncode(rebuilt.attributes()[0].value) ==
        HexEncode(m.Find(attr::kXorMappedAddress)->value));
}

TEST_CASE("Crc32 matches the standard check value") {
  CHECK(Crc32(AsBytes("123456789")) == 0xCBF43926u);
  CHECK(Crc32(AsBytes("")) == 0u);
  CHECK(Crc32Update(Crc32(AsBytes("1234")), AsBytes("56789")) == 0xCBF43926u);
}

TEST_CASE("Message type packs method and class bits") {
  CHECK(MessageType(0x001, MessageClass::kRequest) == 0x0001);
  CHECK(MessageType(0x001, MessageClass::kErrorResponse) == 0x0111);
  CHECK(MessageType(0x003, MessageClass::kSuccessResponse) == 0x0103);  // TURN Allocate
  CHECK(MessageType(0xFFF, MessageClass::kRequest) == 0x3EEF);
  for (uint16_t method = 0; method < 0x1000; method += 7) {
    for (int c = 0; c < 4; ++c) {
      const uint16_t t = MessageType(method, static_cast<MessageClass>(c));
      CHECK((t & 0xC000) == 0);
      CHECK(MethodOf(t) == method);
      CHECK(ClassOf(t) == static_cast<MessageClass>(c));
    }
  }
}

Bytes Header(uint16_t type, uint16_t length) {
  Bytes b = {static_cast<uint8_t>(type >> 8),
             static_cast<uint8_t>(type),
             static_cast<uint8_t>(length >> 8),
             static_cast<uint8_t>(length),
             0x21,
             0x12,
             0xA4,
             0x42};
  for (int i = 0; i < 12; ++i) b.push_back(static_cast<uint8_t>(i + 1));
  return b;
}

struct MalformedCase {
  const char* name;
  Bytes bytes;
  ParseError want;
};

TEST_CASE("Malformed messages are rejected with a reason") {
  Bytes wrong_cookie = Header(0x0001, 0);
  wrong_cookie[4] = 0x00;
  Bytes top_bits = Header(0x0001, 0);
  top_bits[0] = 0x80;
  Bytes truncated_value = Header(0x0001, 8);
  for (int b : {0x80, 0x22, 0x00, 0x10, 0x61, 0x62, 0x63, 0x64})
    truncated_value.push_back(static_cast<uint8_t>(b));
  Bytes short_attr_header = Header(0x0001, 4);
  for (uint8_t b : {0x00, 0x20, 0x00}) short_attr_header.push_back(b);
  short_attr_header.push_back(0x00);  // length claims 0x0000: fine (empty XOR-MAPPED-ADDRESS)
  Bytes after_fp = Header(0x0001, 16);
  for (int b : {0x80, 0x28, 0x00, 0x04, 1, 2, 3, 4, 0x80, 0x22, 0x00, 0x01, 0x78, 0, 0, 0}) {
    after_fp.push_back(static_cast<uint8_t>(b));
  }
  Bytes bad_mi = Header(0x0001, 8);
  for (uint8_t b : {0x00, 0x08, 0x00, 0x04, 1, 2, 3, 4}) bad_mi.push_back(b);
  Bytes bad_fp = Header(0x0001, 12);
  for (uint8_t b : {0x80, 0x28, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8}) bad_fp.push_back(b);
  Bytes too_many = Header(0x0001, static_cast<uint16_t>(4 * (MessageView::kMaxAttributes + 1)));
  for (size_t i = 0; i <= MessageView::kMaxAttributes; ++i) {
    for (uint8_t b : {0x80, 0x22, 0x00, 0x00}) too_many.push_back(b);
  }
  Bytes nineteen = Header(0x0001, 0);
  nineteen.resize(19);
  Bytes mismatch = Header(0x0001, 4);
  Bytes unaligned = Header(0x0001, 2);
  unaligned.push_back(0);
  unaligned.push_back(0);

  const MalformedCase cases[] = {
      {"empty", {}, ParseError::kTooShort},
      {"19 bytes", nineteen, ParseError::kTooShort},
      {"top bits", top_bits, ParseError::kNotStun},
      {"cookie", wrong_cookie, ParseError::kBadMagicCookie},
      {"length beyond datagram", mismatch, ParseError::kLengthMismatch},
      {"unaligned length", unaligned, ParseError::kLengthNotAligned},
      {"value past end", truncated_value, ParseError::kTruncatedAttribute},
      {"attribute after FINGERPRINT", after_fp, ParseError::kAttributeAfterFingerprint},
      {"short MESSAGE-INTEGRITY", bad_mi, ParseError::kBadIntegrityLength},
      {"long FINGERPRINT", bad_fp, ParseError::kBadFingerprintLength},
      {"too many attributes", too_many, ParseError::kTooManyAttributes},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    MessageView m;
    CHECK(MessageView::Parse(c.bytes, &m) == c.want);
    CHECK(ToString(c.want) != "?");
  }
  MessageView m;
  CHECK(MessageView::Parse(short_attr_header, &m) == ParseError::kOk);
  udp::Endpoint e;
  CHECK(GetAddress(m, attr::kXorMappedAddress, &e) == ParseError::kBadAddressLength);
}

TEST_CASE("kMaxAttributes ordinary attributes still parse with the integrity trailer after them") {
  // Found by fuzz_stun_message: a message with kMaxAttributes attributes parsed, but the same
  // message with a FINGERPRINT appended was rejected as kTooManyAttributes.
  std::vector<uint8_t> out(1024);
  MessageBuilder b(out);
  REQUIRE(b.Start(kBindingRequest, TransactionId{7}));
  for (size_t i = 0; i < MessageView::kMaxAttributes; ++i) REQUIRE(b.AddText(attr::kSoftware, ""));
  MessageView m;
  REQUIRE(MessageView::Parse(b.Finish(), &m) == ParseError::kOk);
  CHECK(m.attributes().size() == MessageView::kMaxAttributes);

  REQUIRE(b.AddMessageIntegrity(AsBytes("key")));
  REQUIRE(b.AddMessageIntegritySha256(AsBytes("key")));
  REQUIRE(b.AddFingerprint());
  REQUIRE(MessageView::Parse(b.Finish(), &m) == ParseError::kOk);
  CHECK(m.attributes().size() == MessageView::kMaxAttributes + 3);
  CHECK(VerifyMessageIntegrity(m, AsBytes("key")) == CheckResult::kOk);
  CHECK(VerifyMessageIntegritySha256(m, AsBytes("key")) == CheckResult::kOk);
  CHECK(VerifyFingerprint(m) == CheckResult::kOk);

  // The fuzz corpus input: kMaxAttributes empty type-0 attributes, then our own FINGERPRINT.
  Bytes raw = Header(0x0001, static_cast<uint16_t>(4 * MessageView::kMaxAttributes));
  raw.resize(kHeaderSize + 4 * MessageView::kMaxAttributes);
  REQUIRE(MessageView::Parse(raw, &m) == ParseError::kOk);
  MessageBuilder again(out);
  REQUIRE(again.Start(m.type(), m.transaction_id()));
  for (const Attribute& a : m.attributes()) REQUIRE(again.AddAttribute(a.type, a.value, a.padding));
  REQUIRE(again.AddFingerprint());
  REQUIRE(MessageView::Parse(again.Finish(), &m) == ParseError::kOk);
  CHECK(VerifyFingerprint(m) == CheckResult::kOk);

  // Ordinary attributes past the limit are still refused, before or after the trailer starts.
  MessageBuilder more(out);
  REQUIRE(more.Start(kBindingRequest, TransactionId{7}));
  for (size_t i = 0; i <= MessageView::kMaxAttributes; ++i)
    REQUIRE(more.AddText(attr::kSoftware, ""));
  REQUIRE(more.AddFingerprint());
  CHECK(MessageView::Parse(more.Finish(), &m) == ParseError::kTooManyAttributes);
}

TEST_CASE("Attribute offsets past 65535 are kept: FINGERPRINT at the end of a maximal message") {
  // The largest message is 20 + 65532 bytes, so the last attribute's header can start beyond
  // what 16 bits hold; a truncated offset made a valid FINGERPRINT fail to verify.
  std::vector<uint8_t> out(kMaxMessageSize);
  MessageBuilder b(out);
  REQUIRE(b.Start(kBindingRequest, TransactionId{3}));
  const std::string big(kMaxMessageSize - kHeaderSize - 2 * kAttributeHeaderSize - kFingerprintSize,
                        'x');
  REQUIRE(b.AddText(attr::kSoftware, big));
  REQUIRE(b.AddFingerprint());
  REQUIRE(b.Finish().size() == kMaxMessageSize);
  MessageView m;
  REQUIRE(MessageView::Parse(b.Finish(), &m) == ParseError::kOk);
  REQUIRE(m.fingerprint() != nullptr);
  CHECK(m.fingerprint()->offset == kMaxMessageSize - kAttributeHeaderSize - kFingerprintSize);
  CHECK(VerifyFingerprint(m) == CheckResult::kOk);
}

TEST_CASE("Unknown attributes: optional ones kept, required ones reported once each") {
  std::vector<uint8_t> out(256);
  MessageBuilder b(out);
  REQUIRE(b.Start(kBindingRequest, TransactionId{1, 2, 3}));
  REQUIRE(b.AddAttribute(0x7F01, AsBytes("abc")));
  REQUIRE(b.AddAttribute(0xC001, AsBytes("optional")));
  REQUIRE(b.AddAttribute(0x7F01, AsBytes("again")));
  REQUIRE(b.AddAttribute(0x0031, {}));
  MessageView m;
  REQUIRE(MessageView::Parse(b.Finish(), &m) == ParseError::kOk);
  CHECK(m.attributes().size() == 4);
  REQUIRE(m.unknown_required().size() == 2);
  CHECK(m.unknown_required()[0] == 0x7F01);
  CHECK(m.unknown_required()[1] == 0x0031);
  CHECK(AsText(m.Find(0xC001)->value) == "optional");
  CHECK(m.Find(0x7F01)->padding.size() == 1);
}

TEST_CASE("Attributes after MESSAGE-INTEGRITY are ignored except the SHA-256 one and FINGERPRINT") {
  std::vector<uint8_t> out(256);
  MessageBuilder b(out);
  REQUIRE(b.Start(kBindingRequest, TransactionId{9}));
  REQUIRE(b.AddText(attr::kUsername, "user"));
  REQUIRE(b.AddMessageIntegrity(AsBytes("key")));
  REQUIRE(b.AddMessageIntegritySha256(AsBytes("key"), 16));
  REQUIRE(b.AddFingerprint());
  CHECK_FALSE(b.AddText(attr::kSoftware, "late"));
  CHECK(b.error() == BuildError::kAfterFingerprint);
  CHECK(b.Finish().empty());

  MessageBuilder good(out);
  REQUIRE(good.Start(kBindingRequest, TransactionId{9}));
  REQUIRE(good.AddText(attr::kUsername, "user"));
  REQUIRE(good.AddMessageIntegrity(AsBytes("key")));
  CHECK_FALSE(good.AddText(attr::kSoftware, "late"));
  CHECK(good.error() == BuildError::kAfterIntegrity);

  // Hand-made: an attribute smuggled in after MESSAGE-INTEGRITY is not reported.
  MessageBuilder raw(out);
  REQUIRE(raw.Start(kBindingRequest, TransactionId{9}));
  REQUIRE(raw.AddMessageIntegrity(AsBytes("key")));
  Bytes msg(raw.Finish().begin(), raw.Finish().end());
  for (int x : {0x80, 0x22, 0x00, 0x04, 0x65, 0x76, 0x69, 0x6c})
    msg.push_back(static_cast<uint8_t>(x));
  msg[3] = static_cast<uint8_t>(msg.size() - kHeaderSize);
  MessageView m;
  REQUIRE(MessageView::Parse(msg, &m) == ParseError::kOk);
  CHECK(m.Find(attr::kSoftware) == nullptr);
  CHECK(m.ignored_after_integrity() == 1);
  CHECK(VerifyMessageIntegrity(m, AsBytes("key")) == CheckResult::kOk);
}

TEST_CASE("Builder round trip: every attribute the library encodes") {
  std::vector<uint8_t> out(512);
  MessageBuilder b(out);
  const TransactionId id{0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8, 0xA9, 0xAA, 0xAB};
  const auto v6 = *udp::Endpoint::Parse("[2001:db8::42]:5349");
  const auto v4 = *udp::Endpoint::Parse("203.0.113.9:40000");
  const uint16_t unknown[] = {0x0024, 0x7777};
  REQUIRE(b.Start(kBindingError, id));
  REQUIRE(b.AddAddress(attr::kXorMappedAddress, v6));
  REQUIRE(b.AddAddress(attr::kMappedAddress, v4));
  REQUIRE(b.AddAddress(attr::kOtherAddress, v4.WithPort(3479)));
  REQUIRE(b.AddAddress(attr::kResponseOrigin, v6.WithPort(3478)));
  REQUIRE(b.AddErrorCode(420, "Unknown Attribute"));
  REQUIRE(b.AddUnknownAttributes(unknown));
  REQUIRE(b.AddChangeRequest(true, false));
  REQUIRE(b.AddPadding(7));
  REQUIRE(b.AddText(attr::kSoftware, "meshvpn test"));
  REQUIRE(b.AddMessageIntegritySha256(AsBytes("secret")));
  REQUIRE(b.AddFingerprint());

  MessageView m;
  REQUIRE(MessageView::Parse(b.Finish(), &m) == ParseError::kOk);
  CHECK(m.type() == kBindingError);
  CHECK(m.transaction_id() == id);
  udp::Endpoint e;
  REQUIRE(GetAddress(m, attr::kXorMappedAddress, &e) == ParseError::kOk);
  CHECK(e == v6);
  REQUIRE(GetAddress(m, attr::kMappedAddress, &e) == ParseError::kOk);
  CHECK(e == v4);
  REQUIRE(GetAddress(m, attr::kOtherAddress, &e) == ParseError::kOk);
  CHECK(e.ToString() == "203.0.113.9:3479");
  REQUIRE(GetAddress(m, attr::kResponseOrigin, &e) == ParseError::kOk);
  CHECK(e.ToString() == "[2001:db8::42]:3478");
  ErrorCode ec;
  REQUIRE(DecodeErrorCode(m.Find(attr::kErrorCode)->value, &ec) == ParseError::kOk);
  CHECK(ec.code == 420);
  CHECK(ec.reason == "Unknown Attribute");
  uint16_t types[4];
  size_t n = 0;
  REQUIRE(DecodeUnknownAttributes(m.Find(attr::kUnknownAttributes)->value, types, &n) ==
          ParseError::kOk);
  REQUIRE(n == 2);
  CHECK(types[0] == 0x0024);
  CHECK(types[1] == 0x7777);
  ChangeRequest cr;
  REQUIRE(DecodeChangeRequest(m.Find(attr::kChangeRequest)->value, &cr) == ParseError::kOk);
  CHECK(cr.change_ip);
  CHECK_FALSE(cr.change_port);
  CHECK(m.Find(attr::kPadding)->value.size() == 7);
  CHECK(VerifyMessageIntegritySha256(m, AsBytes("secret")) == CheckResult::kOk);
  CHECK(VerifyMessageIntegritySha256(m, AsBytes("Secret")) == CheckResult::kMismatch);
  CHECK(VerifyFingerprint(m) == CheckResult::kOk);

  // Flip one bit anywhere before FINGERPRINT: the fingerprint no longer matches.
  Bytes copy(b.Finish().begin(), b.Finish().end());
  copy[30] ^= 0x01;
  MessageView flipped;
  REQUIRE(MessageView::Parse(copy, &flipped) == ParseError::kOk);
  CHECK(VerifyFingerprint(flipped) == CheckResult::kMismatch);
}

TEST_CASE("Builder refuses what does not fit and bad values") {
  std::vector<uint8_t> small(24);
  MessageBuilder b(small);
  REQUIRE(b.Start(kBindingRequest, TransactionId{}));
  CHECK_FALSE(b.AddText(attr::kSoftware, "too long"));
  CHECK(b.error() == BuildError::kNoSpace);
  CHECK(b.Finish().empty());

  std::vector<uint8_t> out(64);
  MessageBuilder c(out);
  CHECK_FALSE(c.AddFingerprint());
  CHECK(c.error() == BuildError::kNotStarted);
  REQUIRE(c.Start(kBindingRequest, TransactionId{}));
  CHECK_FALSE(c.AddErrorCode(200, "no"));
  CHECK(c.error() == BuildError::kBadErrorCode);
  MessageBuilder d(out);
  REQUIRE(d.Start(kBindingRequest, TransactionId{}));
  const uint8_t pad[] = {1, 2};
  CHECK_FALSE(d.AddText(attr::kSoftware, "abc", pad));
  CHECK(d.error() == BuildError::kBadPadding);
  CHECK(std::string(ToString(d.error())) == "padding of the wrong length");
}

TEST_CASE("Error codes outside 300..699 or with number > 99 are malformed") {
  const uint8_t bad_class[] = {0, 0, 2, 0};
  const uint8_t bad_number[] = {0, 0, 4, 100};
  const uint8_t good[] = {0, 0, 4, 1, 'x'};
  ErrorCode ec;
  CHECK(DecodeErrorCode(bad_class, &ec) == ParseError::kBadErrorCode);
  CHECK(DecodeErrorCode(bad_number, &ec) == ParseError::kBadErrorCode);
  CHECK(DecodeErrorCode(ByteSpan(good, 3), &ec) == ParseError::kBadErrorCode);
  REQUIRE(DecodeErrorCode(good, &ec) == ParseError::kOk);
  CHECK(ec.code == 401);
  CHECK(ec.reason == "x");
  const uint8_t bad_family[] = {0, 3, 0, 1, 1, 2, 3, 4};
  udp::Endpoint e;
  CHECK(DecodeAddress(bad_family, false, TransactionId{}, &e) == ParseError::kBadAddressFamily);
}

}  // namespace
}  // namespace meshvpn::stun
