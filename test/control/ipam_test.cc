// IPAM's pure parts: prefixes, reserved addresses, free-address search with wrap-around.
#include "meshvpn/control/ipam.h"

#include <catch2/catch.hpp>
#include <set>

namespace meshvpn::control {
namespace {

AddressPool Pool(std::string_view prefix) {
  auto pool = AddressPool::Parse(prefix);
  REQUIRE(pool.ok());
  return *pool;
}

// FindFree over an in-memory set of used offsets.
absl::StatusOr<uint64_t> Find(const AddressPool& pool, uint64_t start,
                              const std::set<uint64_t>& used) {
  return pool.FindFree(
      start, [&](uint64_t offset) -> absl::StatusOr<bool> { return used.contains(offset); });
}

TEST_CASE("IPAM prefixes parse and refuse mistakes", "[control][ipam]") {
  auto v4 = ParseIpPrefix("100.64.0.0/10");
  REQUIRE(v4.ok());
  CHECK(v4->ToString() == "100.64.0.0/10");
  auto v6 = ParseIpPrefix("fd7a:115c:a1e0::/48");
  REQUIRE(v6.ok());
  CHECK(v6->network.family == IpFamily::kIpv6);
  CHECK(v6->ToString() == "fd7a:115c:a1e0::/48");

  CHECK(ParseIpPrefix("100.64.0.1/10").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ParseIpPrefix("100.64.0.0").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ParseIpPrefix("100.64.0.0/33").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ParseIpPrefix("100.64.0.0/").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ParseIpPrefix("100.64.0.0/1x").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ParseIpPrefix("fd7a::/129").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ParseIpPrefix("banana/8").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ParseIpPrefix("").status().code() == absl::StatusCode::kInvalidArgument);
  // Too small to hold a node.
  CHECK(AddressPool::Parse("100.64.0.0/31").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(AddressPool::Parse("100.64.0.0/32").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(AddressPool::Parse("fd00::/127").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(AddressPool::Parse("fd00::/126").ok());
}

TEST_CASE("IPAM reserves the network, broadcast and MagicDNS addresses", "[control][ipam]") {
  const AddressPool cgnat = Pool(kDefaultIpv4Prefix);
  CHECK(cgnat.size() == (uint64_t{1} << 22));
  CHECK(cgnat.usable() == cgnat.size() - 3);  // network, broadcast, 100.100.100.100
  CHECK(cgnat.IsReserved(0));
  CHECK(cgnat.IsReserved(cgnat.size() - 1));
  auto magic = ParseIpAddress(kMagicDnsIpv4);
  REQUIRE(magic.ok());
  auto magic_offset = cgnat.OffsetOf(*magic);
  REQUIRE(magic_offset.ok());
  CHECK(cgnat.IsReserved(*magic_offset));
  CHECK(cgnat.AddressAt(1).ToString() == "100.64.0.1");
  CHECK(cgnat.AddressAt(*magic_offset).ToString() == "100.100.100.100");

  // The search steps over the resolver address.
  auto next = Find(cgnat, *magic_offset - 1, {*magic_offset - 1});
  REQUIRE(next.ok());
  CHECK(*next == *magic_offset + 1);

  const AddressPool ula = Pool(kDefaultIpv6Prefix);
  CHECK(ula.size() == (uint64_t{1} << 62));  // a /48 is used in its first 2^62 addresses
  CHECK(ula.usable() == ula.size() - 2);     // network, fd7a:115c:a1e0::53 (no broadcast)
  CHECK(ula.AddressAt(1).ToString() == "fd7a:115c:a1e0::1");
  CHECK(ula.IsReserved(0x53));
  CHECK_FALSE(ula.IsReserved(ula.size() - 1));
  auto found = Find(ula, 0x53, {});
  REQUIRE(found.ok());
  CHECK(*found == 0x54);
  auto offset = ula.OffsetOf(*ParseIpAddress("fd7a:115c:a1e0::1:0"));
  REQUIRE(offset.ok());
  CHECK(*offset == 0x10000);
  CHECK(ula.OffsetOf(*ParseIpAddress("fd7a:115c:a1e1::1")).status().code() ==
        absl::StatusCode::kNotFound);
  CHECK(ula.OffsetOf(*ParseIpAddress("100.64.0.1")).status().code() == absl::StatusCode::kNotFound);

  // A prefix that holds the resolver address reserves it; one that does not, does not.
  const AddressPool around = Pool("100.100.100.96/29");
  CHECK(around.usable() == 5);
  CHECK(around.IsReserved(4));
  const AddressPool elsewhere = Pool("10.0.0.0/29");
  CHECK(elsewhere.usable() == 6);
}

TEST_CASE("IPAM exhausts a /30 after two addresses", "[control][ipam]") {
  const AddressPool pool = Pool("100.64.0.0/30");
  CHECK(pool.usable() == 2);
  auto first = Find(pool, 1, {});
  REQUIRE(first.ok());
  CHECK(pool.AddressAt(*first).ToString() == "100.64.0.1");
  auto second = Find(pool, *first + 1, {*first});
  REQUIRE(second.ok());
  CHECK(pool.AddressAt(*second).ToString() == "100.64.0.2");
  auto none = Find(pool, 1, {1, 2});
  REQUIRE(none.status().code() == absl::StatusCode::kResourceExhausted);
  CHECK(std::string(none.status().message()) == "no free IPv4 address left in 100.64.0.0/30");

  // Never asks about more than usable() offsets, even when all are taken.
  int calls = 0;
  auto counted = pool.FindFree(2, [&](uint64_t) -> absl::StatusOr<bool> {
    ++calls;
    return true;
  });
  CHECK(counted.status().code() == absl::StatusCode::kResourceExhausted);
  CHECK(calls == 2);

  // is_used's error is returned as is.
  auto failed = pool.FindFree(
      1, [](uint64_t) -> absl::StatusOr<bool> { return absl::UnavailableError("db down"); });
  CHECK(failed.status().code() == absl::StatusCode::kUnavailable);

  const AddressPool v6 = Pool("fd00::/126");
  CHECK(v6.usable() == 3);
  CHECK(Find(v6, 1, {1, 2, 3}).status().code() == absl::StatusCode::kResourceExhausted);
  CHECK(std::string(Find(v6, 1, {1, 2, 3}).status().message()) ==
        "no free IPv6 address left in fd00::/126");
}

TEST_CASE("IPAM wraps around from the end to the first address", "[control][ipam]") {
  const AddressPool pool = Pool("10.0.0.0/29");  // usable offsets 1..6
  auto wrapped = Find(pool, 6, {6});
  REQUIRE(wrapped.ok());
  CHECK(*wrapped == 1);
  auto skipped = Find(pool, 5, {5, 6, 1, 2});
  REQUIRE(skipped.ok());
  CHECK(*skipped == 3);
  // A start past the end (a cursor after the last address) or at 0 starts at 1.
  auto past = Find(pool, 7, {});
  REQUIRE(past.ok());
  CHECK(*past == 1);
  auto zero = Find(pool, 0, {});
  REQUIRE(zero.ok());
  CHECK(*zero == 1);
  auto last_free = Find(pool, 3, {1, 2, 3, 4, 6});
  REQUIRE(last_free.ok());
  CHECK(*last_free == 5);
}

TEST_CASE("IPAM addresses print in one canonical form", "[control][ipam]") {
  auto address = ParseIpAddress("FD7A:115C:A1E0:0000:0000:0000:0000:0001");
  REQUIRE(address.ok());
  CHECK(address->ToString() == "fd7a:115c:a1e0::1");
  CHECK(ParseIpAddress("1.2.3").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ParseIpAddress("").status().code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace meshvpn::control
