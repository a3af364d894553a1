// Names: presentation text to wire and back (escapes, length limits), wire validation, case, and
// zone (suffix) matching on label boundaries.
#include "meshvpn/dns/name.h"

#include <catch2/catch.hpp>
#include <string>

#include "dns_test_util.h"

namespace meshvpn::dns {
namespace {

using test::Hex;
using test::N;

ParseError TextError(std::string_view text) {
  Name n;
  return Name::FromText(text, &n);
}

TEST_CASE("Name::FromText writes labels ending in the root") {
  CHECK(HexEncode(N("example.com").wire()) == "076578616d706c6503636f6d00");
  CHECK(N("example.com.") == N("example.com"));
  CHECK(N(".").IsRoot());
  CHECK(N(".").wire().size() == 1);
  CHECK(Name().IsRoot());
  CHECK(N("a.b.c").LabelCount() == 3);
  CHECK(N(".").LabelCount() == 0);
  CHECK(N("a").size() == 3);
}

TEST_CASE("Name::FromText rejects empty labels") {
  CHECK(TextError("") == ParseError::kEmptyLabel);
  CHECK(TextError("a..b") == ParseError::kEmptyLabel);
  CHECK(TextError(".a") == ParseError::kEmptyLabel);
  CHECK(TextError("a.b..") == ParseError::kEmptyLabel);
  CHECK(TextError("..") == ParseError::kEmptyLabel);
}

TEST_CASE("Labels are at most 63 bytes and names at most 255") {
  const std::string l63(63, 'a');
  const std::string l61(61, 'b');
  CHECK(TextError(l63) == ParseError::kOk);
  CHECK(TextError(l63 + "a") == ParseError::kLabelTooLong);
  // 3 x (1 + 63) + (1 + 61) + 1 = 255: the longest name.
  const std::string longest = l63 + "." + l63 + "." + l63 + "." + l61;
  CHECK(N(longest).size() == 255);
  CHECK(N(longest + ".").size() == 255);
  CHECK(TextError(longest + "b") == ParseError::kNameTooLong);
  CHECK(TextError(longest + ".b") == ParseError::kNameTooLong);
  CHECK(TextError(std::string(300, 'a')) == ParseError::kLabelTooLong);
  std::string many;
  for (int i = 0; i < 200; ++i) many += "a.";
  CHECK(TextError(many) == ParseError::kNameTooLong);
}

TEST_CASE("Escapes in text: \\X and \\DDD, and ToString escapes back") {
  const Name dot = N("a\\.b.c");
  CHECK(dot.LabelCount() == 2);
  CHECK(HexEncode(dot.wire()) ==
        "03612e620163"
        "00");
  CHECK(dot.ToString() == "a\\.b.c");
  CHECK(N("\\065\\066").wire()[1] == 'A');
  CHECK(N("\\000\\255").ToString() == "\\000\\255");
  CHECK(N("a\\ b").ToString() == "a\\032b");
  CHECK(N("back\\\\slash").ToString() == "back\\\\slash");
  CHECK(TextError("\\") == ParseError::kBadEscape);
  CHECK(TextError("a\\12") == ParseError::kBadEscape);
  CHECK(TextError("a\\256") == ParseError::kBadEscape);
  CHECK(TextError("a\\1x3") == ParseError::kBadEscape);
  // Every byte value survives ToString -> FromText.
  Name all;
  uint8_t* p = all.mutable_data();
  p[0] = 63;
  for (int i = 0; i < 63; ++i) p[1 + i] = static_cast<uint8_t>(i * 4 + 1);
  p[64] = 0;
  all.set_size(65);
  CHECK(N(all.ToString()) == all);
  CHECK(!Name::Parse("a..b").ok());
}

TEST_CASE("Name::FromWire accepts only uncompressed, complete names") {
  Name n;
  CHECK(Name::FromWire(Hex("0161026263"
                           "00"),
                       &n) == ParseError::kOk);
  CHECK(n.ToString() == "a.bc");
  CHECK(Name::FromWire(Hex("00"), &n) == ParseError::kOk);
  CHECK(n.IsRoot());
  CHECK(Name::FromWire(Hex(""), &n) == ParseError::kTruncated);
  CHECK(Name::FromWire(Hex("0161"), &n) == ParseError::kTruncated);      // no root label
  CHECK(Name::FromWire(Hex("016100ff"), &n) == ParseError::kTruncated);  // bytes after it
  CHECK(Name::FromWire(Hex("0161c00c"), &n) == ParseError::kBadLabelType);
  CHECK(Name::FromWire(Hex("40"), &n) == ParseError::kBadLabelType);
}

TEST_CASE("Names compare exactly with ==, and case-insensitively for DNS") {
  const Name mixed = N("WeB.Ts.NeT");
  const Name lower = N("web.ts.net");
  CHECK(!(mixed == lower));
  CHECK(mixed.EqualsIgnoreCase(lower));
  CHECK(mixed.Lowercase() == lower);
  CHECK(mixed.Lowercase().key() == lower.key());
  CHECK(!N("web.ts.net").EqualsIgnoreCase(N("web.ts.ne")));
  // Only ASCII letters fold: '[' (0x5b) is not '{' (0x7b).
  CHECK(!N("[").EqualsIgnoreCase(N("{")));
  CHECK(AsciiLower('Z') == 'z');
  CHECK(AsciiLower('@') == '@');
}

TEST_CASE("IsSubdomainOf matches on label boundaries, ignoring case") {
  const Name zone = N("ts.net");
  CHECK(N("a.ts.net").IsSubdomainOf(zone));
  CHECK(N("b.a.TS.NET").IsSubdomainOf(zone));
  CHECK(N("ts.net").IsSubdomainOf(zone));
  CHECK(!N("ats.net").IsSubdomainOf(zone));
  CHECK(!N("ts.net.evil").IsSubdomainOf(zone));
  CHECK(!N("net").IsSubdomainOf(zone));
  CHECK(N("anything.at.all").IsSubdomainOf(Name()));
  CHECK(Name().IsSubdomainOf(Name()));
  CHECK(!Name().IsSubdomainOf(zone));
  // A label that contains the zone's bytes, but not on a boundary: "\002ts\003net" inside one.
  CHECK(!N("x\\002ts\\003net").IsSubdomainOf(zone));
}

}  // namespace
}  // namespace meshvpn::dns
