// Fuzzes ParsePolicy, and on the same bytes ParseInventory and ParseQuery. Any input gives a value
// or an InvalidArgument error; a policy that parses is compiled against a fixed six-node tailnet
// (users, tags, a subnet router, an exit node, IPv4 and IPv6), its tests are run, and then the
// differential property: on fixed packets, and on packets at the edges of every compiled entry
// (first and last source, ports on either side of each range), each node's compiled filter decides
// as the reference evaluator; CanSee and ForEachViewer agree with it on every pair of nodes.
// Bytes that are not a policy are also read as choices that write one (GeneratedPolicy), so that
// the property is fuzzed on many policies and not only on the few mutations that still parse.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "meshvpn/acl/compiled_policy.h"
#include "meshvpn/acl/evaluator.h"
#include "meshvpn/acl/inventory.h"
#include "meshvpn/acl/policy.h"
#include "meshvpn/acl/policy_tests.h"
#include "meshvpn/acl/query.h"
#include "meshvpn/acl/route_approval.h"

namespace {

using namespace meshvpn::acl;

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "acl_policy fuzzer: %s\n", what);
    std::abort();
  }
}

Address A(const char* text) { return *ParseAddress(text); }
Prefix P(const char* text) { return *ParsePrefix(text); }

// Users and tags the seed policies name (Headscale's capture users, the docs' alice and bob).
const Inventory& FixedInventory() {
  static const Inventory* inventory = [] {
    std::vector<InventoryNode> nodes(6);
    nodes[0] = {1,  "bulbasaur", "odin@example.com", {}, {A("100.64.0.1"), A("fd7a:115c:a1e0::1")},
                {}, {}};
    nodes[1] = {2, "odin-phone", "odin@example.com", {}, {A("100.64.0.2")}, {}, {}};
    nodes[2] = {3,  "ivysaur", "thor@example.org", {}, {A("100.64.0.3"), A("fd7a:115c:a1e0::3")},
                {}, {}};
    nodes[3] = {4,
                "beedrill",
                "alice@example.com",
                {"tag:server", "tag:prod"},
                {A("100.64.0.4"), A("fd7a:115c:a1e0::4")},
                {},
                {}};
    nodes[4] = {5,
                "caterpie",
                "odin@example.com",
                {"tag:router"},
                {A("100.64.0.5"), A("fd7a:115c:a1e0::5")},
                {P("10.0.0.0/8"), P("192.168.1.0/24"), P("fd00:1::/64")},
                {P("10.0.0.0/8"), P("10.33.0.0/16"), P("192.168.1.0/24"), P("0.0.0.0/0")}};
    // An untagged exit node: its user's own device that also routes for the internet.
    nodes[5] = {6,
                "charmander",
                "bob@example.com",
                {},
                {A("100.64.0.6"), A("fd7a:115c:a1e0::6")},
                {P("0.0.0.0/0"), P("::/0")},
                {P("0.0.0.0/0"), P("::/0"), P("172.16.0.0/12")}};
    return new Inventory(std::move(nodes));
  }();
  return *inventory;
}

// acl-engine's policy, for the queries and inventories the fuzzer reads.
const Policy& FixedPolicy() {
  static const Policy* policy = new Policy(*ParsePolicy(R"({
    "groups": {"group:devs": ["alice@example.com", "bob@example.com"],
               "group:ops": ["charlie@example.com"]},
    "tagOwners": {"tag:dev-servers": ["group:ops"], "tag:prod": ["group:ops"]},
    "acls": [
      {"action": "accept", "src": ["group:devs"], "dst": ["tag:dev-servers:*"]},
      {"action": "accept", "src": ["group:ops"], "dst": ["*:*"]},
      {"action": "accept", "src": ["*"], "dst": ["*:443", "*:80"]},
      {"action": "accept", "src": ["autogroup:member"], "dst": ["autogroup:self:22"]},
    ],
  })"));
  return *policy;
}

struct Packet {
  Address src, dst;
  uint8_t protocol;
  uint16_t port;
};

// Addresses a packet arriving at `node` may be sent to: its own, and some behind its routes.
std::vector<Address> DestinationsOf(const InventoryNode& node) {
  std::vector<Address> out = node.ips;
  for (const Prefix& r : node.routes) {
    if (r.length == 0) {
      if (r.address.is_v4()) {
        for (const char* a : {"8.8.8.8", "192.168.0.1", "10.1.2.3"}) out.push_back(A(a));
      } else {
        for (const char* a : {"2001:db8::1", "fd00::1"}) out.push_back(A(a));
      }
      continue;
    }
    Address inside = r.address;
    if (r.length < r.address.bits()) inside.value += 1;
    out.push_back(inside);
    out.push_back(r.last());
  }
  return out;
}

std::vector<Address> Sources(const Inventory& inventory) {
  std::vector<Address> out;
  for (const InventoryNode& n : inventory.nodes())
    out.insert(out.end(), n.ips.begin(), n.ips.end());
  for (const char* a : {"10.1.0.7", "192.168.1.3", "203.0.113.9", "100.64.0.200",
                        "fd7a:115c:a1e0::99", "2001:db8::7", "fd00:1::9"}) {
    out.push_back(A(a));
  }
  return out;
}

// The first or last address of interval `k` (modulo their number) of `set` in `family`, if any.
bool Edge(const AddressSet& set, Family family, size_t k, bool last, Address* out) {
  if (family == Family::kV4) {
    if (set.v4().empty()) return false;
    const auto& iv = set.v4()[k % set.v4().size()];
    *out = Address::V4(last ? iv.last : iv.first);
  } else {
    if (set.v6().empty()) return false;
    const auto& iv = set.v6()[k % set.v6().size()];
    *out = Address::V6(last ? iv.last : iv.first);
  }
  return true;
}

// Packets at the edges of the node's compiled entries, where an off-by-one would show: an edge of
// one of the entry's source intervals to an edge of its destination, one of its protocols (or
// ICMP), on its first and last port and the ports just outside them. `k` rotates the choices.
void AddEdgePackets(const std::vector<FilterEntry>& entries, size_t& k, std::vector<Packet>& out) {
  const size_t stride = entries.size() / 8 + 1;
  for (size_t i = 0; i < entries.size(); i += stride) {
    const FilterEntry& e = entries[i];
    if (e.src == nullptr) continue;
    const std::vector<uint8_t> protocols = e.protocols.ToVector();
    std::vector<uint16_t> ports = {e.ports.first, e.ports.last};
    if (e.ports.first > 0) ports.push_back(static_cast<uint16_t>(e.ports.first - 1));
    if (e.ports.last < 65535) ports.push_back(static_cast<uint16_t>(e.ports.last + 1));
    for (Family family : {Family::kV4, Family::kV6}) {
      Address dst, src;
      if (!Edge(e.dst, family, k, k % 3 == 0, &dst)) continue;
      for (bool last : {false, true}) {
        if (!Edge(*e.src, family, k++, last, &src)) continue;
        uint8_t protocol =
            k % 5 == 0 || protocols.empty() ? ProtocolSet::kIcmp : protocols[k % protocols.size()];
        if (protocol == ProtocolSet::kIcmp && family == Family::kV6) {
          protocol = ProtocolSet::kIcmpV6;
        }
        for (uint16_t port : ports) out.push_back({src, dst, protocol, port});
      }
    }
  }
}

void CheckPackets(const CompiledPolicy& compiled, const Evaluator& reference,
                  const Inventory& inventory) {
  struct Service {
    uint8_t protocol;
    uint16_t port;
  };
  static constexpr Service kServices[] = {{6, 22},     {6, 443}, {17, 53},  {6, 5432}, {1, 0},
                                          {132, 9000}, {47, 0},  {6, 8050}, {17, 0},   {6, 65535}};
  const std::vector<Address> sources = Sources(inventory);
  const auto& nodes = inventory.nodes();
  size_t k = 0;
  for (size_t d = 0; d < nodes.size(); ++d) {
    std::vector<Packet> packets;
    for (const Address& dst : DestinationsOf(nodes[d])) {
      for (size_t i = k % 3; i < sources.size(); i += 3) {  // a third of them, rotating
        const Address& src = sources[i];
        if (src.family != dst.family) continue;
        Service s = kServices[k++ % std::size(kServices)];
        if (s.protocol == ProtocolSet::kIcmp && !dst.is_v4()) s.protocol = ProtocolSet::kIcmpV6;
        packets.push_back({src, dst, s.protocol, s.port});
      }
    }
    AddEdgePackets(compiled.entries(static_cast<int>(d)), k, packets);
    const PacketFilter& filter = compiled.filter(static_cast<int>(d));
    for (const Packet& p : packets) {
      const bool want = reference.AllowsPacket(nodes[d], p.src, p.dst, p.protocol, p.port);
      const bool got = filter.Allows(p.src, p.dst, p.protocol, p.port);
      if (got != want) {
        std::fprintf(stderr, "at %s: %s -> %s proto %d port %d: compiled %d, reference %d\n",
                     nodes[d].name.c_str(), p.src.ToString().c_str(), p.dst.ToString().c_str(),
                     p.protocol, p.port, got, want);
        Check(false, "the compiled filter and the reference evaluator disagree");
      }
    }
  }
}

void CheckVisibility(const CompiledPolicy& compiled, const Evaluator& reference,
                     const Inventory& inventory) {
  const auto& nodes = inventory.nodes();
  const int n = static_cast<int>(nodes.size());
  for (int peer = 0; peer < n; ++peer) {
    std::vector<int> expected;
    for (int viewer = 0; viewer < n; ++viewer) {
      const bool want = reference.CanSee(nodes[viewer], nodes[peer]);
      if (compiled.CanSee(viewer, peer) != want) {
        std::fprintf(stderr, "%s sees %s: compiled %d, reference %d\n", nodes[viewer].name.c_str(),
                     nodes[peer].name.c_str(), !want, want);
        Check(false, "CanSee disagrees with the reference evaluator");
      }
      if (want) expected.push_back(viewer);
    }
    std::vector<int> viewers;
    compiled.ForEachViewer(peer, [&](int v) { viewers.push_back(v); });
    std::sort(viewers.begin(), viewers.end());
    Check(viewers == expected, "ForEachViewer disagrees with CanSee");
  }
}

// The same bytes read as choices: a policy written from tables of the forms the fixed tailnet
// gives meaning to (its users, groups, tags, hosts, routes, ports and protocols), so that most
// inputs reach the compiler and the evaluator rather than stopping in the parser.
class Choices {
 public:
  explicit Choices(std::string_view bytes) : bytes_(bytes) {}
  bool done() const { return at_ >= bytes_.size(); }
  size_t Next(size_t n) {
    const size_t b = at_ < bytes_.size() ? static_cast<unsigned char>(bytes_[at_]) : 0;
    ++at_;
    return b % n;
  }
  template <size_t N>
  const char* OneOf(const char* const (&table)[N]) {
    return table[Next(N)];
  }

 private:
  std::string_view bytes_;
  size_t at_ = 0;
};

constexpr const char* kSources[] = {"*",
                                    "autogroup:danger-all",
                                    "autogroup:member",
                                    "autogroup:tagged",
                                    "odin@example.com",
                                    "thor@example.org",
                                    "alice@example.com",
                                    "bob@example.com",
                                    "odin@",
                                    "bob@",
                                    "group:g0",
                                    "group:g1",
                                    "group:empty",
                                    "tag:server",
                                    "tag:prod",
                                    "tag:router",
                                    "tag:unused",
                                    "host-a",
                                    "host-net",
                                    "100.64.0.1",
                                    "100.64.0.0/30",
                                    "10.1.0.0/16",
                                    "192.168.1.0/25",
                                    "fd7a:115c:a1e0::4",
                                    "fd7a:115c:a1e0::/120",
                                    "fd00:1::/64",
                                    "100.64.0.0/10",
                                    "autogroup:admin",
                                    "0.0.0.0/0",
                                    "10.0.0.0/7"};
// Sources an autogroup:self rule takes.
constexpr const char* kSelfSources[] = {"autogroup:member", "odin@example.com", "bob@",
                                        "group:g0",         "group:g1",         "group:empty",
                                        "thor@example.org"};
constexpr const char* kDestinations[] = {"*",
                                         "odin@example.com",
                                         "thor@example.org",
                                         "bob@",
                                         "group:g0",
                                         "group:g1",
                                         "tag:server",
                                         "tag:prod",
                                         "tag:router",
                                         "tag:unused",
                                         "autogroup:member",
                                         "autogroup:tagged",
                                         "autogroup:self",
                                         "autogroup:internet",
                                         "host-a",
                                         "host-net",
                                         "100.64.0.4",
                                         "100.64.0.0/29",
                                         "10.0.0.0/8",
                                         "10.2.3.0/24",
                                         "10.0.0.0/7",
                                         "192.168.1.7",
                                         "192.168.0.0/16",
                                         "fd7a:115c:a1e0::2",
                                         "fd7a:115c:a1e0::/120",
                                         "fd00:1::/48",
                                         "fd00:1::8/125",
                                         "8.8.8.0/24",
                                         "2001:db8::/32",
                                         "::/0",
                                         "0.0.0.0/0",
                                         "172.16.0.0/12"};
constexpr const char* kPorts[] = {"*",      "22",    "80,443", "1000-2000", "22,8000-8100",
                                  "0-1023", "0",     "65535",  "1-65535",   "443-443",
                                  "9000",   "53,54", "5432",   "8050-8051", "1,65534-65535"};
constexpr const char* kProtocols[] = {"",     "",          "",    "tcp", "udp", "icmp", "gre",
                                      "sctp", "ipv6-icmp", "esp", "17",  "0",   "255"};
constexpr const char* kGrantIps[] = {
    "*",       "22",    "tcp:443",     "udp:53",  "icmp:*",      "sctp:9000", "80-90",
    "47:*",    "tcp:*", "udp:1-65535", "6:22,80", "ipv6-icmp:*", "255:*",     "1-1023,8000-9000",
    "tcp:5432"};
constexpr const char* kTestHosts[] = {
    "odin@example.com", "tag:server", "tag:router",        "group:g1",       "host-a", "100.64.0.4",
    "10.1.2.3",         "8.8.8.8",    "fd7a:115c:a1e0::3", "autogroup:self", "bob@"};

std::string Quoted(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", \"" : "\"") + v[i] + "\"";
  return out + "]";
}

std::string GeneratedPolicy(std::string_view bytes) {
  Choices c(bytes);
  std::vector<std::string> acls, grants, tests;
  const size_t rules = 1 + c.Next(8);
  for (size_t r = 0; r < rules && !c.done(); ++r) {
    const bool grant = c.Next(3) == 0;
    std::vector<std::string> src, dst, ip;
    bool self = false;
    const char* proto = grant ? "" : c.OneOf(kProtocols);
    const bool portless = *proto != 0 && !ProtocolSet::HasPorts(*ParseProtocol(proto));
    for (size_t i = 0, n = 1 + c.Next(3); i < n; ++i) {
      std::string host = c.OneOf(kDestinations);
      self |= host == "autogroup:self";
      if (grant) {
        dst.push_back(host);
      } else {
        if (ParseAddress(host).ok() && host.find(':') != std::string::npos) {
          host = "[" + host + "]";  // an IPv6 address before its ports
        }
        dst.push_back(host + ":" + (portless ? "*" : c.OneOf(kPorts)));
      }
    }
    for (size_t i = 0, n = 1 + c.Next(3); i < n; ++i) {
      // An acls rule (not a grant) may narrow "*" to each user's own devices.
      const bool star = self && !grant && c.Next(4) == 0;
      src.push_back(star ? "*" : self ? c.OneOf(kSelfSources) : c.OneOf(kSources));
    }
    if (grant) {
      for (size_t i = 0, n = 1 + c.Next(2); i < n; ++i) ip.push_back(c.OneOf(kGrantIps));
      grants.push_back("{\"src\": " + Quoted(src) + ", \"dst\": " + Quoted(dst) +
                       ", \"ip\": " + Quoted(ip) + "}");
    } else {
      std::string rule =
          "{\"action\": \"accept\", \"src\": " + Quoted(src) + ", \"dst\": " + Quoted(dst);
      if (*proto != 0) rule += std::string(", \"proto\": \"") + proto + "\"";
      acls.push_back(rule + "}");
    }
  }
  for (size_t t = 0, n = c.Next(3); t < n && !c.done(); ++t) {
    tests.push_back(std::string("{\"src\": \"") + c.OneOf(kSelfSources) + "\", \"accept\": [\"" +
                    c.OneOf(kTestHosts) + ":22\"], \"deny\": [\"" + c.OneOf(kTestHosts) +
                    ":443\"]}");
  }
  auto join = [](const std::vector<std::string>& v) {
    std::string out;
    for (const std::string& s : v) out += s + ",\n";
    return out;
  };
  return std::string(
             "{\n\"groups\": {\"group:g0\": [\"odin@example.com\", \"thor@example.org\"], ") +
         "\"group:g1\": [\"bob@\", \"alice@example.com\"], \"group:empty\": []},\n" +
         "\"tagOwners\": {\"tag:server\": [\"odin@example.com\"], \"tag:prod\": [\"group:g0\"], " +
         "\"tag:router\": [\"tag:server\"], \"tag:unused\": []},\n" +
         "\"hosts\": {\"host-a\": \"100.64.0.3\", \"host-net\": \"10.0.0.0/12\"},\n" +
         "\"autoApprovers\": {\"routes\": {\"10.0.0.0/8\": [\"tag:router\"]}, " +
         "\"exitNode\": [\"bob@\"]},\n" + "\"acls\": [\n" + join(acls) + "],\n\"grants\": [\n" +
         join(grants) + "],\n\"tests\": [\n" + join(tests) + "],\n}\n";
}

// Returns whether the policy parsed.
bool FuzzPolicy(std::string_view text) {
  std::vector<PolicyIssue> issues;
  absl::StatusOr<Policy> policy = ParsePolicy(text, &issues);
  if (!policy.ok()) {
    Check(policy.status().code() == absl::StatusCode::kInvalidArgument, "not InvalidArgument");
    Check(!issues.empty(), "an error without an issue");
    return false;
  }
  Check(issues.empty(), "issues but no error");
  for (const Rule& r : policy->rules) {
    Check(!r.Label().empty() && !r.Summary().empty(), "a rule without a label");
  }
  const Inventory& inventory = FixedInventory();
  for (const InventoryNode& node : inventory.nodes()) {
    for (const Prefix& route : AutoApprovedRoutes(*policy, node)) {
      Check(
          std::find(node.advertised.begin(), node.advertised.end(), route) != node.advertised.end(),
          "an approved route that was not advertised");
    }
  }
  const std::vector<TestOutcome> outcomes = RunPolicyTests(*policy, inventory);
  const bool all_passed =
      std::all_of(outcomes.begin(), outcomes.end(), [](const TestOutcome& o) { return o.passed; });
  Check(CheckPolicyTests(*policy, inventory).ok() == all_passed, "CheckPolicyTests disagrees");
  RunPolicyTests(*policy, Inventory());

  const CompiledPolicy compiled = CompiledPolicy::Compile(*policy, inventory);
  Check(compiled.node_count() == inventory.size(), "a compiled policy of the wrong size");
  const Evaluator reference(*policy, inventory);
  CheckPackets(compiled, reference, inventory);
  CheckVisibility(compiled, reference, inventory);
  return true;
}

void FuzzInventory(std::string_view text) {
  absl::StatusOr<Inventory> inventory = ParseInventory(text);
  if (!inventory.ok()) {
    Check(inventory.status().code() == absl::StatusCode::kInvalidArgument, "not InvalidArgument");
    return;
  }
  const auto& nodes = inventory->nodes();
  for (size_t i = 0; i < nodes.size(); ++i) {
    Check(inventory->FindByName(nodes[i].name) == static_cast<int>(i), "FindByName");
    for (const Address& a : nodes[i].ips) {
      Check(inventory->FindByAddress(a) == static_cast<int>(i), "FindByAddress");
    }
  }
  if (nodes.size() > 16) return;
  const CompiledPolicy compiled = CompiledPolicy::Compile(FixedPolicy(), *inventory);
  const Evaluator reference(FixedPolicy(), *inventory);
  CheckVisibility(compiled, reference, *inventory);
}

void FuzzQuery(std::string_view text) {
  absl::StatusOr<Query> query = ParseQuery(text);
  if (!query.ok()) {
    Check(query.status().code() == absl::StatusCode::kInvalidArgument, "not InvalidArgument");
    return;
  }
  const Evaluator evaluator(FixedPolicy(), FixedInventory());
  absl::StatusOr<QueryAnswer> answer = Answer(*query, evaluator, FixedInventory());
  if (!answer.ok()) {
    Check(answer.status().code() == absl::StatusCode::kNotFound, "not NotFound");
    return;
  }
  Check(answer->flows.empty() || answer->decided_flow < static_cast<int>(answer->flows.size()),
        "decided_flow out of range");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // Input that is not a policy is also read as choices for one.
  if (!FuzzPolicy(text)) FuzzPolicy(GeneratedPolicy(text));
  FuzzInventory(text);
  FuzzQuery(text);
  return 0;
}
