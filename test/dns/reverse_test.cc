// Reverse names: addresses to in-addr.arpa / ip6.arpa names and back, prefixes, what is
// malformed, and that neither direction allocates.
#include "meshvpn/dns/reverse.h"

#include <catch2/catch.hpp>
#include <string>

#include "common/alloc_counter.h"
#include "dns_test_util.h"

namespace meshvpn::dns {
namespace {

using test::N;

std::string Reverse(std::initializer_list<uint8_t> address) {
  Name n;
  REQUIRE(ReverseName(std::span<const uint8_t>(address.begin(), address.size()), &n));
  return n.ToString();
}

ReverseAddress ParseOk(std::string_view name) {
  ReverseAddress r;
  REQUIRE(ParseReverseName(N(name).wire(), &r) == ReverseParse::kOk);
  return r;
}

ReverseParse ParseResult(std::string_view name) {
  ReverseAddress r;
  return ParseReverseName(N(name).wire(), &r);
}

TEST_CASE("ReverseName: IPv4 octets and IPv6 nibbles, lowest first") {
  CHECK(Reverse({100, 64, 0, 5}) == "5.0.64.100.in-addr.arpa");
  CHECK(Reverse({0, 0, 0, 0}) == "0.0.0.0.in-addr.arpa");
  CHECK(Reverse({255, 255, 10, 9}) == "9.10.255.255.in-addr.arpa");
  // Python: ipaddress.ip_address("fd7a:115c:a1e0::5").reverse_pointer
  CHECK(Reverse({0xfd, 0x7a, 0x11, 0x5c, 0xa1, 0xe0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5}) ==
        "5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.e.1.a.c.5.1.1.a.7.d.f.ip6.arpa");
  Name n;
  const uint8_t three[] = {1, 2, 3};
  CHECK(!ReverseName(three, &n));
}

TEST_CASE("ParseReverseName reads the address back, in any case") {
  const ReverseAddress v4 = ParseOk("5.0.64.100.in-addr.arpa");
  CHECK(v4.family == udp::AddressFamily::kIpv4);
  CHECK(v4.full());
  CHECK(v4.prefix_bits == 32);
  CHECK(HexEncode(v4.address()) == "64400005");
  CHECK(HexEncode(ParseOk("5.0.64.100.IN-ADDR.ARPA").address()) == "64400005");
  const ReverseAddress v6 =
      ParseOk("5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.E.1.A.C.5.1.1.A.7.D.F.ip6.arpa");
  CHECK(v6.family == udp::AddressFamily::kIpv6);
  CHECK(v6.full());
  CHECK(HexEncode(v6.address()) == "fd7a115ca1e000000000000000000005");
  // Every address round-trips.
  for (int i = 0; i < 256; i += 17) {
    const uint8_t a4[] = {static_cast<uint8_t>(i), 7, static_cast<uint8_t>(255 - i), 0};
    Name n;
    REQUIRE(ReverseName(a4, &n));
    ReverseAddress r;
    REQUIRE(ParseReverseName(n.wire(), &r) == ReverseParse::kOk);
    CHECK(HexEncode(r.address()) == HexEncode(a4));
    uint8_t a6[16];
    for (int k = 0; k < 16; ++k) a6[k] = static_cast<uint8_t>(i * 31 + k * 7);
    REQUIRE(ReverseName(a6, &n));
    REQUIRE(ParseReverseName(n.wire(), &r) == ReverseParse::kOk);
    CHECK(HexEncode(r.address()) == HexEncode(a6));
  }
}

TEST_CASE("Names above an address are prefixes") {
  const ReverseAddress p = ParseOk("64.100.in-addr.arpa");
  CHECK(!p.full());
  CHECK(p.prefix_bits == 16);
  CHECK(HexEncode(p.address()) == "64400000");
  CHECK(ParseOk("in-addr.arpa").prefix_bits == 0);
  const ReverseAddress p6 = ParseOk("a.7.d.f.ip6.arpa");
  CHECK(p6.prefix_bits == 16);
  CHECK(HexEncode(p6.address()).substr(0, 4) == "fd7a");
  CHECK(ParseOk("7.d.f.ip6.arpa").bytes[1] == 0x70);
}

TEST_CASE("Malformed and non-reverse names") {
  CHECK(ParseResult("256.0.64.100.in-addr.arpa") == ReverseParse::kMalformed);
  CHECK(ParseResult("05.0.64.100.in-addr.arpa") == ReverseParse::kMalformed);
  CHECK(ParseResult("a.0.64.100.in-addr.arpa") == ReverseParse::kMalformed);
  CHECK(ParseResult("1.5.0.64.100.in-addr.arpa") == ReverseParse::kMalformed);
  CHECK(ParseResult("0/25.2.0.192.in-addr.arpa") == ReverseParse::kMalformed);  // RFC 2317
  CHECK(ParseResult("10.ip6.arpa") == ReverseParse::kMalformed);
  CHECK(ParseResult("g.ip6.arpa") == ReverseParse::kMalformed);
  std::string many;
  for (int i = 0; i < 33; ++i) many += "0.";
  CHECK(ParseResult(many + "ip6.arpa") == ReverseParse::kMalformed);
  CHECK(ParseResult("example.com") == ReverseParse::kNotReverse);
  CHECK(ParseResult("arpa") == ReverseParse::kNotReverse);
  CHECK(ParseResult("foo.arpa") == ReverseParse::kNotReverse);
  CHECK(ParseResult("5.0.64.100.in-addr.arpa.evil") == ReverseParse::kNotReverse);
  CHECK(ParseResult(".") == ReverseParse::kNotReverse);
}

TEST_CASE("Reverse names are built and parsed without allocating") {
  const Name query = N("5.0.64.100.in-addr.arpa");
  const uint8_t a[] = {100, 64, 0, 5};
  Name n;
  ReverseAddress r;
  size_t ok = 0;
  const uint64_t before = meshvpn::test::ProcessNewCount();
  for (int i = 0; i < 100; ++i) {
    ok += ParseReverseName(query.wire(), &r) == ReverseParse::kOk ? 1 : 0;
    ok += ReverseName(a, &n) ? 1 : 0;
  }
  const uint64_t allocations = meshvpn::test::ProcessNewCount() - before;
  CHECK(ok == 200);
  CHECK(allocations == 0);
}

}  // namespace
}  // namespace meshvpn::dns
