// What bench_acl (10,000 nodes, 1,000 rules) turned up: CompiledPolicy::Compile built every
// node's matcher at once, and with sources of thousands of scattered addresses that took 12 GB
// (the control plane, which compiles, never matches a packet); and a subnet router's filter,
// with hundreds of destination groups, scanned them all for every packet it denied.
#include <malloc.h>

#include <catch2/catch.hpp>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/alloc_counter.h"
#include "meshvpn/acl/compiled_policy.h"
#include "meshvpn/acl/evaluator.h"
#include "meshvpn/acl/packet_filter.h"

namespace meshvpn::acl {
namespace {

// Bytes malloc has handed out and not had back (0 when a sanitizer replaces malloc: then the
// bound below holds trivially).
size_t HeapInUse() {
  const struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

// The filter's answer worked out from its entries one by one.
bool AllowsByEntries(const std::vector<FilterEntry>& entries, const Address& src,
                     const Address& dst, uint8_t protocol, uint16_t port) {
  for (const FilterEntry& e : entries) {
    if (!e.src->Contains(src) || !e.dst.Contains(dst)) continue;
    if (protocol == ProtocolSet::kIcmp || protocol == ProtocolSet::kIcmpV6) return true;
    if (!e.protocols.Has(protocol)) continue;
    if (ProtocolSet::HasPorts(protocol) ? e.ports.Contains(port) : e.ports.all()) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("Compile leaves each node's matcher until it is asked for", "[acl][scale]") {
  // 3,000 devices at scattered addresses, each reachable from all of them: built eagerly, every
  // matcher held the union of 6,000 intervals (120 KB), 360 MB in all.
  std::mt19937 rng(7);
  std::vector<InventoryNode> nodes;
  for (int i = 0; i < 3000; ++i) {
    InventoryNode n;
    n.id = static_cast<uint64_t>(i + 1);
    n.name = absl::StrCat("n", i);
    n.user = absl::StrCat("u", i % 700, "@example.com");
    const uint32_t host = 100u << 24 | 64u << 16 | static_cast<uint32_t>(i) * 97 % 0x3fff00;
    n.ips = {Address::V4(host), Address::V6((Uint128{0xfd7a115ca1e00000ull} << 64) | rng())};
    nodes.push_back(std::move(n));
  }
  const Inventory inventory(std::move(nodes));
  absl::StatusOr<Policy> policy = ParsePolicy(R"({"acls": [
    {"action": "accept", "src": ["autogroup:member"], "dst": ["autogroup:member:22,443"]},
    {"action": "accept", "src": ["*"], "dst": ["autogroup:self:*"]},
  ]})");
  REQUIRE(policy.ok());
  const size_t before = HeapInUse();
  const CompiledPolicy compiled = CompiledPolicy::Compile(*policy, inventory);
  const size_t grown = HeapInUse() - before;
  CHECK(grown < 64u << 20);

  // Asked for from two threads at once, a matcher is built once and answers as its entries say.
  const PacketFilter* seen[2] = {};
  std::thread other([&] { seen[0] = &compiled.filter(1234); });
  seen[1] = &compiled.filter(1234);
  other.join();
  CHECK(seen[0] == seen[1]);
  const auto& entries = compiled.entries(1234);
  const Address dst = inventory.nodes()[1234].ips[0];
  for (int i = 0; i < 3000; i += 7) {
    const Address src = inventory.nodes()[static_cast<size_t>(i)].ips[0];
    for (uint16_t port : {22, 80, 443}) {
      CHECK(seen[0]->Allows(src, dst, ProtocolSet::kTcp, port) ==
            AllowsByEntries(entries, src, dst, ProtocolSet::kTcp, port));
    }
  }
  CHECK(seen[0]->Allows(inventory.nodes()[1234 - 700].ips[0], dst, ProtocolSet::kTcp, 80));
}

TEST_CASE("a filter with many destination groups finds the ones holding the packet's destination",
          "[acl][scale]") {
  // Nested and overlapping destinations (a router's routes and the prefixes rules name inside
  // them), down to single addresses and out to each family's first and last address.
  std::mt19937 rng(11);
  auto pick = [&](uint32_t n) { return static_cast<uint32_t>(rng() % n); };
  std::vector<std::shared_ptr<const AddressSet>> sources;
  for (int s = 0; s < 8; ++s) {
    AddressSetBuilder b;
    for (int k = 0; k < 20; ++k) {
      b.Add(Address::V4(100u << 24 | 64u << 16 | pick(4096)));
      b.Add(Address::V6((Uint128{0xfd7a115ca1e00000ull} << 64) | pick(4096)));
    }
    if (s == 0) b.Add(*ParsePrefix("0.0.0.0/0"));
    sources.push_back(std::make_shared<const AddressSet>(b.Build()));
  }
  const char* const fixed[] = {
      "0.0.0.0/0", "10.0.0.0/8", "255.255.255.255", "0.0.0.0",          "::/0", "ffff::/16",
      "fd00::/8",  "::",         "10.0.0.0/24",     "10.255.255.255/32"};
  std::vector<FilterEntry> entries;
  for (int e = 0; e < 400; ++e) {
    AddressSetBuilder dst;
    if (e < static_cast<int>(std::size(fixed))) {
      dst.Add(*ParsePrefix(fixed[e]));
    } else if (e % 2 == 0) {
      const int length = 8 + static_cast<int>(pick(25));
      dst.Add(
          *ParsePrefix(absl::StrCat("10.", pick(4), ".", pick(256), ".", pick(256), "/", length)));
    } else {
      const int length = 16 + static_cast<int>(pick(113));
      dst.Add(
          *ParsePrefix(absl::StrCat("fd00:", pick(4), "::", absl::Hex(pick(65536)), "/", length)));
    }
    const uint16_t first = static_cast<uint16_t>(pick(2) ? 0 : pick(2000));
    const uint16_t last = static_cast<uint16_t>(first + pick(3) * 500);
    const ProtocolSet protocols =
        pick(4) == 0 ? ProtocolSet::Of({ProtocolSet::kUdp, 47}) : ProtocolSet::Default();
    entries.push_back({sources[pick(8)], dst.Build(), {first, last}, protocols, e});
  }
  const PacketFilter filter = PacketFilter::Build(entries);
  CHECK(filter.group_count() > 250);  // entries with equal destinations share a group

  std::vector<Address> dsts;
  for (const char* a : {"0.0.0.0", "255.255.255.255", "10.0.0.0", "10.255.255.255", "11.0.0.0",
                        "9.255.255.255", "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                        "fd00::", "fcff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}) {
    dsts.push_back(*ParseAddress(a));
  }
  for (const FilterEntry& e : entries) {  // the edges of every destination, and just outside
    for (const auto& iv : e.dst.v4()) {
      for (uint32_t a : {iv.first, iv.last, iv.first - 1, iv.last + 1}) {
        dsts.push_back(Address::V4(a));
      }
    }
    for (const auto& iv : e.dst.v6()) {
      for (Uint128 a : {iv.first, iv.last, iv.first - 1, iv.last + 1}) {
        dsts.push_back(Address::V6(a));
      }
    }
  }
  size_t allowed = 0, checked = 0;
  for (const Address& dst : dsts) {
    for (int k = 0; k < 6; ++k) {
      const auto& set = *sources[pick(8)];
      Address src = dst.is_v4()
                        ? Address::V4(set.v4()[pick(static_cast<uint32_t>(set.v4().size()))].first)
                        : Address::V6(set.v6()[pick(static_cast<uint32_t>(set.v6().size()))].first);
      const uint8_t protocol =
          std::array<uint8_t, 5>{ProtocolSet::kTcp, ProtocolSet::kUdp, ProtocolSet::kIcmp, 47,
                                 ProtocolSet::kSctp}[pick(5)];
      const uint16_t port = static_cast<uint16_t>(pick(3000));
      const bool want = AllowsByEntries(entries, src, dst, protocol, port);
      INFO(src.ToString() << " -> " << dst.ToString() << " proto " << int{protocol} << " port "
                          << port);
      REQUIRE(filter.Allows(src, dst, protocol, port) == want);
      allowed += want;
      ++checked;
    }
  }
  CHECK(allowed > checked / 10);
  CHECK(allowed < checked * 9 / 10);

  // And the lookup still allocates nothing.
  const Address src = Address::V4(sources[0]->v4()[0].first);
  const long news = test::ThreadNewCount();
  size_t n = 0;
  for (const Address& dst : dsts) n += filter.Allows(src, dst, ProtocolSet::kTcp, 443);
  const long after = test::ThreadNewCount();
  CHECK(after == news);
  CHECK(n > 0);
}

}  // namespace meshvpn::acl
