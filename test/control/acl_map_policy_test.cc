// A tailnet policy in the control plane: AclMapPolicy over the server's nodes, the packet filter
// on the wire (ToFilterRules / FromFilterRules keep every decision), and a policy swap that
// reaches each connected node as a delta: a peer it may no longer see is removed, a peer it may
// now see is added, and its packet filter is replaced.
#include "meshvpn/control/acl_map_policy.h"

#include <catch2/catch.hpp>
#include <map>
#include <random>

#include "meshvpn/acl/evaluator.h"
#include "meshvpn/control/filter_rules.h"
#include "meshvpn/control/map_builder.h"
#include "meshvpn/control/netmap.h"
#include "meshvpn/control/protocol.h"

namespace meshvpn::control {
namespace {

v1::Node MakeNode(uint64_t id, uint64_t user, std::vector<std::string> tags = {}) {
  v1::Node n;
  n.set_id(id);
  n.set_name("node" + std::to_string(id));
  n.set_user_id(user);
  n.set_node_key(std::string(32, static_cast<char>(id)));
  n.add_addresses("100.64.0." + std::to_string(id) + "/32");
  n.add_addresses("fd7a:115c:a1e0::" + std::to_string(id) + "/128");
  n.add_allowed_ips("100.64.0." + std::to_string(id) + "/32");
  for (std::string& t : tags) n.add_tags(std::move(t));
  return n;
}

std::shared_ptr<const acl::Policy> Parse(const std::string& text) {
  absl::StatusOr<acl::Policy> p = acl::ParsePolicy(text);
  INFO(p.status().ToString());
  REQUIRE(p.ok());
  return std::make_shared<const acl::Policy>(std::move(*p));
}

const absl::flat_hash_map<uint64_t, std::string> kUsers = {{1, "alice"}, {2, "bob"}, {3, "carol"}};

v1::MapResponse Decode(const std::string& envelope) {
  absl::StatusOr<v1::Envelope> e = DecodeEnvelope(AsBytes(envelope));
  REQUIRE(e.ok());
  REQUIRE(e->has_map_response());
  return e->map_response();
}

}  // namespace

TEST_CASE("AclMapPolicy: visibility and filters follow the policy", "[acl_policy]") {
  const std::vector<v1::Node> nodes = {MakeNode(1, 1), MakeNode(2, 2), MakeNode(3, 3, {"tag:db"})};
  auto policy = AclMapPolicy::Build(Parse(R"({
    "tagOwners": {"tag:db": ["carol@"]},
    "acls": [{"action": "accept", "src": ["alice@"], "dst": ["bob@:22", "tag:db:5432"]}],
  })"),
                                    nodes, kUsers);
  CHECK(policy->CanSee(nodes[0], nodes[1]));
  CHECK(policy->CanSee(nodes[1], nodes[0]));  // either may send: both see each other
  CHECK(policy->CanSee(nodes[0], nodes[2]));
  CHECK_FALSE(policy->CanSee(nodes[1], nodes[2]));
  // Bob's filter: alice's two addresses to bob's, port 22.
  const std::vector<v1::FilterRule> bob = policy->PacketFilter(nodes[1]);
  REQUIRE(bob.size() == 1);
  CHECK(std::vector<std::string>(bob[0].src_ips().begin(), bob[0].src_ips().end()) ==
        std::vector<std::string>{"100.64.0.1/32", "fd7a:115c:a1e0::1/128"});
  REQUIRE(bob[0].dst_ports_size() == 2);
  CHECK(bob[0].dst_ports(0).ip() == "100.64.0.2/32");
  CHECK(bob[0].dst_ports(0).first() == 22);
  CHECK(bob[0].dst_ports(0).last() == 22);
  CHECK(bob[0].ip_protocols().empty());           // the default protocols
  CHECK(policy->PacketFilter(nodes[0]).empty());  // nothing may reach alice
  std::vector<uint64_t> viewers;
  CHECK(policy->ForEachPossibleViewer(nodes[0], [&](uint64_t id) { viewers.push_back(id); }));
  std::sort(viewers.begin(), viewers.end());
  CHECK(viewers == std::vector<uint64_t>{2, 3});
}

TEST_CASE("filter rules on the wire keep every decision", "[acl_policy]") {
  std::vector<v1::Node> nodes;
  for (uint64_t i = 1; i <= 12; ++i) {
    nodes.push_back(
        MakeNode(i, 1 + i % 3,
                 i % 4 == 0 ? std::vector<std::string>{"tag:web"} : std::vector<std::string>{}));
  }
  auto policy = AclMapPolicy::Build(Parse(R"({
    "groups": {"group:eng": ["alice@", "bob@"]},
    "tagOwners": {"tag:web": ["alice@"]},
    "acls": [
      {"action": "accept", "src": ["group:eng"], "dst": ["tag:web:80,443", "carol@:1000-2000"]},
      {"action": "accept", "src": ["*"], "dst": ["tag:web:8080"], "proto": "udp"},
      {"action": "accept", "src": ["*"], "dst": ["autogroup:self:*"]},
      {"action": "accept", "src": ["100.64.0.0/29"], "dst": ["bob@:5000-6000"]},
    ],
    "grants": [{"src": ["carol@"], "dst": ["tag:web"], "ip": ["icmp:*", "tcp:22"]}],
  })"),
                                    nodes, kUsers);
  const acl::Evaluator reference(policy->policy(), policy->inventory());
  std::mt19937 rng(7);
  size_t allowed = 0, tried = 0;
  for (const v1::Node& n : nodes) {
    absl::StatusOr<std::vector<acl::FilterEntry>> entries =
        FromFilterRules(policy->PacketFilter(n));
    REQUIRE(entries.ok());
    const acl::PacketFilter filter = acl::PacketFilter::Build(*entries);
    const acl::InventoryNode& receiver = policy->inventory().nodes()[n.id() - 1];
    for (int k = 0; k < 300; ++k) {
      const acl::Address src = policy->inventory().nodes()[rng() % nodes.size()].ips[rng() % 2];
      const acl::Address dst = receiver.ips[rng() % 2];
      const uint8_t proto = std::vector<uint8_t>{6, 17, 1, 58}[rng() % 4];
      const uint16_t port =
          std::vector<uint16_t>{22, 80, 443, 999, 1000, 1500, 2001, 5000, 6001, 8080}[rng() % 10];
      INFO(src.ToString() << " -> " << dst.ToString() << " " << int{proto} << ":" << port);
      const bool want = reference.AllowsPacket(receiver, src, dst, proto, port);
      REQUIRE(filter.Allows(src, dst, proto, port) == want);
      allowed += want;
      ++tried;
    }
  }
  CHECK(allowed > tried / 20);
  CHECK(allowed < tried / 2);
  // Bad rules are refused, not half-read.
  v1::FilterRule bad;
  bad.add_src_ips("100.64.0.1/33");
  CHECK_FALSE(FromFilterRules({bad}).ok());
  v1::FilterRule bad_ports;
  bad_ports.add_src_ips("*");
  auto* range = bad_ports.add_dst_ports();
  range->set_ip("*");
  range->set_first(10);
  range->set_last(70000);
  CHECK_FALSE(FromFilterRules({bad_ports}).ok());
}

TEST_CASE("a new policy reaches every connected node as a delta", "[acl_policy]") {
  const std::vector<v1::Node> nodes = {MakeNode(1, 1), MakeNode(2, 2), MakeNode(3, 3)};
  auto first = AclMapPolicy::Build(
      Parse(R"({"acls": [{"action": "accept", "src": ["alice@"], "dst": ["bob@:*"]}]})"), nodes,
      kUsers);
  auto second = AclMapPolicy::Build(
      Parse(R"({"acls": [{"action": "accept", "src": ["alice@"], "dst": ["carol@:22"]}]})"), nodes,
      kUsers);
  MapBuilder builder(first.get());
  for (const v1::Node& n : nodes) builder.UpsertNode(n);
  std::map<uint64_t, Netmap> held;
  for (const v1::Node& n : nodes) {
    absl::StatusOr<std::string> full = builder.OpenSession(n.id());
    REQUIRE(full.ok());
    REQUIRE(held[n.id()].Apply(Decode(*full)).ok());
  }
  (void)builder.TakeDirtySessions();
  CHECK(held[1].peer(2) != nullptr);
  CHECK(held[1].peer(3) == nullptr);
  CHECK(held[2].packet_filter().size() == 1);
  const uint64_t full_maps = builder.stats().full_maps;

  builder.SetPolicy(second.get());
  std::map<uint64_t, v1::MapResponse> deltas;
  for (uint64_t id : builder.TakeDirtySessions()) {
    deltas[id] = Decode(builder.TakeUpdate(id));
    REQUIRE(held[id].Apply(deltas[id]).ok());
  }
  CHECK(builder.stats().full_maps == full_maps);  // no full map: deltas only
  REQUIRE(deltas.size() == 3);
  CHECK_FALSE(deltas[1].full());
  CHECK(deltas[1].peers_removed_size() == 1);
  CHECK(deltas[1].peers_removed(0) == 2);
  REQUIRE(deltas[1].peers_changed_size() == 1);
  CHECK(deltas[1].peers_changed(0).id() == 3);
  CHECK(deltas[2].peers_removed_size() == 1);  // bob loses alice
  CHECK(deltas[2].packet_filter_set());
  CHECK(deltas[2].packet_filter_size() == 0);  // and may now receive nothing
  CHECK(deltas[3].peers_changed_size() == 1);  // carol gains alice
  CHECK(deltas[3].packet_filter_set());
  CHECK(deltas[3].packet_filter_size() == 1);
  CHECK(held[1].peer(2) == nullptr);
  CHECK(held[1].peer(3) != nullptr);
  CHECK(held[2].peer(1) == nullptr);
  CHECK(held[3].peer(1) != nullptr);
  // Alice's own filter did not change (nothing may reach her either way): not re-sent.
  CHECK_FALSE(deltas[1].packet_filter_set());
}

}  // namespace meshvpn::control
