// MessageWriter: name compression (exact bytes, pointers to the longest suffix, rollback), TC
// truncation at record boundaries, optional additional records, the reserved OPT, errors.
#include "meshvpn/dns/writer.h"

#include <array>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "dns_test_util.h"
#include "meshvpn/dns/message.h"

namespace meshvpn::dns {
namespace {

using test::N;

Message ParseOrFail(ByteSpan wire) {
  auto m = Message::Parse(wire);
  REQUIRE(m.ok());
  return *m;
}

TEST_CASE("Owners and rdata names compress to the longest suffix already written") {
  std::array<uint8_t, 512> buf{};
  MessageWriter w(buf);
  REQUIRE(w.Start(0x1234, Flags().set_qr(true).set_aa(true)));
  REQUIRE(w.AddQuestion(N("www.example.com").wire(), rrtype::kA, rrclass::kIn));
  REQUIRE(w.AddNameRecord(Section::kAnswer, N("www.example.com").wire(), rrtype::kCname, 60,
                          N("web.example.com").wire()));
  REQUIRE(w.AddA(Section::kAnswer, N("web.example.com").wire(), 60, {10, 0, 0, 1}));
  REQUIRE(
      w.AddMx(Section::kAuthority, N("example.com").wire(), 60, 5, N("mail.example.com").wire()));
  const ByteSpan wire = w.Finish();
  // Question "www.example.com" at 12 ("example.com" at 16, "com" at 24), 21 bytes + 4.
  const std::string hex = HexEncode(wire);
  size_t pos = 2 * (12 + 17 + 4);
  // CNAME owner: a pointer to the question.
  CHECK(hex.substr(pos, 4) == "c00c");
  pos += 4 + 20;
  // CNAME rdata: "web" + pointer to "example.com".
  CHECK(hex.substr(pos, 12) == "03776562c010");
  const size_t web_at = 12 + 17 + 4 + 2 + 10;
  pos += 12;
  // A owner: a pointer to the CNAME's target.
  CHECK(hex.substr(pos, 4) == absl::StrFormat("c0%02x", web_at));
  const Message m = ParseOrFail(wire);
  CHECK(m.answers.size() == 2);
  CHECK(std::get<NameData>(m.answers[0].rdata).name == N("web.example.com"));
  CHECK(m.answers[1].name == N("web.example.com"));
  CHECK(m.authority.at(0).name == N("example.com"));
  CHECK(std::get<MxData>(m.authority[0].rdata).exchange == N("mail.example.com"));
  CHECK(wire.size() == 12 + 21 + 2 + 10 + 6 + 2 + 10 + 4 + 2 + 10 + 2 + 7);
}

TEST_CASE("Compression is byte-exact: a name differing in case is not a match") {
  std::array<uint8_t, 512> buf{};
  MessageWriter w(buf);
  REQUIRE(w.Start(1, Flags().set_qr(true)));
  REQUIRE(w.AddQuestion(N("WWW.Example.com").wire(), rrtype::kA, rrclass::kIn));
  REQUIRE(w.AddA(Section::kAnswer, N("www.example.com").wire(), 60, {1, 2, 3, 4}));
  REQUIRE(w.AddA(Section::kAnswer, N("WWW.Example.com").wire(), 60, {1, 2, 3, 5}));
  const ByteSpan wire = w.Finish();
  const Message m = ParseOrFail(wire);
  CHECK(m.answers[0].name.ToString() == "www.example.com");
  CHECK(m.answers[1].name.ToString() == "WWW.Example.com");
  // "example.com" is not "Example.com": the first answer shares only "com" (at 24) with the
  // question, and the second is the question itself.
  const size_t first = 12 + 17 + 4;
  CHECK(HexEncode(wire.subspan(first, 14)) == "03777777076578616d706c65c018");
  CHECK(HexEncode(wire.subspan(first + 14 + 14, 2)) == "c00c");
}

TEST_CASE("SRV targets are written uncompressed, but later names may point into them") {
  std::array<uint8_t, 512> buf{};
  MessageWriter w(buf);
  REQUIRE(w.Start(1, Flags().set_qr(true)));
  REQUIRE(w.AddQuestion(N("_http._tcp.ts.net").wire(), rrtype::kSrv, rrclass::kIn));
  SrvData srv;
  srv.port = 443;
  srv.target = N("web.ts.net");
  REQUIRE(w.AddSrv(Section::kAnswer, N("_http._tcp.ts.net").wire(), 60, srv));
  REQUIRE(w.AddA(Section::kAdditional, N("web.ts.net").wire(), 60, {100, 64, 0, 1}));
  const ByteSpan wire = w.Finish();
  const size_t target_at = 12 + 19 + 4 + 2 + 10 + 6;
  CHECK(HexEncode(wire.subspan(target_at, 12)) == "03776562027473036e657400");
  CHECK(HexEncode(wire.subspan(target_at + 12, 2)) == absl::StrFormat("c0%02x", target_at));
  const Message m = ParseOrFail(wire);
  CHECK(std::get<SrvData>(m.answers.at(0).rdata) == srv);
}

TEST_CASE("Answers that pass the limit are rolled back at a record boundary, with TC") {
  std::array<uint8_t, 4096> buf{};
  MessageWriter w(buf);
  REQUIRE(w.Start(9, Flags().set_qr(true)));
  w.set_limit(512);
  REQUIRE(w.AddQuestion(N("many.ts.net").wire(), rrtype::kTxt, rrclass::kIn));
  const std::string text(60, 't');
  const std::string_view strings[] = {text};
  size_t written = 0;
  while (w.AddTxt(Section::kAnswer, N("many.ts.net").wire(), 60, strings)) ++written;
  CHECK(w.ok());
  CHECK(w.truncated());
  // Nothing more goes in, in any section.
  CHECK(!w.AddA(Section::kAnswer, N("many.ts.net").wire(), 60, {1, 1, 1, 1}));
  CHECK(!w.AddA(Section::kAdditional, N("x").wire(), 60, {1, 1, 1, 1}));
  const ByteSpan wire = w.Finish();
  CHECK(w.ok());
  CHECK(wire.size() <= 512);
  // 12 + 17 question; each answer 2 + 10 + 61 = 73: 6 fit in 512.
  CHECK(written == 6);
  CHECK(wire.size() == 12 + 17 + 6 * 73);
  const Message m = ParseOrFail(wire);
  CHECK(m.flags.tc());
  CHECK(m.answers.size() == written);
  CHECK(w.count(Section::kAnswer) == written);
}

TEST_CASE("An additional record that does not fit is left out without TC") {
  std::array<uint8_t, 512> buf{};
  MessageWriter w(buf);
  REQUIRE(w.Start(9, Flags().set_qr(true)));
  w.set_limit(100);
  REQUIRE(w.AddQuestion(N("a.ts.net").wire(), rrtype::kA, rrclass::kIn));
  REQUIRE(w.AddA(Section::kAnswer, N("a.ts.net").wire(), 60, {1, 2, 3, 4}));
  const std::string text(60, 't');
  const std::string_view strings[] = {text};
  CHECK(!w.AddTxt(Section::kAdditional, N("big.long.ts.net").wire(), 60, strings));
  CHECK(!w.truncated());
  CHECK(w.dropped_additional() == 1);
  // A smaller one still fits; it must not point into the rolled-back record ("long.ts.net"
  // was remembered at an offset now past the end).
  REQUIRE(w.AddA(Section::kAdditional, N("long.ts.net").wire(), 60, {5, 6, 7, 8}));
  const ByteSpan wire = w.Finish();
  const Message m = ParseOrFail(wire);
  CHECK(!m.flags.tc());
  CHECK(m.additional.size() == 1);
  CHECK(m.additional[0].name == N("long.ts.net"));
}

TEST_CASE("The OPT record's room is reserved, so it survives truncation") {
  std::array<uint8_t, 4096> buf{};
  MessageWriter w(buf);
  REQUIRE(w.Start(9, Flags().set_qr(true)));
  w.set_limit(512);
  Opt opt;
  opt.udp_payload_size = 1232;
  opt.flags = kEdnsDoBit;
  const uint8_t options[] = {0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8};  // a COOKIE
  opt.options = options;
  REQUIRE(w.SetOpt(opt));
  REQUIRE(w.AddQuestion(N("many.ts.net").wire(), rrtype::kA, rrclass::kIn));
  size_t written = 0;
  while (w.AddA(Section::kAnswer, N("many.ts.net").wire(), 60,
                {10, 0, 0, static_cast<uint8_t>(written)})) {
    ++written;
  }
  const ByteSpan wire = w.Finish();
  CHECK(wire.size() <= 512);
  CHECK(wire.size() > 512 - 16);
  const Message m = ParseOrFail(wire);
  CHECK(m.flags.tc());
  CHECK(m.answers.size() == written);
  REQUIRE(m.edns.has_value());
  CHECK(m.edns->udp_payload_size == 1232);
  CHECK(m.edns->dnssec_ok());
  CHECK(HexEncode(m.edns->options) == HexEncode(options));
  // (512 - 12 - 17 - 23) / 16 = 28 answers.
  CHECK(written == 28);
}

TEST_CASE("Extended rcodes: low bits in the header, high bits in the OPT record") {
  std::array<uint8_t, 512> buf{};
  MessageWriter w(buf);
  REQUIRE(w.Start(3, Flags().set_qr(true)));
  REQUIRE(w.SetOpt(Opt{}));
  w.set_rcode(rcode::kBadVers);
  const Message m = ParseOrFail(w.Finish());
  CHECK(m.flags.rcode() == 0);
  REQUIRE(m.edns.has_value());
  CHECK(m.edns->extended_rcode == 1);
  CHECK(m.rcode() == rcode::kBadVers);
}

TEST_CASE("The writer never writes past a buffer smaller than the limit") {
  std::array<uint8_t, 200> backing;
  backing.fill(0xee);
  MessageWriter w(std::span<uint8_t>(backing).first(100));
  REQUIRE(w.Start(1, Flags().set_qr(true)));
  w.set_limit(1232);  // capped to the buffer
  CHECK(w.limit() == 100);
  REQUIRE(w.AddQuestion(N("a.b").wire(), rrtype::kA, rrclass::kIn));
  const std::string text(200, 'x');
  const std::string_view strings[] = {std::string_view(text).substr(0, 50),
                                      std::string_view(text).substr(0, 50)};
  CHECK(!w.AddTxt(Section::kAnswer, N("a.b").wire(), 60, strings));
  CHECK(w.truncated());
  CHECK(w.ok());
  const ByteSpan wire = w.Finish();
  CHECK(wire.size() == 12 + 9);
  for (size_t i = 100; i < backing.size(); ++i) REQUIRE(backing[i] == 0xee);
}

TEST_CASE("Writer errors are sticky and Finish then returns nothing") {
  std::array<uint8_t, 512> buf{};
  {
    MessageWriter w(buf);
    CHECK(w.error() == WriteError::kNotStarted);
    CHECK(!w.AddQuestion(N("a").wire(), 1, 1));
    CHECK(w.Finish().empty());
  }
  {
    MessageWriter w(buf);
    REQUIRE(w.Start(1, Flags()));
    const uint8_t bad[] = {3, 'a', 'b'};  // no root label
    CHECK(!w.AddA(Section::kAnswer, bad, 60, {1, 2, 3, 4}));
    CHECK(w.error() == WriteError::kBadName);
    CHECK(!w.AddA(Section::kAnswer, N("a").wire(), 60, {1, 2, 3, 4}));
    CHECK(w.Finish().empty());
  }
  {
    MessageWriter w(buf);
    REQUIRE(w.Start(1, Flags()));
    const uint8_t pointer[] = {0xc0, 12};
    CHECK(!w.AddQuestion(pointer, 1, 1));
    CHECK(w.error() == WriteError::kBadName);
  }
  {
    MessageWriter w(buf);
    REQUIRE(w.Start(1, Flags()));
    REQUIRE(w.AddA(Section::kAuthority, N("a").wire(), 60, {1, 2, 3, 4}));
    CHECK(!w.AddA(Section::kAnswer, N("a").wire(), 60, {1, 2, 3, 4}));
    CHECK(w.error() == WriteError::kBadOrder);
  }
  {
    MessageWriter w(buf);
    REQUIRE(w.Start(1, Flags()));
    REQUIRE(w.AddA(Section::kAnswer, N("a").wire(), 60, {1, 2, 3, 4}));
    CHECK(!w.AddQuestion(N("a").wire(), 1, 1));
    CHECK(w.error() == WriteError::kBadOrder);
  }
  {
    MessageWriter w(buf);
    REQUIRE(w.Start(1, Flags()));
    const std::string long_text(256, 'x');
    const std::string_view strings[] = {long_text};
    CHECK(!w.AddTxt(Section::kAnswer, N("a").wire(), 60, strings));
    CHECK(w.error() == WriteError::kValueTooLong);
  }
  {
    MessageWriter w(buf);
    REQUIRE(w.Start(1, Flags()));
    CHECK(!w.EndRecord());
    CHECK(w.error() == WriteError::kNotInRecord);
  }
  {
    std::array<uint8_t, 11> tiny{};
    MessageWriter w(tiny);
    CHECK(!w.Start(1, Flags()));
    CHECK(w.error() == WriteError::kNoSpace);
  }
  {
    std::array<uint8_t, 20> small{};
    MessageWriter w(small);
    REQUIRE(w.Start(1, Flags()));
    CHECK(!w.AddQuestion(N("toolong.example").wire(), 1, 1));
    CHECK(w.error() == WriteError::kNoSpace);
  }
}

TEST_CASE("Start begins anew: the same writer makes a second message") {
  std::array<uint8_t, 512> buf{};
  MessageWriter w(buf);
  for (int round = 0; round < 2; ++round) {
    REQUIRE(w.Start(static_cast<uint16_t>(round), Flags().set_qr(true)));
    REQUIRE(w.AddQuestion(N("a.ts.net").wire(), rrtype::kA, rrclass::kIn));
    REQUIRE(w.AddA(Section::kAnswer, N("a.ts.net").wire(), 60, {1, 2, 3, 4}));
    const Message m = ParseOrFail(w.Finish());
    CHECK(m.id == round);
    CHECK(m.answers.size() == 1);
    CHECK(w.Finish().size() == 12 + 14 + 16);  // Finish again: the same message
  }
}

}  // namespace
}  // namespace meshvpn::dns
