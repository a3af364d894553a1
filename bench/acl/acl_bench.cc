// The acl library at tailnet scale: a generated tailnet of 10,000 nodes (2,000 users with four
// devices each in 60 groups, 1,970 tagged servers, 25 subnet routers, 5 exit nodes; addresses
// drawn at random from the tailnet ranges, as a control server assigns them) and a policy of
// 1,000 rules (700 acls, 300 grants) mixing groups, users, tags, hosts, CIDRs, port lists and
// ranges and protocols, written as policy text and parsed. Measured: PacketFilter::Allows on the
// busiest node's filter (allowed and denied packets, IPv4 and IPv6), the reference
// Evaluator::AllowsPacket on the same packets (counter compiled_x: how many times faster the
// compiled filter is), and CompiledPolicy::Compile of the whole tailnet with the filter sizes of
// the median and the busiest node.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/alloc_counter.h"
#include "meshvpn/acl/compiled_policy.h"
#include "meshvpn/acl/evaluator.h"
#include "meshvpn/acl/inventory.h"
#include "meshvpn/acl/policy.h"

namespace meshvpn::acl {
namespace {

constexpr int kUsers = 2000;
constexpr int kDevicesPerUser = 4;
constexpr int kGroups = 60;
constexpr int kServers = 1970;
constexpr int kServiceTags = 150;
constexpr int kRouters = 25;
constexpr int kExitNodes = 5;
constexpr int kAcls = 700;
constexpr int kGrants = 300;
constexpr int kHosts = 20;
constexpr size_t kPackets = 1024;  // per kind of packet

struct Packet {
  Address src, dst;
  uint8_t protocol;
  uint16_t port;
};

class Generator {
 public:
  explicit Generator(uint32_t seed) : rng_(seed) {}

  int Pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  bool Coin(int percent) { return Pick(100) < percent; }
  uint64_t Bits64() { return rng_(); }
  template <typename T>
  const T& OneOf(const std::vector<T>& v) {
    return v[static_cast<size_t>(Pick(static_cast<int>(v.size())))];
  }

  // Distinct random tailnet addresses: 100.64.0.0/10 (without 100.115.92.0/23) and
  // fd7a:115c:a1e0::/48 with random low 64 bits.
  std::pair<Address, Address> NodeAddresses() {
    for (;;) {
      const uint32_t v4 = (100u << 24 | 64u << 16) + (static_cast<uint32_t>(rng_()) & 0x3fffff);
      if (!TailnetAddresses().Contains(Address::V4(v4)) || !used_v4_.insert(v4).second) continue;
      const Uint128 v6 = (Uint128{0xfd7a115ca1e00000ull} << 64) | (rng_() << 32 | rng_());
      return {Address::V4(v4), Address::V6(v6)};
    }
  }

 private:
  std::mt19937_64 rng_;
  std::set<uint32_t> used_v4_;
};

std::string User(int u) { return absl::StrCat("user", u, "@example.com"); }
std::string Group(int g) { return absl::StrCat("group:team", g); }
std::string ServiceTag(int t) { return absl::StrCat("tag:svc", t); }
std::string Quoted(const std::vector<std::string>& v) {
  std::vector<std::string> q;
  for (const std::string& s : v) q.push_back(absl::StrCat("\"", s, "\""));
  return absl::StrCat("[", absl::StrJoin(q, ", "), "]");
}

std::vector<InventoryNode> MakeNodes(Generator& gen) {
  std::vector<InventoryNode> nodes;
  auto add = [&](std::string name, std::string user, std::vector<std::string> tags) {
    InventoryNode n;
    n.id = nodes.size() + 1;
    n.name = std::move(name);
    n.user = std::move(user);
    n.tags = std::move(tags);
    const auto [v4, v6] = gen.NodeAddresses();
    n.ips = {v4, v6};
    nodes.push_back(std::move(n));
    return &nodes.back();
  };
  for (int u = 0; u < kUsers; ++u) {
    for (int d = 0; d < kDevicesPerUser; ++d) add(absl::StrCat("user", u, "-dev", d), User(u), {});
  }
  for (int s = 0; s < kServers; ++s) {
    std::vector<std::string> tags = {ServiceTag(s % kServiceTags)};
    if (gen.Coin(20)) tags.push_back(ServiceTag(gen.Pick(kServiceTags)));
    if (tags.size() == 2 && tags[0] == tags[1]) tags.pop_back();
    add(absl::StrCat("server", s), User(gen.Pick(kUsers)), std::move(tags));
  }
  for (int r = 0; r < kRouters; ++r) {
    InventoryNode* n = add(absl::StrCat("router", r), User(gen.Pick(kUsers)), {"tag:router"});
    n->routes = {*ParsePrefix(absl::StrCat("10.", r, ".0.0/16")),
                 *ParsePrefix(absl::StrCat("fd00:", r, "::/64"))};
  }
  for (int e = 0; e < kExitNodes; ++e) {
    InventoryNode* n = add(absl::StrCat("exit", e), User(gen.Pick(kUsers)), {"tag:exit"});
    n->routes = {*ParsePrefix("0.0.0.0/0"), *ParsePrefix("::/0")};
  }
  return nodes;
}

std::string Source(Generator& gen, const std::vector<InventoryNode>& nodes) {
  const int p = gen.Pick(100);
  if (p < 40) return Group(gen.Pick(kGroups));
  if (p < 60) return User(gen.Pick(kUsers));
  if (p < 85) return ServiceTag(gen.Pick(kServiceTags));
  if (p < 92) return absl::StrCat("10.", gen.Pick(kRouters), ".0.0/16");  // behind a router
  if (p < 95) {
    // A few devices' /24 (the addresses are random, so this names a handful of nodes).
    return ParsePrefix(absl::StrCat(gen.OneOf(nodes).ips[0].ToString(), "/24"))->ToString();
  }
  if (p < 98) return "autogroup:member";
  return "tag:router";
}

std::string DestinationHost(Generator& gen) {
  const int p = gen.Pick(100);
  if (p < 62) return ServiceTag(gen.Pick(kServiceTags));
  if (p < 70) return Group(gen.Pick(kGroups));
  if (p < 74) return User(gen.Pick(kUsers));
  if (p < 86) return absl::StrCat("10.", gen.Pick(kRouters), ".", gen.Pick(256), ".0/24");
  if (p < 92) return absl::StrCat("host", gen.Pick(kHosts));
  // In an acl, "fd00:3::/64:443": the last colon separates the ports.
  if (p < 97) return absl::StrCat("fd00:", gen.Pick(kRouters), "::/64");
  return "autogroup:tagged";
}

std::string Ports(Generator& gen) {
  return gen.OneOf<std::string>({"22", "443", "80,443", "8000-8100", "5432", "1000-2000,3000", "*",
                                 "53", "6379", "9090-9100,9200", "3306", "8443"});
}

std::string PolicyText(Generator& gen, const std::vector<InventoryNode>& nodes) {
  std::string text = "{\n  \"groups\": {\n";
  // Every user is in one or two teams.
  std::vector<std::vector<std::string>> members(kGroups);
  for (int u = 0; u < kUsers; ++u) {
    members[u % kGroups].push_back(User(u));
    if (gen.Coin(40)) members[gen.Pick(kGroups)].push_back(User(u));
  }
  for (int g = 0; g < kGroups; ++g) {
    std::sort(members[g].begin(), members[g].end());
    members[g].erase(std::unique(members[g].begin(), members[g].end()), members[g].end());
    absl::StrAppend(&text, "    \"", Group(g), "\": ", Quoted(members[g]), ",\n");
  }
  absl::StrAppend(&text, "  },\n  \"tagOwners\": {\n");
  for (int t = 0; t < kServiceTags; ++t) {
    absl::StrAppend(&text, "    \"", ServiceTag(t), "\": [\"", Group(t % kGroups), "\"],\n");
  }
  absl::StrAppend(&text, "    \"tag:router\": [\"group:team0\"],\n");
  absl::StrAppend(&text, "    \"tag:exit\": [\"group:team0\"],\n  },\n  \"hosts\": {\n");
  for (int h = 0; h < kHosts; ++h) {
    absl::StrAppend(&text, "    \"host", h, "\": \"10.", h % kRouters, ".", 100 + h, ".0/28\",\n");
  }
  absl::StrAppend(&text, "  },\n  \"acls\": [\n");
  // Two fixed rules (every user's own devices; one team through the exit nodes), then random.
  absl::StrAppend(&text,
                  "    {\"action\": \"accept\", \"src\": [\"autogroup:member\"], \"dst\": "
                  "[\"autogroup:self:*\"]},\n",
                  "    {\"action\": \"accept\", \"src\": [\"group:team1\"], \"dst\": "
                  "[\"autogroup:internet:*\"]},\n");
  for (int r = 2; r < kAcls; ++r) {
    std::vector<std::string> src, dst;
    for (int i = 0, n = 1 + gen.Pick(3); i < n; ++i) src.push_back(Source(gen, nodes));
    std::string proto;
    const int p = gen.Pick(100);
    if (p < 15) proto = "tcp";
    if (p >= 15 && p < 20) proto = "udp";
    if (p >= 20 && p < 22) proto = "sctp";
    for (int i = 0, n = 1 + gen.Pick(3); i < n; ++i) {
      absl::StrAppend(&dst.emplace_back(), DestinationHost(gen), ":", Ports(gen));
    }
    absl::StrAppend(&text, "    {\"action\": \"accept\", \"src\": ", Quoted(src),
                    ", \"dst\": ", Quoted(dst));
    if (!proto.empty()) absl::StrAppend(&text, ", \"proto\": \"", proto, "\"");
    absl::StrAppend(&text, "},\n");
  }
  absl::StrAppend(&text, "  ],\n  \"grants\": [\n");
  for (int r = 0; r < kGrants; ++r) {
    std::vector<std::string> src, dst, ip;
    for (int i = 0, n = 1 + gen.Pick(3); i < n; ++i) src.push_back(Source(gen, nodes));
    for (int i = 0, n = 1 + gen.Pick(2); i < n; ++i) dst.push_back(DestinationHost(gen));
    for (int i = 0, n = 1 + gen.Pick(2); i < n; ++i) {
      ip.push_back(
          gen.OneOf<std::string>({"tcp:443", "udp:53", "tcp:8000-8999", "22", "*", "icmp:*",
                                  "tcp:5432,6379", "sctp:9000", "80,443", "udp:4000-4100"}));
    }
    absl::StrAppend(&text, "    {\"src\": ", Quoted(src), ", \"dst\": ", Quoted(dst),
                    ", \"ip\": ", Quoted(ip), "},\n");
  }
  absl::StrAppend(&text, "  ],\n}\n");
  return text;
}

void Fail(const std::string& what) {
  std::fprintf(stderr, "bench_acl: %s\n", what.c_str());
  std::abort();
}

// A random address in `set`'s `family` intervals, or false.
bool AddressIn(Generator& gen, const AddressSet& set, Family family, Address* out) {
  if (family == Family::kV4) {
    if (set.v4().empty()) return false;
    const auto& iv = set.v4()[static_cast<size_t>(gen.Pick(static_cast<int>(set.v4().size())))];
    const uint64_t span = uint64_t{iv.last} - iv.first + 1;
    *out = Address::V4(static_cast<uint32_t>(iv.first + gen.Bits64() % span));
  } else {
    if (set.v6().empty()) return false;
    const auto& iv = set.v6()[static_cast<size_t>(gen.Pick(static_cast<int>(set.v6().size())))];
    const Uint128 span = iv.last - iv.first;
    const Uint128 r = (Uint128{gen.Bits64()} << 64) | gen.Bits64();
    *out = Address::V6(span == ~Uint128{0} ? r : iv.first + r % (span + 1));
  }
  return true;
}

struct Tailnet {
  std::string policy_text;
  Policy policy;
  std::unique_ptr<Inventory> inventory;
  std::unique_ptr<CompiledPolicy> compiled;
  std::unique_ptr<Evaluator> reference;
  int busiest = -1, median = -1;
  // allowed v4, denied v4, allowed v6, denied v6: each checked against the reference.
  std::vector<Packet> packets[4];
};

const Tailnet& TheTailnet() {
  static const Tailnet* tailnet = [] {
    auto* t = new Tailnet;
    Generator gen(20240611);
    t->inventory = std::make_unique<Inventory>(MakeNodes(gen));
    t->policy_text = PolicyText(gen, t->inventory->nodes());
    absl::StatusOr<Policy> policy = ParsePolicy(t->policy_text);
    if (!policy.ok()) Fail(std::string(policy.status().message()));
    if (policy->rules.size() != kAcls + kGrants) Fail("not 1,000 rules");
    t->policy = std::move(*policy);
    t->compiled =
        std::make_unique<CompiledPolicy>(CompiledPolicy::Compile(t->policy, *t->inventory));
    t->reference = std::make_unique<Evaluator>(t->policy, *t->inventory);

    std::vector<int> order(t->inventory->size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
    std::sort(order.begin(), order.end(), [&](int a, int b) {
      return t->compiled->entries(a).size() < t->compiled->entries(b).size();
    });
    t->median = order[order.size() / 2];
    t->busiest = order.back();

    // Packets to the busiest node's own addresses: allowed ones drawn from its entries (a source,
    // a port and a protocol that one of them admits), denied ones at random.
    const InventoryNode& node = t->inventory->nodes()[static_cast<size_t>(t->busiest)];
    const PacketFilter& filter = t->compiled->filter(t->busiest);
    const auto& entries = t->compiled->entries(t->busiest);
    std::vector<Address> all_sources;
    for (const InventoryNode& n : t->inventory->nodes()) {
      all_sources.insert(all_sources.end(), n.ips.begin(), n.ips.end());
    }
    for (int f = 0; f < 2; ++f) {
      const Family family = f == 0 ? Family::kV4 : Family::kV6;
      const Address dst = node.ips[static_cast<size_t>(f)];
      std::vector<Packet>& allowed = t->packets[2 * f];
      std::vector<Packet>& denied = t->packets[2 * f + 1];
      for (int tries = 0; allowed.size() < kPackets && tries < 1000000; ++tries) {
        const FilterEntry& e = gen.OneOf(entries);
        Packet p{{}, dst, 0, 0};
        if (!e.dst.Contains(dst) || !AddressIn(gen, *e.src, family, &p.src)) continue;
        const std::vector<uint8_t> protocols = e.protocols.ToVector();
        p.protocol = gen.OneOf(protocols);
        if (!ProtocolSet::HasPorts(p.protocol)) continue;  // ports are what is measured
        p.port = static_cast<uint16_t>(e.ports.first +
                                       gen.Pick(int{e.ports.last} - int{e.ports.first} + 1));
        if (filter.Allows(p.src, p.dst, p.protocol, p.port)) allowed.push_back(p);
      }
      for (int tries = 0; denied.size() < kPackets && tries < 1000000; ++tries) {
        Packet p{gen.OneOf(all_sources), dst, gen.Coin(80) ? ProtocolSet::kTcp : ProtocolSet::kUdp,
                 gen.OneOf<uint16_t>({22, 80, 443, 53, 5432, 8080, 8443, 3306, 9000, 1500})};
        if (p.src.family != family) continue;
        if (!filter.Allows(p.src, p.dst, p.protocol, p.port)) denied.push_back(p);
      }
      if (allowed.size() < kPackets || denied.size() < kPackets) Fail("too few packets");
    }
    for (const auto& kind : t->packets) {
      for (const Packet& p : kind) {
        if (filter.Allows(p.src, p.dst, p.protocol, p.port) !=
            t->reference->AllowsPacket(node, p.src, p.dst, p.protocol, p.port)) {
          Fail(absl::StrCat("compiled and reference disagree on ", p.src.ToString(), " -> ",
                            p.dst.ToString(), " proto ", int{p.protocol}, " port ", p.port));
        }
      }
    }
    return t;
  }();
  return *tailnet;
}

const char* const kKindNames[] = {"allowed_v4", "denied_v4", "allowed_v6", "denied_v6"};
// Lookups per second of the compiled filter, per kind, from the compiled benchmark's last run:
// the reference benchmarks divide by it.
double g_compiled_rate[4] = {};

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

void BM_CompiledAllows(benchmark::State& state) {
  const Tailnet& t = TheTailnet();
  const int kind = static_cast<int>(state.range(0));
  const std::vector<Packet>& packets = t.packets[kind];
  const PacketFilter& filter = t.compiled->filter(t.busiest);
  const bool want = kind % 2 == 0;

  // Allocations: a million lookups outside the timed loop, counted by the replaced operator new.
  const long before = test::ThreadNewCount();
  size_t agree = 0;
  for (size_t i = 0; i < 1000000; ++i) {
    const Packet& p = packets[i % kPackets];
    agree += filter.Allows(p.src, p.dst, p.protocol, p.port) == want;
  }
  const long allocations = test::ThreadNewCount() - before;
  if (agree != 1000000) Fail("a packet changed its answer");

  size_t i = 0;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    const Packet& p = packets[i++ % kPackets];
    benchmark::DoNotOptimize(filter.Allows(p.src, p.dst, p.protocol, p.port));
  }
  g_compiled_rate[kind] = static_cast<double>(state.iterations()) / Seconds(start);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetLabel(kKindNames[kind]);
  state.counters["allocs_per_1M_lookups"] = static_cast<double>(allocations);
}

void BM_ReferenceAllows(benchmark::State& state) {
  const Tailnet& t = TheTailnet();
  const int kind = static_cast<int>(state.range(0));
  const std::vector<Packet>& packets = t.packets[kind];
  const InventoryNode& node = t.inventory->nodes()[static_cast<size_t>(t.busiest)];
  size_t i = 0;
  const long before = test::ThreadNewCount();
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    const Packet& p = packets[i++ % kPackets];
    benchmark::DoNotOptimize(t.reference->AllowsPacket(node, p.src, p.dst, p.protocol, p.port));
  }
  const double rate = static_cast<double>(state.iterations()) / Seconds(start);
  const long allocations = test::ThreadNewCount() - before;
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetLabel(kKindNames[kind]);
  state.counters["allocs_per_lookup"] =
      static_cast<double>(allocations) / static_cast<double>(state.iterations());
  if (g_compiled_rate[kind] > 0) state.counters["compiled_x"] = g_compiled_rate[kind] / rate;
}

void SizeCounters(benchmark::State& state, const CompiledPolicy& c, int node, const char* name) {
  const PacketFilter& f = c.filter(node);
  state.counters[absl::StrCat(name, "_entries")] = static_cast<double>(c.entries(node).size());
  state.counters[absl::StrCat(name, "_groups")] = static_cast<double>(f.group_count());
  state.counters[absl::StrCat(name, "_sets")] = static_cast<double>(f.set_count());
  state.counters[absl::StrCat(name, "_intervals")] = static_cast<double>(f.interval_count());
}

// The whole tailnet compiled: every node's entries, filter and visibility.
void BM_Compile(benchmark::State& state) {
  const Tailnet& t = TheTailnet();
  size_t entries = 0;
  for (auto _ : state) {
    const CompiledPolicy c = CompiledPolicy::Compile(t.policy, *t.inventory);
    entries = 0;
    for (size_t i = 0; i < c.node_count(); ++i) entries += c.entries(static_cast<int>(i)).size();
    benchmark::DoNotOptimize(entries);
  }
  state.counters["nodes"] = static_cast<double>(t.inventory->size());
  state.counters["rules"] = static_cast<double>(t.policy.rules.size());
  state.counters["entries"] = static_cast<double>(entries);
  SizeCounters(state, *t.compiled, t.median, "median");
  SizeCounters(state, *t.compiled, t.busiest, "busiest");
}

// The policy text (1,000 rules) parsed and validated.
void BM_ParsePolicy(benchmark::State& state) {
  const Tailnet& t = TheTailnet();
  for (auto _ : state) benchmark::DoNotOptimize(ParsePolicy(t.policy_text));
  state.counters["bytes"] = static_cast<double>(t.policy_text.size());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * t.policy_text.size()));
}

// One node's matcher built from its entries (on the node, from the rules it was sent): the median
// node's (0) and the busiest node's (1).
void BM_BuildFilter(benchmark::State& state) {
  const Tailnet& t = TheTailnet();
  const int node = state.range(0) == 0 ? t.median : t.busiest;
  const auto& entries = t.compiled->entries(node);
  for (auto _ : state) benchmark::DoNotOptimize(PacketFilter::Build(entries));
  state.SetLabel(state.range(0) == 0 ? "median" : "busiest");
  state.counters["entries"] = static_cast<double>(entries.size());
}

BENCHMARK(BM_CompiledAllows)->DenseRange(0, 3);
BENCHMARK(BM_ReferenceAllows)->DenseRange(0, 3);
BENCHMARK(BM_Compile)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_ParsePolicy)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_BuildFilter)->Unit(benchmark::kMillisecond)->DenseRange(0, 1);

}  // namespace
}  // namespace meshvpn::acl
