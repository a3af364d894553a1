// Real messages: the PcapPlusPlus samples (testdata/dns_samples.json, with an independent
// expected parse) and the dig/dnsmasq captures (testdata/dig_captures.json). Each parses to
// what the file says, and parse(serialize(m)) == m.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "dns_test_util.h"
#include "meshvpn/dns/edns.h"
#include "meshvpn/dns/message.h"
#include "meshvpn/dns/query.h"
#include "meshvpn/dns/reader.h"

namespace meshvpn::dns {
namespace {

using meshvpn::test::JsonValue;
using test::Hex;

std::string NameText(const Name& n) { return n.IsRoot() ? "" : n.ToString(); }

const JsonValue::Array& Samples() {
  return test::LoadTestdata("dns_samples.json").at("samples").AsArray();
}

// What the reader sees of each record, in wire order: its size in the message and its rdata.
struct WireRecord {
  size_t wire_size;
  std::string rdata_hex;
};
std::vector<WireRecord> WalkRecords(ByteSpan wire) {
  std::vector<WireRecord> out;
  Reader r;
  REQUIRE(r.Start(wire) == ParseError::kOk);
  QuestionView q;
  while (r.questions_left() > 0) REQUIRE(r.NextQuestion(&q) == ParseError::kOk);
  RecordView rv;
  while (r.records_left() > 0) {
    const size_t start = r.offset();
    REQUIRE(r.NextRecord(&rv) == ParseError::kOk);
    out.push_back({r.offset() - start, HexEncode(rv.rdata)});
  }
  return out;
}

void CheckRecord(const Record& got, const JsonValue& want) {
  INFO("record " << want.at("name").AsString() << " " << want.at("type_name").AsString());
  CHECK(NameText(got.name) == want.at("name").AsString());
  CHECK(got.type == want.at("type").AsInt64());
  CHECK(got.rrclass == want.at("class").AsInt64());
  CHECK(got.ttl == want.at("ttl").AsInt64());
  const std::string rdata = want.at("rdata_hex").AsString();
  switch (KindOf(got.type, got.rrclass)) {
    case RdataKind::kA:
      CHECK(HexEncode(std::get<AData>(got.rdata).address) == rdata);
      break;
    case RdataKind::kAaaa:
      CHECK(HexEncode(std::get<AaaaData>(got.rdata).address) == rdata);
      break;
    case RdataKind::kName:
      CHECK(NameText(std::get<NameData>(got.rdata).name) == want.at("target").AsString());
      break;
    case RdataKind::kMx:
      CHECK(std::get<MxData>(got.rdata).preference == want.at("preference").AsInt64());
      CHECK(NameText(std::get<MxData>(got.rdata).exchange) == want.at("exchange").AsString());
      break;
    default:
      FAIL("no typed check for this record");
  }
}

TEST_CASE("PcapPlusPlus samples parse to the expected values") {
  for (const JsonValue& s : Samples()) {
    INFO("sample " << s.at("name").AsString());
    const Bytes wire = Hex(s.at("dns_message_hex").AsString());
    CHECK(wire.size() == static_cast<size_t>(s.at("dns_message_length").AsInt64()));
    Message m;
    const ParseError e = Message::Parse(wire, &m);
    if (!s.at("valid").AsBool()) {
      CHECK(e == ParseError::kCountsTooLarge);
      continue;
    }
    REQUIRE(e == ParseError::kOk);
    const JsonValue& x = s.at("expected");
    const JsonValue& h = x.at("header");
    CHECK(m.id == h.at("id").AsInt64());
    CHECK(m.flags.bits() == std::stoi(h.at("flags_hex").AsString(), nullptr, 16));
    CHECK(m.flags.qr() == (h.at("qr").AsInt64() == 1));
    CHECK(m.flags.opcode() == h.at("opcode").AsInt64());
    CHECK(m.flags.aa() == (h.at("aa").AsInt64() == 1));
    CHECK(m.flags.tc() == (h.at("tc").AsInt64() == 1));
    CHECK(m.flags.rd() == (h.at("rd").AsInt64() == 1));
    CHECK(m.flags.ra() == (h.at("ra").AsInt64() == 1));
    CHECK(m.flags.ad() == (h.at("ad").AsInt64() == 1));
    CHECK(m.flags.cd() == (h.at("cd").AsInt64() == 1));
    CHECK(m.flags.rcode() == h.at("rcode").AsInt64());

    const auto& questions = x.at("questions").AsArray();
    REQUIRE(m.questions.size() == questions.size());
    for (size_t i = 0; i < questions.size(); ++i) {
      CHECK(NameText(m.questions[i].name) == questions[i].at("name").AsString());
      CHECK(m.questions[i].type == questions[i].at("type").AsInt64());
      CHECK(m.questions[i].qclass == questions[i].at("class").AsInt64());
    }

    // The OPT record is Message::edns, not one of `additional`.
    std::vector<const JsonValue*> additional;
    const JsonValue* opt = nullptr;
    for (const JsonValue& r : x.at("additional").AsArray()) {
      if (r.at("type").AsInt64() == rrtype::kOpt) {
        opt = &r;
      } else {
        additional.push_back(&r);
      }
    }
    REQUIRE(m.answers.size() == x.at("answers").size());
    REQUIRE(m.authority.size() == x.at("authority").size());
    REQUIRE(m.additional.size() == additional.size());
    for (size_t i = 0; i < m.answers.size(); ++i) CheckRecord(m.answers[i], x.at("answers").at(i));
    for (size_t i = 0; i < m.authority.size(); ++i) {
      CheckRecord(m.authority[i], x.at("authority").at(i));
    }
    for (size_t i = 0; i < m.additional.size(); ++i) CheckRecord(m.additional[i], *additional[i]);
    REQUIRE(m.edns.has_value() == (opt != nullptr));
    if (opt != nullptr) {
      const JsonValue& e = opt->at("edns");
      CHECK(m.edns->udp_payload_size == e.at("udp_payload_size").AsInt64());
      CHECK(m.edns->extended_rcode == e.at("extended_rcode").AsInt64());
      CHECK(m.edns->version == e.at("version").AsInt64());
      CHECK(m.edns->dnssec_ok() == (e.at("do").AsInt64() == 1));
      CHECK(m.edns->flags == e.at("z").AsInt64());  // the file's "z" is the whole 16-bit field
      OptionReader o(m.edns->options);
      uint16_t code = 0;
      ByteSpan data;
      for (const JsonValue& want : e.at("options").AsArray()) {
        REQUIRE(o.Next(&code, &data));
        CHECK(code == want.at("code").AsInt64());
        CHECK(HexEncode(data) == want.at("data_hex").AsString());
      }
      CHECK(!o.Next(&code, &data));
      CHECK(o.ok());
    }

    // Sizes on the wire (compression included) and raw rdata, in wire order.
    std::vector<const JsonValue*> all;
    for (const char* sec : {"answers", "authority", "additional"}) {
      for (const JsonValue& r : x.at(sec).AsArray()) all.push_back(&r);
    }
    const auto walked = WalkRecords(wire);
    REQUIRE(walked.size() == all.size());
    for (size_t i = 0; i < all.size(); ++i) {
      CHECK(walked[i].wire_size == static_cast<size_t>(all[i]->at("wire_size").AsInt64()));
      CHECK(walked[i].rdata_hex == all[i]->at("rdata_hex").AsString());
    }

    // Round trip; our compression is at least as tight as the original's.
    auto out = m.Serialize();
    REQUIRE(out.ok());
    CHECK(out->size() <= wire.size());
    auto again = Message::Parse(*out);
    REQUIRE(again.ok());
    CHECK(*again == m);
  }
}

TEST_CASE("The malformed sample is rejected by the reader and by ParseQuery") {
  for (const JsonValue& s : Samples()) {
    if (s.at("valid").AsBool()) continue;
    const Bytes wire = Hex(s.at("dns_message_hex").AsString());
    Reader r;
    CHECK(r.Start(wire) == ParseError::kCountsTooLarge);
    Query q;
    // Not a query (flags 0x02b8: QR clear, opcode 0, but 25528 questions).
    CHECK(ParseQuery(wire, &q) == ParseError::kMultipleQuestions);
  }
}

TEST_CASE("dig's queries and dnsmasq's responses parse and round-trip") {
  for (const JsonValue& c : test::LoadTestdata("dig_captures.json").at("captures").AsArray()) {
    INFO("capture " << c.at("name").AsString() << ": " << c.at("command").AsString());
    for (const char* which : {"query_hex", "response_hex"}) {
      INFO(which);
      const Bytes wire = Hex(c.at(which).AsString());
      auto m = Message::Parse(wire);
      REQUIRE(m.ok());
      CHECK(m->flags.qr() == (std::string(which) == "response_hex"));
      auto out = m->Serialize();
      REQUIRE(out.ok());
      auto again = Message::Parse(*out);
      REQUIRE(again.ok());
      CHECK(*again == *m);
      CHECK(out->size() <= wire.size());
    }
  }
}

TEST_CASE("dnsmasq's responses hold what its zone says") {
  auto response = [](const std::string& name) {
    auto m = Message::Parse(test::CaptureResponse(name));
    REQUIRE(m.ok());
    return *m;
  };
  const Message a = response("a_edns");
  REQUIRE(a.answers.size() == 1);
  CHECK(std::get<AData>(a.answers[0].rdata).address == std::array<uint8_t, 4>{100, 64, 0, 5});
  CHECK(a.edns.has_value());

  const Message mixed = response("aaaa_0x20_noedns");
  CHECK(mixed.questions[0].name.ToString() == "WeB.Ts.TeSt");  // echoed as sent
  REQUIRE(mixed.answers.size() == 1);
  CHECK(mixed.answers[0].name.ToString() == "WeB.Ts.TeSt");
  CHECK(!mixed.edns.has_value());

  const Message ptr = response("ptr");
  CHECK(std::get<NameData>(ptr.answers.at(0).rdata).name == test::N("web.ts.test"));

  const Message srv = response("srv");
  const auto& s = std::get<SrvData>(srv.answers.at(0).rdata);
  CHECK(s.port == 80);
  CHECK(s.priority == 0);
  CHECK(s.weight == 5);
  CHECK(s.target == test::N("web.ts.test"));

  const Message mx = response("mx");
  CHECK(std::get<MxData>(mx.answers.at(0).rdata).exchange == test::N("mail.ts.test"));
  CHECK(std::get<MxData>(mx.answers.at(0).rdata).preference == 10);

  const Message txt = response("txt");
  CHECK(std::get<TxtData>(txt.answers.at(0).rdata).strings ==
        std::vector<std::string>{"v=meshvpn", "hello world"});

  const Message cname = response("cname");
  REQUIRE(cname.answers.size() == 2);
  CHECK(cname.answers[0].type == rrtype::kCname);
  CHECK(cname.answers[1].type == rrtype::kA);

  CHECK(response("nxdomain").rcode() == rcode::kNxDomain);

  const Message tc = response("big_tc_noedns");
  CHECK(tc.flags.tc());
  CHECK(tc.answers.size() == 7);
  CHECK(test::CaptureResponse("big_tc_noedns").size() <= kClassicUdpSize);
  const Message big = response("big_edns4096");
  CHECK(!big.flags.tc());
  CHECK(big.answers.size() == 12);
}

}  // namespace
}  // namespace meshvpn::dns
