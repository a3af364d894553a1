// The compiled packet filter and visibility against the reference evaluator, on random policies
// (written as policy text, so they go through the parser) over random inventories: for every
// packet tried, both decide alike; for every pair of nodes, both agree on who sees whom.
#include <catch2/catch.hpp>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "meshvpn/acl/compiled_policy.h"
#include "meshvpn/acl/evaluator.h"
#include "meshvpn/acl/policy.h"

namespace meshvpn::acl {
namespace {

class RandomTailnet {
 public:
  explicit RandomTailnet(uint32_t seed) : rng_(seed) {}

  int Pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  bool Coin(int percent) { return Pick(100) < percent; }
  template <typename T>
  const T& OneOf(const std::vector<T>& v) {
    return v[Pick(static_cast<int>(v.size()))];
  }

  std::vector<InventoryNode> Nodes() {
    std::vector<InventoryNode> nodes;
    const int count = 3 + Pick(10);
    for (int i = 0; i < count; ++i) {
      InventoryNode n;
      n.id = i + 1;
      n.name = absl::StrCat("node", i);
      n.user = absl::StrCat("u", Pick(4), "@example.com");
      if (Coin(35)) {
        n.tags.push_back(absl::StrCat("tag:t", Pick(3)));
        if (Coin(30)) n.tags.push_back(absl::StrCat("tag:t", 3));
      }
      n.ips.push_back(*ParseAddress(absl::StrCat("100.64.0.", i + 1)));
      if (Coin(80)) n.ips.push_back(*ParseAddress(absl::StrCat("fd7a:115c:a1e0::", i + 1)));
      if (Coin(20)) n.routes.push_back(*ParsePrefix(absl::StrCat("10.", Pick(3), ".0.0/16")));
      if (Coin(10)) n.routes.push_back(*ParsePrefix("192.168.1.0/24"));
      if (Coin(15)) {
        n.routes.push_back(*ParsePrefix("0.0.0.0/0"));
        if (Coin(60)) n.routes.push_back(*ParsePrefix("::/0"));
      }
      nodes.push_back(std::move(n));
    }
    return nodes;
  }

  std::string Source(bool self_rule, bool grant) {
    std::vector<std::string> forms = {"u0@example.com", "u1@example.com", "u2@",
                                      "group:g0",       "group:g1",       "autogroup:member"};
    if (!self_rule || !grant) forms.push_back("*");
    if (!self_rule) {
      for (const char* f : {"tag:t0", "tag:t1", "tag:t3", "autogroup:tagged", "host0", "host1",
                            "100.64.0.2", "100.64.0.0/29", "10.1.0.0/16", "fd7a:115c:a1e0::3",
                            "autogroup:danger-all", "192.168.1.0/25"}) {
        forms.push_back(f);
      }
    }
    return OneOf(forms);
  }

  std::string DestinationHost() {
    return OneOf<std::string>({"*", "u0@example.com", "u3@example.com", "group:g0", "tag:t0",
                               "tag:t2", "autogroup:member", "autogroup:tagged", "autogroup:self",
                               "autogroup:internet", "host0", "host1", "100.64.0.3",
                               "100.64.0.4/30", "10.0.0.0/8", "10.2.3.0/24", "192.168.1.7",
                               "[fd7a:115c:a1e0::2]", "fd7a:115c:a1e0::/120"});
  }

  std::string Ports() {
    return OneOf<std::string>({"*", "22", "80,443", "1000-2000", "22,8000-8100", "0-1023"});
  }

  std::string Quoted(const std::vector<std::string>& v) {
    std::vector<std::string> q;
    for (const std::string& s : v) q.push_back(absl::StrCat("\"", s, "\""));
    return absl::StrCat("[", absl::StrJoin(q, ", "), "]");
  }

  std::string Acl() {
    std::vector<std::string> dst;
    bool self = false;
    std::string proto;
    const int p = Pick(10);
    if (p == 0) proto = "tcp";
    if (p == 1) proto = "udp";
    if (p == 2) proto = "icmp";
    if (p == 3) proto = "gre";
    if (p == 4) proto = "sctp";
    const bool portless = proto == "icmp" || proto == "gre";
    for (int i = 0, n = 1 + Pick(3); i < n; ++i) {
      std::string host = DestinationHost();
      self |= host == "autogroup:self";
      dst.push_back(absl::StrCat(host, ":", portless ? "*" : Ports()));
    }
    std::vector<std::string> src;
    for (int i = 0, n = 1 + Pick(3); i < n; ++i) src.push_back(Source(self, false));
    std::string rule =
        absl::StrCat("{\"action\": \"accept\", \"src\": ", Quoted(src), ", \"dst\": ", Quoted(dst));
    if (!proto.empty()) absl::StrAppend(&rule, ", \"proto\": \"", proto, "\"");
    return rule + "}";
  }

  std::string Grant() {
    std::vector<std::string> dst, ip;
    bool self = false;
    for (int i = 0, n = 1 + Pick(2); i < n; ++i) {
      std::string host = DestinationHost();
      if (host == "[fd7a:115c:a1e0::2]") host = "fd7a:115c:a1e0::2";
      self |= host == "autogroup:self";
      dst.push_back(host);
    }
    for (int i = 0, n = 1 + Pick(2); i < n; ++i) {
      ip.push_back(OneOf<std::string>(
          {"*", "22", "tcp:443", "udp:53", "icmp:*", "sctp:9000", "80-90", "47:*"}));
    }
    std::vector<std::string> src;
    for (int i = 0, n = 1 + Pick(2); i < n; ++i) src.push_back(Source(self, true));
    return absl::StrCat("{\"src\": ", Quoted(src), ", \"dst\": ", Quoted(dst),
                        ", \"ip\": ", Quoted(ip), "}");
  }

  std::string PolicyText() {
    std::vector<std::string> acls, grants;
    for (int i = 0, n = Pick(5); i < n; ++i) acls.push_back(Acl());
    for (int i = 0, n = Pick(3); i < n; ++i) grants.push_back(Grant());
    if (acls.empty() && grants.empty()) acls.push_back(Acl());
    return absl::StrCat(
        "{\n\"groups\": {\"group:g0\": [\"u0@example.com\", \"u1@example.com\"], ",
        "\"group:g1\": [\"u2@example.com\"]},\n",
        "\"tagOwners\": {\"tag:t0\": [\"u0@example.com\"], \"tag:t1\": [\"group:g0\"], ",
        "\"tag:t2\": [\"tag:t0\"], \"tag:t3\": []},\n",
        "\"hosts\": {\"host0\": \"100.64.0.5\", \"host1\": \"10.0.0.0/12\"},\n", "\"acls\": [",
        absl::StrJoin(acls, ",\n"), "],\n", "\"grants\": [", absl::StrJoin(grants, ",\n"), "],\n}");
  }

  // An address a packet to `receiver` may carry as its destination.
  Address DestinationFor(const InventoryNode& receiver) {
    if (receiver.routes.empty() || Coin(60)) return OneOf(receiver.ips);
    const Prefix& r = OneOf(receiver.routes);
    if (r.length == 0) {
      if (r.address.is_v4()) {
        return OneOf<Address>({*ParseAddress("8.8.8.8"), *ParseAddress("10.1.2.3"),
                               *ParseAddress("192.168.1.9"), *ParseAddress("1.1.1.1")});
      }
      return OneOf<Address>({*ParseAddress("2001:db8::1"), *ParseAddress("fd00::1")});
    }
    Address a = r.address;
    const int host_bits = a.bits() - r.length;
    a.value |= static_cast<Uint128>(Pick(1 << std::min(host_bits, 12)));
    return a;
  }

  Address AnySource(const std::vector<InventoryNode>& nodes) {
    if (Coin(70)) return OneOf(OneOf(nodes).ips);
    return OneOf<Address>({*ParseAddress("10.1.0.7"), *ParseAddress("10.0.5.5"),
                           *ParseAddress("192.168.1.3"), *ParseAddress("100.64.0.200"),
                           *ParseAddress("203.0.113.9"), *ParseAddress("fd7a:115c:a1e0::99"),
                           *ParseAddress("2001:db8::7")});
  }

 private:
  std::mt19937 rng_;
};

}  // namespace

TEST_CASE("compiled filters and visibility agree with the reference on random policies",
          "[acl][differential]") {
  size_t policies = 0, packets = 0, allowed = 0, pairs = 0, visible = 0;
  for (uint32_t seed = 1; seed <= 400; ++seed) {
    RandomTailnet gen(seed);
    const std::string text = gen.PolicyText();
    absl::StatusOr<Policy> policy = ParsePolicy(text);
    INFO("seed " << seed << "\n" << text);
    REQUIRE(policy.ok());
    const Inventory inventory(gen.Nodes());
    const CompiledPolicy compiled = CompiledPolicy::Compile(*policy, inventory);
    const Evaluator reference(*policy, inventory);
    ++policies;
    const auto& nodes = inventory.nodes();
    for (int d = 0; d < static_cast<int>(nodes.size()); ++d) {
      for (int k = 0; k < 60; ++k) {
        const Address src = gen.AnySource(nodes);
        const Address dst = gen.DestinationFor(nodes[d]);
        const uint8_t protocol = gen.OneOf<uint8_t>({6, 6, 17, 1, 58, 132, 47, 50});
        // Every range's edges and their neighbours, where off-by-one mistakes show.
        const uint16_t port = gen.OneOf<uint16_t>(
            {0,    1,    21,   22,   23,   52,   53,   54,   79,    80,   81,   89,
             90,   91,   442,  443,  444,  999,  1000, 1023, 1024,  1500, 2000, 2001,
             7999, 8000, 8050, 8100, 8101, 8999, 9000, 9001, 65534, 65535});
        const bool want = reference.AllowsPacket(nodes[d], src, dst, protocol, port);
        const bool got = compiled.filter(d).Allows(src, dst, protocol, port);
        INFO("packet " << src.ToString() << " -> " << dst.ToString() << " proto " << int{protocol}
                       << " port " << port << " at " << nodes[d].name);
        REQUIRE(got == want);
        ++packets;
        allowed += want;
      }
      for (int v = 0; v < static_cast<int>(nodes.size()); ++v) {
        const bool want = reference.CanSee(nodes[v], nodes[d]);
        INFO("visibility " << nodes[v].name << " sees " << nodes[d].name);
        REQUIRE(compiled.CanSee(v, d) == want);
        ++pairs;
        visible += want;
      }
      std::vector<int> viewers;
      compiled.ForEachViewer(d, [&](int v) { viewers.push_back(v); });
      std::sort(viewers.begin(), viewers.end());
      std::vector<int> expected;
      for (int v = 0; v < static_cast<int>(nodes.size()); ++v) {
        if (reference.CanSee(nodes[v], nodes[d])) expected.push_back(v);
      }
      REQUIRE(viewers == expected);
    }
  }
  // The random policies must exercise both answers, or the comparison proves little.
  CHECK(policies == 400);
  CHECK(allowed > packets / 20);
  CHECK(allowed < packets * 9 / 10);
  CHECK(visible > pairs / 10);
  CHECK(visible < pairs * 9 / 10);
}

}  // namespace meshvpn::acl
