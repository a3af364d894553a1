// Message: every known rdata type (and raw ones) through Serialize and Parse unchanged, the
// OPT record as Message::edns, malformed rdata rejected, Serialize's own errors and truncation.
#include "meshvpn/dns/message.h"

#include <catch2/catch.hpp>
#include <string>

#include "dns_test_util.h"

namespace meshvpn::dns {
namespace {

using test::N;
using test::WireBuilder;

Record Rr(std::string_view name, uint16_t type, Rdata rdata, uint16_t rrclass = rrclass::kIn) {
  Record r;
  r.name = N(name);
  r.type = type;
  r.rrclass = rrclass;
  r.ttl = 3600;
  r.rdata = std::move(rdata);
  return r;
}

Message Everything() {
  Message m;
  m.id = 0xbeef;
  m.flags = Flags().set_qr(true).set_aa(true).set_rd(true).set_z(true).set_rcode(3);
  m.questions.push_back({N("Host.TS.net"), rrtype::kAny, rrclass::kIn});
  m.answers.push_back(Rr("Host.TS.net", rrtype::kA, AData{{100, 64, 0, 1}}));
  m.answers.push_back(
      Rr("host.ts.net", rrtype::kAaaa,
         AaaaData{{0xfd, 0x7a, 0x11, 0x5c, 0xa1, 0xe0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}}));
  m.answers.push_back(Rr("alias.ts.net", rrtype::kCname, NameData{N("host.ts.net")}));
  m.answers.push_back(Rr("1.0.64.100.in-addr.arpa", rrtype::kPtr, NameData{N("host.ts.net")}));
  m.answers.push_back(Rr("ts.net", rrtype::kMx, MxData{10, N("mail.ts.net")}));
  m.answers.push_back(
      Rr("ts.net", rrtype::kTxt, TxtData{{"v=spf1 -all", "", std::string(255, 'x')}}));
  m.answers.push_back(Rr("ts.net", rrtype::kTxt, TxtData{}));
  m.answers.push_back(Rr("_http._tcp.ts.net", rrtype::kSrv, SrvData{1, 2, 80, N("host.ts.net")}));
  m.answers.push_back(Rr("ts.net", rrtype::kCaa, RawRdata{{0, 5, 'i', 's', 's', 'u', 'e'}}));
  m.answers.push_back(Rr("version.bind", rrtype::kTxt, TxtData{{"meshvpn"}}, rrclass::kCh));
  // A in class CH is not the IN layout: raw.
  m.answers.push_back(
      Rr("ch.example", rrtype::kA, RawRdata{{3, 'f', 'o', 'o', 0, 1, 2}}, rrclass::kCh));
  m.authority.push_back(Rr("ts.net", rrtype::kNs, NameData{N("ns1.ts.net")}));
  SoaData soa;
  soa.mname = N("ns1.ts.net");
  soa.rname = N("hostmaster.ts.net");
  soa.serial = 2026120701;
  soa.refresh = 7200;
  soa.retry = 900;
  soa.expire = 1209600;
  soa.minimum = 300;
  m.authority.push_back(Rr("ts.net", rrtype::kSoa, soa));
  m.additional.push_back(Rr("ns1.ts.net", rrtype::kA, AData{{100, 64, 0, 53}}));
  m.additional.push_back(Rr(".", 65280, RawRdata{}));
  m.edns = Edns{1232, 0, 0, kEdnsDoBit | 0x0001, {0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8}};
  return m;
}

TEST_CASE("Every rdata type survives Serialize then Parse") {
  const Message m = Everything();
  auto wire = m.Serialize();
  REQUIRE(wire.ok());
  auto back = Message::Parse(*wire);
  REQUIRE(back.ok());
  CHECK(*back == m);
  CHECK(back->rcode() == rcode::kNxDomain);
  CHECK(back->flags.z());
  CHECK(std::get<SoaData>(back->authority[1].rdata).serial == 2026120701);
  const std::string text = ToString(*back);
  CHECK(text.find("alias.ts.net. 3600 IN CNAME host.ts.net.") != std::string::npos);
  CHECK(text.find("ts.net. 3600 IN MX 10 mail.ts.net.") != std::string::npos);
  CHECK(text.find("_http._tcp.ts.net. 3600 IN SRV 1 2 80 host.ts.net.") != std::string::npos);
  CHECK(text.find("host.ts.net. 3600 IN AAAA fd7a:115c:a1e0:0:0:0:0:1") != std::string::npos);
  CHECK(text.find("ts.net. 3600 IN CAA \\# 7 0005697373756") != std::string::npos);
  CHECK(text.find(". 3600 IN TYPE65280 \\# 0 ;") != std::string::npos);
  CHECK(text.find("rcode NXDOMAIN") != std::string::npos);
  CHECK(text.find(";; EDNS version 0 udp 1232 do") != std::string::npos);
}

TEST_CASE("Serialize compresses: names shared with earlier ones become pointers") {
  Message m;
  m.questions.push_back({N("a.very-long-zone-name.example"), rrtype::kA, rrclass::kIn});
  for (int i = 0; i < 10; ++i) {
    m.answers.push_back(Rr("a.very-long-zone-name.example", rrtype::kA, AData{{1, 2, 3, 4}}));
  }
  auto wire = m.Serialize();
  REQUIRE(wire.ok());
  // 12 + question (31 + 4) + 10 x (2 + 10 + 4).
  CHECK(wire->size() == 12 + 35 + 10 * 16);
}

TEST_CASE("The OPT record is Message::edns, one at most, in the additional section only") {
  const Bytes good =
      WireBuilder().Header(1, 0x8000, 0, 0, 0, 1).Opt(4096, 0x01008000, {0, 3, 0, 0}).bytes();
  auto m = Message::Parse(good);
  REQUIRE(m.ok());
  REQUIRE(m->edns.has_value());
  CHECK(m->edns->udp_payload_size == 4096);
  CHECK(m->edns->extended_rcode == 1);
  CHECK(m->edns->dnssec_ok());
  CHECK(m->rcode() == 16);
  CHECK(m->additional.empty());
  Message out;
  CHECK(Message::Parse(WireBuilder().Header(1, 0x8000, 0, 1, 0, 0).Opt(512).bytes(), &out) ==
        ParseError::kOptNotAdditional);
  CHECK(Message::Parse(WireBuilder().Header(1, 0x8000, 0, 0, 1, 0).Opt(512).bytes(), &out) ==
        ParseError::kOptNotAdditional);
  CHECK(Message::Parse(WireBuilder().Header(1, 0x8000, 0, 0, 0, 2).Opt(512).Opt(512).bytes(),
                       &out) == ParseError::kMultipleOpt);
  CHECK(Message::Parse(WireBuilder().Header(1, 0x8000, 0, 0, 0, 1).Opt(512, 0, {0, 3}).bytes(),
                       &out) == ParseError::kBadOptOptions);
  CHECK(Message::Parse(WireBuilder()
                           .Header(1, 0x8000, 0, 0, 0, 1)
                           .NameText("x")
                           .Record(rrtype::kOpt, 512, 0, {})
                           .bytes(),
                       &out) == ParseError::kBadOptName);
}

ParseError OneRdata(uint16_t type, std::initializer_list<uint8_t> rdata,
                    uint16_t rrclass = rrclass::kIn) {
  const Bytes wire = WireBuilder()
                         .Header(1, 0x8000, 1, 1, 0, 0)
                         .NameText("a")
                         .Question(rrtype::kA)
                         .Pointer(12)
                         .Record(type, rrclass, 0, rdata)
                         .bytes();
  Message m;
  return Message::Parse(wire, &m);
}

TEST_CASE("A known type's rdata must have exactly its layout") {
  CHECK(OneRdata(rrtype::kA, {1, 2, 3, 4}) == ParseError::kOk);
  CHECK(OneRdata(rrtype::kA, {1, 2, 3}) == ParseError::kBadRdata);
  CHECK(OneRdata(rrtype::kA, {1, 2, 3, 4, 5}) == ParseError::kBadRdata);
  CHECK(OneRdata(rrtype::kA, {1, 2, 3}, rrclass::kCh) == ParseError::kOk);  // raw in CH
  CHECK(OneRdata(rrtype::kAaaa, {1, 2, 3, 4}) == ParseError::kBadRdata);
  CHECK(OneRdata(rrtype::kCname, {0xc0, 12}) == ParseError::kOk);
  CHECK(OneRdata(rrtype::kCname, {0xc0, 12, 0}) == ParseError::kBadRdata);  // a byte after
  CHECK(OneRdata(rrtype::kCname, {}) == ParseError::kBadRdata);
  CHECK(OneRdata(rrtype::kPtr, {1, 'x'}) == ParseError::kBadRdata);
  CHECK(OneRdata(rrtype::kNs, {0xc0, 200}) == ParseError::kPointerOutOfRange);
  CHECK(OneRdata(rrtype::kMx, {0, 10, 0}) == ParseError::kOk);
  CHECK(OneRdata(rrtype::kMx, {0, 10}) == ParseError::kBadRdata);
  CHECK(OneRdata(rrtype::kSrv, {0, 1, 0, 2, 0, 80, 0}) == ParseError::kOk);
  CHECK(OneRdata(rrtype::kSrv, {0, 1, 0, 2, 0, 80}) == ParseError::kBadRdata);
  CHECK(OneRdata(rrtype::kSrv, {0, 1, 0, 2, 0, 80, 0xc0, 12}) == ParseError::kOk);  // read
  CHECK(OneRdata(rrtype::kSoa, {0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0,
                                0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5}) == ParseError::kOk);
  CHECK(OneRdata(rrtype::kSoa, {0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0}) ==
        ParseError::kBadRdata);
  CHECK(OneRdata(rrtype::kTxt, {3, 'a', 'b', 'c', 0}) == ParseError::kOk);
  CHECK(OneRdata(rrtype::kTxt, {}) == ParseError::kOk);
  CHECK(OneRdata(rrtype::kTxt, {4, 'a', 'b', 'c'}) == ParseError::kBadRdata);
  CHECK(OneRdata(99, {0xc0, 0xff, 0x40}) == ParseError::kOk);  // unknown types: never looked in
}

TEST_CASE("Serialize rejects values it cannot encode, and truncates only when asked") {
  Message wrong;
  wrong.answers.push_back(Rr("a", rrtype::kA, NameData{N("b")}));
  auto s = wrong.Serialize();
  REQUIRE(!s.ok());
  CHECK(s.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(s.status().message()).find("A record") != std::string::npos);
  Message raw_a;
  raw_a.answers.push_back(Rr("a", rrtype::kA, RawRdata{{1, 2, 3, 4}}));
  CHECK(!raw_a.Serialize().ok());
  Message txt;
  txt.answers.push_back(Rr("a", rrtype::kTxt, TxtData{{std::string(256, 'x')}}));
  CHECK(txt.Serialize().status().code() == absl::StatusCode::kInvalidArgument);

  Message big;
  big.questions.push_back({N("big.ts.net"), rrtype::kTxt, rrclass::kIn});
  for (int i = 0; i < 20; ++i) {
    big.answers.push_back(Rr("big.ts.net", rrtype::kTxt, TxtData{{std::string(100, 'x')}}));
  }
  CHECK(big.Serialize({512, false}).status().code() == absl::StatusCode::kResourceExhausted);
  auto cut = big.Serialize({512, true});
  REQUIRE(cut.ok());
  CHECK(cut->size() <= 512);
  auto back = Message::Parse(*cut);
  REQUIRE(back.ok());
  CHECK(back->flags.tc());
  CHECK(back->answers.size() == 4);
  CHECK(big.Serialize().ok());
}

}  // namespace
}  // namespace meshvpn::dns
