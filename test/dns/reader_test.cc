// The reader's safety rules: compression pointers (loops, forward, out of range, chains), label
// types, name length through compression, counts against the size, truncation everywhere.
#include "meshvpn/dns/reader.h"

#include <catch2/catch.hpp>
#include <string>

#include "dns_test_util.h"
#include "meshvpn/dns/message.h"

namespace meshvpn::dns {
namespace {

using test::Hex;
using test::N;
using test::WireBuilder;

// A message with one question "a." and one record whose owner is `owner` (raw bytes).
Bytes OneRecord(std::initializer_list<uint8_t> owner) {
  return WireBuilder()
      .Header(1, 0x8000, 1, 1, 0, 0)
      .NameText("a")
      .Question(rrtype::kA)
      .Raw(owner)
      .Record(rrtype::kA, rrclass::kIn, 60, {1, 2, 3, 4})
      .bytes();
}

ParseError ParseAll(ByteSpan wire) {
  Message m;
  return Message::Parse(wire, &m);
}

TEST_CASE("Reader walks the sections in order") {
  const Bytes wire = WireBuilder()
                         .Header(7, 0x8180, 1, 1, 1, 1)
                         .NameText("www.example.com")
                         .Question(rrtype::kA)
                         .Pointer(12)
                         .Record(rrtype::kA, rrclass::kIn, 300, {10, 0, 0, 1})
                         .Pointer(16)
                         .Record(rrtype::kNs, rrclass::kIn, 300, {2, 'n', 's', 0xc0, 16})
                         .U8(0)
                         .Record(99, rrclass::kIn, 0, {})
                         .bytes();
  Reader r;
  REQUIRE(r.Start(wire) == ParseError::kOk);
  CHECK(r.header().id == 7);
  CHECK(r.header().flags.qr());
  CHECK(r.header().flags.rd());
  CHECK(r.header().flags.ra());
  CHECK(r.header().flags.rcode() == 0);
  QuestionView q;
  REQUIRE(r.NextQuestion(&q) == ParseError::kOk);
  CHECK(q.name_offset == 12);
  CHECK(q.type == rrtype::kA);
  Name name;
  REQUIRE(r.ReadName(q.name_offset, &name) == ParseError::kOk);
  CHECK(name == N("www.example.com"));
  RecordView rv;
  REQUIRE(r.NextRecord(&rv) == ParseError::kOk);
  CHECK(rv.section == Section::kAnswer);
  CHECK(rv.ttl == 300);
  CHECK(HexEncode(rv.rdata) == "0a000001");
  REQUIRE(r.NextRecord(&rv) == ParseError::kOk);
  CHECK(rv.section == Section::kAuthority);
  REQUIRE(r.ReadName(rv.name_offset, &name) == ParseError::kOk);
  CHECK(name == N("example.com"));
  REQUIRE(r.NextRecord(&rv) == ParseError::kOk);
  CHECK(rv.section == Section::kAdditional);
  CHECK(rv.type == 99);
  CHECK(rv.rdata.empty());
  CHECK(r.records_left() == 0);
  CHECK(r.trailing_bytes() == 0);
  // Past the end: an error, and sticky.
  CHECK(r.NextRecord(&rv) == ParseError::kTruncated);
  CHECK(r.NextQuestion(&q) == ParseError::kTruncated);
}

TEST_CASE("NextRecord skips the questions not read") {
  const Bytes wire = WireBuilder()
                         .Header(1, 0, 2, 1, 0, 0)
                         .NameText("a")
                         .Question(1)
                         .NameText("b")
                         .Question(1)
                         .Pointer(19)
                         .Record(rrtype::kA, rrclass::kIn, 0, {1, 2, 3, 4})
                         .bytes();
  Reader r;
  REQUIRE(r.Start(wire) == ParseError::kOk);
  RecordView rv;
  REQUIRE(r.NextRecord(&rv) == ParseError::kOk);
  Name owner;
  REQUIRE(r.ReadName(rv.name_offset, &owner) == ParseError::kOk);
  CHECK(owner == N("b"));
}

TEST_CASE("A pointer to itself or into its own labels is a loop, rejected") {
  // The owner at 19 points at itself.
  CHECK(ParseAll(OneRecord({0xc0, 19})) == ParseError::kForwardPointer);
  // "x" then a pointer back to the "x": a loop through one label.
  CHECK(ParseAll(OneRecord({1, 'x', 0xc0, 19})) == ParseError::kForwardPointer);
  // Two names pointing at each other: 19 -> 37 is forward already.
  const Bytes wire = WireBuilder()
                         .Header(1, 0x8000, 1, 2, 0, 0)
                         .NameText("a")
                         .Question(rrtype::kA)
                         .Raw({1, 'x', 0xc0, 37})  // at 19: forward to the second owner
                         .Record(rrtype::kA, rrclass::kIn, 60, {1, 2, 3, 4})
                         .Raw({1, 'y', 0xc0, 19})  // at 37
                         .Record(rrtype::kA, rrclass::kIn, 60, {1, 2, 3, 4})
                         .bytes();
  REQUIRE(wire[37] == 1);
  CHECK(ParseAll(wire) == ParseError::kForwardPointer);
  size_t end = 0;
  Name n;
  // Read from the second name: 37 -> 19 is backwards, then 19's pointer to 37 is not before 19.
  CHECK(DecodeName(wire, 37, wire.size(), &n, &end) == ParseError::kForwardPointer);
}

TEST_CASE("Pointers must land inside the message, after the header") {
  CHECK(ParseAll(OneRecord({0xff, 0xff})) == ParseError::kPointerOutOfRange);
  CHECK(ParseAll(OneRecord({0xc0, 200})) == ParseError::kPointerOutOfRange);
  CHECK(ParseAll(OneRecord({0xc0, 2})) == ParseError::kPointerOutOfRange);   // into the header
  CHECK(ParseAll(OneRecord({0xc0, 11})) == ParseError::kPointerOutOfRange);  // its last byte
  CHECK(ParseAll(OneRecord({0xc0, 12})) == ParseError::kOk);                 // the question
  CHECK(ParseAll(OneRecord({0xc0, 14})) == ParseError::kOk);            // the root label of "a."
  CHECK(ParseAll(OneRecord({0xc0, 13})) == ParseError::kBadLabelType);  // 'a' is no length
}

TEST_CASE("A pointer chain longer than kMaxPointers is rejected") {
  for (size_t links : {size_t{100}, kMaxPointers, kMaxPointers + 1, size_t{400}}) {
    INFO("links " << links);
    // Record 1: type 99 whose rdata is a chain: each pointer points at the one before; the
    // first points at the question. Record 2's owner points at the last link.
    WireBuilder chain;
    const size_t rdata_at = 12 + 3 + 4 + 1 + 10;
    chain.Pointer(12);
    for (size_t i = 1; i < links; ++i) chain.Pointer(static_cast<uint16_t>(rdata_at + 2 * (i - 1)));
    const Bytes wire = WireBuilder()
                           .Header(1, 0x8000, 1, 2, 0, 0)
                           .NameText("a")
                           .Question(rrtype::kA)
                           .U8(0)
                           .Record(99, rrclass::kIn, 0, chain.bytes())
                           .Pointer(static_cast<uint16_t>(rdata_at + 2 * (links - 1)))
                           .Record(rrtype::kA, rrclass::kIn, 60, {1, 2, 3, 4})
                           .bytes();
    // links pointers in the chain, plus the owner's own.
    CHECK(ParseAll(wire) ==
          (links + 1 <= kMaxPointers ? ParseError::kOk : ParseError::kTooManyPointers));
  }
}

TEST_CASE("Length bytes 0x40..0xBF are not labels") {
  CHECK(ParseAll(OneRecord({0x40, 0})) == ParseError::kBadLabelType);
  CHECK(ParseAll(OneRecord({0x41, 0})) == ParseError::kBadLabelType);  // EDNS0 bitstring
  CHECK(ParseAll(OneRecord({0x80, 0})) == ParseError::kBadLabelType);
  CHECK(ParseAll(OneRecord({0xbf, 0})) == ParseError::kBadLabelType);
}

TEST_CASE("A name over 255 bytes through compression is rejected") {
  const std::string l63(63, 'a');
  const std::string longest = l63 + "." + l63 + "." + l63 + "." + std::string(61, 'b');
  auto wire_with = [&](const Bytes& owner) {
    return WireBuilder()
        .Header(1, 0x8000, 1, 1, 0, 0)
        .NameText(longest)
        .Question(rrtype::kA)
        .Raw(owner)
        .Record(rrtype::kA, rrclass::kIn, 60, {1, 2, 3, 4})
        .bytes();
  };
  CHECK(ParseAll(wire_with({0xc0, 12})) == ParseError::kOk);  // exactly 255
  CHECK(ParseAll(wire_with({1, 'x', 0xc0, 12})) == ParseError::kNameTooLong);
  // 64 bytes of label before the question's suffix after its first label (191 bytes): 255.
  Bytes owner(64, 'c');
  owner[0] = 63;
  owner.push_back(0xc0);
  owner.push_back(12 + 64);
  CHECK(ParseAll(wire_with(owner)) == ParseError::kOk);
  owner.insert(owner.begin(), {1, 'd'});
  CHECK(ParseAll(wire_with(owner)) == ParseError::kNameTooLong);
}

TEST_CASE("Counts that need more bytes than the message has are rejected up front") {
  // 1 question needs 5 bytes; 1 record 11.
  CHECK(ParseAll(WireBuilder().Header(1, 0, 1, 0, 0, 0).Raw({0, 0, 1}).bytes()) ==
        ParseError::kCountsTooLarge);
  CHECK(ParseAll(WireBuilder().Header(1, 0, 1, 0, 0, 0).Raw({0, 0, 1, 0}).bytes()) ==
        ParseError::kCountsTooLarge);
  CHECK(ParseAll(WireBuilder().Header(1, 0, 1, 0, 0, 0).Raw({3, 'a', 'b', 0, 1}).bytes()) ==
        ParseError::kTruncated);
  CHECK(ParseAll(WireBuilder().Header(1, 0, 0, 0, 0, 0).bytes()) == ParseError::kOk);
  CHECK(ParseAll(WireBuilder().Header(1, 0, 0xffff, 0xffff, 0xffff, 0xffff).bytes()) ==
        ParseError::kCountsTooLarge);
  CHECK(ParseAll(WireBuilder().Header(1, 0, 0, 0, 0, 1).Raw(Bytes(10, 0)).bytes()) ==
        ParseError::kCountsTooLarge);
  CHECK(ParseAll(Bytes(11, 0)) == ParseError::kTooShort);
  CHECK(ParseAll(Bytes(kMaxMessageSize + 1, 0)) == ParseError::kTooLong);
}

TEST_CASE("Records and rdata that run past the end are truncated") {
  Bytes wire = OneRecord({0xc0, 12});
  REQUIRE(ParseAll(wire) == ParseError::kOk);
  // rdlength one more than there is.
  wire[wire.size() - 5] = 5;
  CHECK(ParseAll(wire) == ParseError::kTruncated);
  // Every strict prefix of a valid message fails, and never reads past it (ASan checks that).
  const Bytes full = OneRecord({1, 'x', 0xc0, 12});
  for (size_t n = 0; n < full.size(); ++n) {
    Bytes prefix(full.begin(), full.begin() + static_cast<long>(n));
    CHECK(ParseAll(prefix) != ParseError::kOk);
  }
}

TEST_CASE("A name inside rdata may not run past the rdata, though its pointer may go anywhere") {
  // CNAME rdata of 2 bytes "01 78", then the labels continue outside the rdata.
  const Bytes wire = WireBuilder()
                         .Header(1, 0x8000, 1, 1, 0, 0)
                         .NameText("a")
                         .Question(rrtype::kA)
                         .Pointer(12)
                         .Record(rrtype::kCname, rrclass::kIn, 0, {1, 'x'})
                         .bytes();
  Bytes padded = wire;
  padded.push_back(0);  // a root label just after the rdata: still not inside it
  CHECK(ParseAll(padded) == ParseError::kBadRdata);
}

TEST_CASE("Trailing bytes after the last record are ignored and counted") {
  Bytes wire = OneRecord({0xc0, 12});
  wire.push_back(0xaa);
  wire.push_back(0xbb);
  Reader r;
  REQUIRE(r.Start(wire) == ParseError::kOk);
  RecordView rv;
  while (r.records_left() > 0) REQUIRE(r.NextRecord(&rv) == ParseError::kOk);
  CHECK(r.trailing_bytes() == 2);
  CHECK(ParseAll(wire) == ParseError::kOk);
}

TEST_CASE("Errors say where they were found") {
  const Bytes wire = OneRecord({0x80, 0});
  Message m;
  size_t at = 0;
  CHECK(Message::Parse(wire, &m, &at) == ParseError::kBadLabelType);
  CHECK(at == 19);
  const auto s = Message::Parse(wire);
  REQUIRE(!s.ok());
  CHECK(std::string(s.status().message()) == "dns message: bad label type at offset 19");
}

}  // namespace
}  // namespace meshvpn::dns
