// ParseQuery and the response path: what is accepted and rejected (with the action a server
// takes), 0x20 case echoed but matched case-insensitively, EDNS payload sizes, truncation,
// error responses, and no allocation on the whole answer path.
#include "meshvpn/dns/query.h"

#include <array>
#include <catch2/catch.hpp>
#include <string>

#include "common/alloc_counter.h"
#include "dns_test_util.h"
#include "meshvpn/dns/message.h"
#include "meshvpn/dns/response.h"

namespace meshvpn::dns {
namespace {

using test::CaptureQuery;
using test::N;
using test::WireBuilder;

ParseError Parse(ByteSpan wire) {
  Query q;
  return ParseQuery(wire, &q);
}

Bytes SimpleQuery(uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar) {
  WireBuilder b;
  b.Header(0x4242, flags, qd, an, ns, ar);
  for (uint16_t i = 0; i < qd; ++i) b.NameText("a.ts.net").Question(rrtype::kA);
  for (uint16_t i = 0; i < an + ns; ++i) b.Pointer(12).Record(rrtype::kA, 1, 0, {1, 2, 3, 4});
  for (uint16_t i = 0; i < ar; ++i) b.Opt(1232);
  return b.bytes();
}

TEST_CASE("ParseQuery reads dig's query: name, type, EDNS size and options") {
  const Bytes wire = CaptureQuery("a_edns");
  Query q;
  REQUIRE(ParseQuery(wire, &q) == ParseError::kOk);
  CHECK(q.header.flags.rd());
  CHECK(q.has_question);
  CHECK(q.name == N("web.ts.test"));
  CHECK(q.lower == N("web.ts.test"));
  CHECK(q.qtype == rrtype::kA);
  CHECK(q.qclass == rrclass::kIn);
  CHECK(q.question_end == 12 + 13 + 4);
  REQUIRE(q.has_edns);
  CHECK(q.edns.udp_payload_size == 1232);
  CHECK(q.edns.version == 0);
  CHECK(!q.edns.dnssec_ok());
  OptionReader o(q.edns.options);
  uint16_t code = 0;
  ByteSpan data;
  REQUIRE(o.Next(&code, &data));
  CHECK(code == 10);  // COOKIE: dig sends a client cookie
  CHECK(data.size() == 8);
  CHECK(q.skipped_additional == 0);
  CHECK(q.trailing_bytes == 0);

  Query d;
  REQUIRE(ParseQuery(CaptureQuery("dnssec_ok"), &d) == ParseError::kOk);
  CHECK(d.edns.dnssec_ok());
  Query p;
  const Bytes nsid_query = CaptureQuery("nsid_padding");  // p.edns.options point into it
  REQUIRE(ParseQuery(nsid_query, &p) == ParseError::kOk);
  OptionReader po(p.edns.options);
  bool nsid = false, padding = false;
  while (po.Next(&code, &data)) {
    nsid |= code == 3;
    padding |= code == 12;
  }
  CHECK(nsid);
  CHECK(padding);
  CHECK(po.ok());
}

TEST_CASE("0x20: the question keeps its case, the lookup name is lowercase") {
  const Bytes wire = CaptureQuery("aaaa_0x20_noedns");
  Query q;
  REQUIRE(ParseQuery(wire, &q) == ParseError::kOk);
  CHECK(q.name.ToString() == "WeB.Ts.TeSt");
  CHECK(q.lower.ToString() == "web.ts.test");
  CHECK(q.lower.key() == N("web.ts.test").key());
  CHECK(q.name.EqualsIgnoreCase(N("web.ts.test")));
  CHECK(q.lower.IsSubdomainOf(N("ts.test")));
  CHECK(q.name.IsSubdomainOf(N("TS.test")));
  CHECK(!q.has_edns);

  // The answer echoes the question byte for byte, and its owner points at it.
  std::array<uint8_t, 512> buf;
  MessageWriter w(buf);
  REQUIRE(BeginResponse(q, {}, &w));
  REQUIRE(w.AddAaaa(Section::kAnswer, q.name.wire(), 300,
                    {0xfd, 0x7a, 0x11, 0x5c, 0xa1, 0xe0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5}));
  const ByteSpan out = w.Finish();
  CHECK(HexEncode(out.subspan(12, q.question_end - 12)) ==
        HexEncode(ByteSpan(wire).subspan(12, q.question_end - 12)));
  CHECK(HexEncode(out.subspan(q.question_end, 2)) == "c00c");
  // And it is what dnsmasq answered, but for AA (we are authoritative, it said aa too) and RA.
  auto ours = Message::Parse(out);
  auto theirs = Message::Parse(test::CaptureResponse("aaaa_0x20_noedns"));
  REQUIRE(ours.ok());
  REQUIRE(theirs.ok());
  CHECK(ours->id == theirs->id);
  CHECK(ours->questions == theirs->questions);
  CHECK(ours->answers.size() == 1);
  CHECK(ours->answers[0].name == theirs->answers[0].name);
  CHECK(ours->answers[0].rdata == theirs->answers[0].rdata);
  CHECK(ours->flags.bits() == (theirs->flags.bits() & ~Flags().set_ra(true).bits()));
}

TEST_CASE("ParseQuery rejects what a server must not answer normally, with the action") {
  Query q;
  // Responses are dropped (answering them could loop two servers).
  CHECK(Parse(SimpleQuery(0x8000, 1, 0, 0, 0)) == ParseError::kNotQuery);
  CHECK(ActionFor(ParseError::kNotQuery) == QueryAction::kDrop);
  CHECK(Parse(Bytes(11, 0)) == ParseError::kTooShort);
  CHECK(ActionFor(ParseError::kTooShort) == QueryAction::kDrop);
  // NOTIFY (captured from dig +opcode=notify), UPDATE, IQUERY, STATUS: NOTIMP.
  CHECK(ParseQuery(CaptureQuery("notify"), &q) == ParseError::kOpcodeNotQuery);
  CHECK(q.header.flags.opcode() == opcode::kNotify);
  for (uint8_t op : {opcode::kIQuery, opcode::kStatus, opcode::kUpdate, uint8_t{15}}) {
    CHECK(Parse(SimpleQuery(Flags().set_opcode(op).bits(), 1, 0, 0, 0)) ==
          ParseError::kOpcodeNotQuery);
  }
  CHECK(ActionFor(ParseError::kOpcodeNotQuery) == QueryAction::kNotImp);
  // Question counts: none (dig +header-only), two.
  CHECK(ParseQuery(CaptureQuery("header_only"), &q) == ParseError::kNoQuestion);
  CHECK(Parse(SimpleQuery(0x0100, 2, 0, 0, 0)) == ParseError::kMultipleQuestions);
  CHECK(Parse(SimpleQuery(0x0100, 1, 1, 0, 0)) == ParseError::kUnexpectedRecords);
  CHECK(Parse(SimpleQuery(0x0100, 1, 0, 1, 0)) == ParseError::kUnexpectedRecords);
  CHECK(ActionFor(ParseError::kNoQuestion) == QueryAction::kFormErr);
  CHECK(ActionFor(ParseError::kMultipleQuestions) == QueryAction::kFormErr);
  CHECK(ActionFor(ParseError::kUnexpectedRecords) == QueryAction::kFormErr);
  // EDNS: two OPT records, a named one, options that do not tile it; version 1 is BADVERS.
  CHECK(Parse(SimpleQuery(0x0100, 1, 0, 0, 2)) == ParseError::kMultipleOpt);
  CHECK(Parse(WireBuilder()
                  .Header(1, 0x0100, 1, 0, 0, 1)
                  .NameText("a")
                  .Question(1)
                  .Pointer(12)
                  .Record(rrtype::kOpt, 1232, 0, {})
                  .bytes()) == ParseError::kBadOptName);
  CHECK(Parse(WireBuilder()
                  .Header(1, 0x0100, 1, 0, 0, 1)
                  .NameText("a")
                  .Question(1)
                  .Opt(1232, 0, {0, 10, 0, 9, 1, 2, 3, 4})
                  .bytes()) == ParseError::kBadOptOptions);
  CHECK(ActionFor(ParseError::kBadOptOptions) == QueryAction::kFormErr);
  REQUIRE(ParseQuery(CaptureQuery("edns_version1"), &q) == ParseError::kBadEdnsVersion);
  CHECK(q.has_question);
  CHECK(q.has_edns);
  CHECK(q.edns.version == 1);
  CHECK(ActionFor(ParseError::kBadEdnsVersion) == QueryAction::kBadVers);
  // Broken questions.
  Bytes cut = CaptureQuery("a_edns");
  cut.resize(12 + 13 + 2);
  CHECK(Parse(cut) == ParseError::kCountsTooLarge);  // ARCOUNT 1 needs 11 more bytes
  cut = SimpleQuery(0x0100, 1, 0, 0, 0);
  cut.pop_back();
  CHECK(Parse(cut) == ParseError::kTruncated);
  CHECK(Parse(WireBuilder().Header(1, 0x0100, 1, 0, 0, 0).Pointer(12).Question(1).bytes()) ==
        ParseError::kForwardPointer);
  CHECK(Parse(WireBuilder().Header(1, 0x0100, 1, 0, 0, 0).Raw({0x41, 0}).Question(1).bytes()) ==
        ParseError::kBadLabelType);
}

TEST_CASE("ParseQuery skips other additional records and ignores trailing bytes") {
  Bytes wire = WireBuilder()
                   .Header(1, 0x0100, 1, 0, 0, 2)
                   .NameText("a.ts.net")
                   .Question(rrtype::kA)
                   .NameText("key.example")
                   .Record(rrtype::kTsig, rrclass::kAny, 0, {1, 2, 3})
                   .Opt(4096)
                   .bytes();
  wire.push_back(0);
  Query q;
  REQUIRE(ParseQuery(wire, &q) == ParseError::kOk);
  CHECK(q.skipped_additional == 1);
  CHECK(q.has_edns);
  CHECK(q.edns.udp_payload_size == 4096);
  CHECK(q.trailing_bytes == 1);
}

TEST_CASE("Response size: 512 without EDNS, else the client's size within 512..our cap") {
  CHECK(ResponseUdpSize(false, 4096, 1232) == 512);
  CHECK(ResponseUdpSize(true, 0, 1232) == 512);
  CHECK(ResponseUdpSize(true, 100, 1232) == 512);
  CHECK(ResponseUdpSize(true, 512, 1232) == 512);
  CHECK(ResponseUdpSize(true, 1000, 1232) == 1000);
  CHECK(ResponseUdpSize(true, 1232, 1232) == 1232);
  CHECK(ResponseUdpSize(true, 4096, 1232) == 1232);
  CHECK(ResponseUdpSize(true, 4096, 4096) == 4096);
  CHECK(ResponseUdpSize(true, 65535, 65535) == 65535);
  CHECK(ResponseUdpSize(true, 1232, 100) == 512);
}

// Answers a query with `n` A records in a 4096-byte buffer; returns the parsed response.
Message AnswerWith(const Bytes& query, size_t n, const ResponseOptions& o = {}) {
  Query q;
  REQUIRE(ParseQuery(query, &q) == ParseError::kOk);
  std::array<uint8_t, 4096> buf;
  MessageWriter w(buf);
  REQUIRE(BeginResponse(q, o, &w));
  for (size_t i = 0; i < n; ++i) {
    (void)w.AddA(Section::kAnswer, q.name.wire(), 60, {100, 64, 0, static_cast<uint8_t>(i)});
  }
  const ByteSpan out = w.Finish();
  REQUIRE(w.ok());
  auto m = Message::Parse(out);
  REQUIRE(m.ok());
  return *m;
}

TEST_CASE("BeginResponse sizes the answer by the query's EDNS and truncates with TC") {
  // No EDNS: 512 bytes; question "a.ts.net" (14 bytes), 16 per A: 30 fit.
  Message m = AnswerWith(SimpleQuery(0x0100, 1, 0, 0, 0), 100);
  CHECK(m.flags.tc());
  CHECK(m.answers.size() == (512 - 12 - 14) / 16);
  CHECK(!m.edns.has_value());
  // dig's 1232: (1232 - 12 - 17 - 11) / 16 = 74 for "web.ts.test".
  m = AnswerWith(CaptureQuery("a_edns"), 100);
  CHECK(m.flags.tc());
  CHECK(m.answers.size() == (1232 - 12 - 17 - 11) / 16);
  REQUIRE(m.edns.has_value());
  CHECK(m.edns->udp_payload_size == kDefaultMaxUdpSize);
  CHECK(m.edns->version == 0);
  // A 4096 client still gets at most our cap, unless we raise it.
  Bytes big = SimpleQuery(0x0100, 1, 0, 0, 0);
  big[11] = 1;  // ARCOUNT
  WireBuilder opt;
  opt.Opt(4096);
  big.insert(big.end(), opt.bytes().begin(), opt.bytes().end());
  CHECK(AnswerWith(big, 200).answers.size() == (1232 - 12 - 14 - 11) / 16);
  ResponseOptions wide;
  wide.max_udp_size = 4096;
  CHECK(AnswerWith(big, 200, wide).answers.size() == 200);
  // Over TCP the buffer is the limit.
  ResponseOptions tcp;
  tcp.tcp = true;
  m = AnswerWith(SimpleQuery(0x0100, 1, 0, 0, 0), 100, tcp);
  CHECK(!m.flags.tc());
  CHECK(m.answers.size() == 100);
  // Fits: no TC.
  CHECK(!AnswerWith(SimpleQuery(0x0100, 1, 0, 0, 0), 3).flags.tc());
}

TEST_CASE("BeginResponse copies ID, opcode, RD, CD and DO, and sets QR, AA, RA, rcode") {
  Bytes query = CaptureQuery("dnssec_ok");
  query[3] |= 0x10;  // CD
  ResponseOptions o;
  o.rcode = rcode::kNxDomain;
  o.recursion_available = true;
  const Message m = AnswerWith(query, 0, o);
  Query q;
  REQUIRE(ParseQuery(query, &q) == ParseError::kOk);
  CHECK(m.id == q.header.id);
  CHECK(m.flags.qr());
  CHECK(m.flags.aa());
  CHECK(m.flags.rd());
  CHECK(m.flags.ra());
  CHECK(m.flags.cd());
  CHECK(!m.flags.ad());
  CHECK(m.flags.opcode() == 0);
  CHECK(m.rcode() == rcode::kNxDomain);
  REQUIRE(m.edns.has_value());
  CHECK(m.edns->dnssec_ok());
  CHECK(m.edns->options.empty());
}

TEST_CASE("Error responses: FORMERR, NOTIMP, BADVERS") {
  std::array<uint8_t, 512> buf;
  Query q;
  // FORMERR for a query with no question: the header only, ID kept.
  REQUIRE(ParseQuery(CaptureQuery("header_only"), &q) == ParseError::kNoQuestion);
  auto m = Message::Parse(WriteErrorResponse(q, QueryAction::kFormErr, buf));
  REQUIRE(m.ok());
  CHECK(m->id == q.header.id);
  CHECK(m->flags.qr());
  CHECK(m->rcode() == rcode::kFormErr);
  CHECK(m->questions.empty());
  // NOTIMP for NOTIFY: the opcode is echoed.
  REQUIRE(ParseQuery(CaptureQuery("notify"), &q) == ParseError::kOpcodeNotQuery);
  m = Message::Parse(WriteErrorResponse(q, ActionFor(ParseError::kOpcodeNotQuery), buf));
  REQUIRE(m.ok());
  CHECK(m->flags.opcode() == opcode::kNotify);
  CHECK(m->rcode() == rcode::kNotImp);
  CHECK(!m->flags.aa());
  // BADVERS: rcode 16 through the OPT, version 0, the question echoed.
  REQUIRE(ParseQuery(CaptureQuery("edns_version1"), &q) == ParseError::kBadEdnsVersion);
  m = Message::Parse(WriteErrorResponse(q, QueryAction::kBadVers, buf));
  REQUIRE(m.ok());
  CHECK(m->rcode() == rcode::kBadVers);
  CHECK(m->flags.rcode() == 0);
  REQUIRE(m->edns.has_value());
  CHECK(m->edns->version == 0);
  CHECK(m->questions.size() == 1);
  CHECK(m->questions[0].name == q.name);
  // FORMERR after a good OPT keeps it (RFC 6891 7).
  REQUIRE(ParseQuery(SimpleQuery(0x0100, 1, 0, 0, 2), &q) == ParseError::kMultipleOpt);
  // Nothing for kAnswer or kDrop.
  CHECK(WriteErrorResponse(q, QueryAction::kDrop, buf).empty());
  CHECK(WriteErrorResponse(q, QueryAction::kAnswer, buf).empty());
}

TEST_CASE("ParseQuery and writing an answer allocate nothing") {
  std::vector<Bytes> queries;
  for (const char* name : {"a_edns", "aaaa_0x20_noedns", "ptr", "srv", "mx", "txt", "cname",
                           "nxdomain", "dnssec_ok", "big_tc_noedns", "nsid_padding"}) {
    queries.push_back(CaptureQuery(name));
  }
  std::array<uint8_t, 1232> buf;
  Query q;
  size_t answered = 0, bytes = 0;
  const uint64_t before = meshvpn::test::ProcessNewCount();
  for (int round = 0; round < 50; ++round) {
    for (const Bytes& wire : queries) {
      if (ParseQuery(wire, &q) != ParseError::kOk) continue;
      MessageWriter w(buf);
      if (!BeginResponse(q, {}, &w)) continue;
      w.AddA(Section::kAnswer, q.name.wire(), 60, {100, 64, 0, 5});
      w.AddNameRecord(Section::kAnswer, q.name.wire(), rrtype::kCname, 60, q.lower.wire());
      bytes += w.Finish().size();
      ++answered;
    }
  }
  const uint64_t allocations = meshvpn::test::ProcessNewCount() - before;
  CHECK(answered == 50 * queries.size());
  CHECK(bytes > 0);
  CHECK(allocations == 0);
}

}  // namespace
}  // namespace meshvpn::dns
