#include "meshvpn/tun/ip_address.h"

#include <catch2/catch.hpp>

namespace meshvpn::tun {
namespace {

TEST_CASE("addresses parse and print in canonical form") {
  struct Case {
    const char* text;
    IpAddress::Family family;
    const char* canonical;
  };
  const Case cases[] = {
      {"10.0.0.1", IpAddress::Family::kV4, "10.0.0.1"},
      {"255.255.255.255", IpAddress::Family::kV4, "255.255.255.255"},
      {"fd00::1", IpAddress::Family::kV6, "fd00::1"},
      {"FD00:0:0:0:0:0:0:1", IpAddress::Family::kV6, "fd00::1"},
      {"::", IpAddress::Family::kV6, "::"},
      {"2001:db8::ff00:42:8329", IpAddress::Family::kV6, "2001:db8::ff00:42:8329"},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    auto a = IpAddress::Parse(c.text);
    REQUIRE(a.ok());
    CHECK(a->family() == c.family);
    CHECK(a->ToString() == c.canonical);
    CHECK(a->bytes().size() == (c.family == IpAddress::Family::kV4 ? 4u : 16u));
  }
  CHECK(IpAddress::V4(10, 0, 0, 1) == *IpAddress::Parse("10.0.0.1"));
  CHECK(IpAddress().ToString() == "none");
}

TEST_CASE("malformed addresses are rejected with the text in the message") {
  for (const char* text : {"", "10.0.0", "10.0.0.256", "fd00::1::2", "fd00::1%eth0", "[fd00::1]",
                           "10.0.0.1/24", "a very long string that is not an address at all"}) {
    INFO(text);
    auto a = IpAddress::Parse(text);
    REQUIRE_FALSE(a.ok());
    CHECK(a.status().code() == absl::StatusCode::kInvalidArgument);
  }
  CHECK(IpAddress::Parse("10.0.0").status().message() == "not an IP address: \"10.0.0\"");
}

TEST_CASE("FromBytes takes 4 or 16 bytes and nothing else") {
  const uint8_t v4[4] = {192, 168, 1, 100};
  CHECK(IpAddress::FromBytes(v4).ToString() == "192.168.1.100");
  const uint8_t five[5] = {};
  CHECK(IpAddress::FromBytes(five).family() == IpAddress::Family::kNone);
}

TEST_CASE("prefixes parse, print and contain") {
  auto p = IpPrefix::Parse("10.1.2.3/24");
  REQUIRE(p.ok());
  CHECK(p->length == 24);
  CHECK(p->ToString() == "10.1.2.3/24");
  CHECK(p->Contains(*IpAddress::Parse("10.1.2.200")));
  CHECK_FALSE(p->Contains(*IpAddress::Parse("10.1.3.1")));
  CHECK_FALSE(p->Contains(*IpAddress::Parse("fd00::1")));

  auto v6 = IpPrefix::Parse("fd00:1::1/61");
  REQUIRE(v6.ok());
  CHECK(v6->Contains(*IpAddress::Parse("fd00:1:0:7::9")));
  CHECK_FALSE(v6->Contains(*IpAddress::Parse("fd00:1:0:8::9")));

  auto host = IpPrefix::Parse("fd00::5");
  REQUIRE(host.ok());
  CHECK(host->length == 128);
  CHECK(IpPrefix::Parse("0.0.0.0/0")->Contains(*IpAddress::Parse("8.8.8.8")));
}

TEST_CASE("bad prefixes are rejected") {
  for (const char* text :
       {"10.0.0.1/33", "fd00::1/129", "10.0.0.1/", "10.0.0.1/-1", "10.0.0.1/2x", "x/24"}) {
    INFO(text);
    CHECK_FALSE(IpPrefix::Parse(text).ok());
  }
  CHECK(IpPrefix::Parse("10.0.0.1/33").status().message() ==
        "bad prefix length in \"10.0.0.1/33\" (0..32)");
}

}  // namespace
}  // namespace meshvpn::tun
