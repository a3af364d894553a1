// Netmap: a full map, then deltas (whole nodes, removals, patches), and the streams it refuses.
#include "meshvpn/control/netmap.h"

#include <catch2/catch.hpp>

namespace meshvpn::control {
namespace {

v1::Node MakeNode(uint64_t id, std::string endpoint = "203.0.113.1:41641") {
  v1::Node n;
  n.set_id(id);
  n.set_name("node" + std::to_string(id));
  n.add_addresses("100.64.0." + std::to_string(id) + "/32");
  n.add_endpoints(std::move(endpoint));
  n.set_home_derp_region(900);
  return n;
}

v1::MapResponse Full(uint64_t seq, std::vector<uint64_t> peers) {
  v1::MapResponse r;
  r.set_seq(seq);
  r.set_full(true);
  *r.mutable_node() = MakeNode(1);
  for (uint64_t id : peers) *r.add_peers() = MakeNode(id);
  (*r.mutable_derp_map()->mutable_regions())[900].set_region_id(900);
  r.set_packet_filter_set(true);
  r.add_packet_filter()->add_src_ips("*");
  r.set_domain("mesh.internal");
  return r;
}

TEST_CASE("a full map, then deltas", "[control][netmap]") {
  Netmap map;
  NetmapChange change;
  REQUIRE(map.Apply(Full(1, {2, 3, 4}), &change).ok());
  CHECK(change.full);
  CHECK(change.peers_added == std::vector<uint64_t>{2, 3, 4});
  CHECK(map.peers().size() == 3);
  CHECK(map.self().id() == 1);
  CHECK(map.derp_map().regions().contains(900));
  CHECK(map.packet_filter().size() == 1);
  CHECK(map.domain() == "mesh.internal");

  v1::MapResponse delta;
  delta.set_seq(2);
  delta.add_peers_removed(3);
  *delta.add_peers_changed() = MakeNode(5);
  v1::PeerChange* patch = delta.add_peers_patch();
  patch->set_node_id(2);
  patch->mutable_endpoints()->add_endpoints("198.51.100.9:1");
  patch->set_online(true);
  REQUIRE(map.Apply(delta, &change).ok());
  CHECK_FALSE(change.full);
  CHECK(change.peers_removed == std::vector<uint64_t>{3});
  CHECK(change.peers_added == std::vector<uint64_t>{5});
  CHECK(change.peers_changed == std::vector<uint64_t>{2});
  CHECK(map.peer(3) == nullptr);
  REQUIRE(map.peer(2) != nullptr);
  CHECK(map.peer(2)->endpoints_size() == 1);
  CHECK(map.peer(2)->endpoints(0) == "198.51.100.9:1");
  CHECK(map.peer(2)->online());
  CHECK(map.peer(2)->home_derp_region() == 900);  // absent from the patch: unchanged
  CHECK(map.packet_filter().size() == 1);         // not set in the delta: unchanged

  v1::MapResponse keepalive;
  keepalive.set_seq(3);
  keepalive.set_keep_alive(true);
  REQUIRE(map.Apply(keepalive, &change).ok());
  CHECK(change.keep_alive);
  CHECK(map.seq() == 3);

  v1::MapResponse filter;
  filter.set_seq(4);
  filter.set_packet_filter_set(true);  // and no rules: nothing may reach this node
  REQUIRE(map.Apply(filter, &change).ok());
  CHECK(change.packet_filter_changed);
  CHECK(map.packet_filter().empty());

  SECTION("a new full map replaces everything") {
    REQUIRE(map.Apply(Full(10, {7}), &change).ok());
    CHECK(map.peers().size() == 1);
    CHECK(map.peer(7) != nullptr);
    CHECK(map.packet_filter().size() == 1);
  }
}

TEST_CASE("streams a Netmap refuses, changing nothing", "[control][netmap]") {
  Netmap map;
  v1::MapResponse delta;
  delta.set_seq(1);
  *delta.add_peers_changed() = MakeNode(2);
  CHECK(map.Apply(delta).code() == absl::StatusCode::kFailedPrecondition);  // no full map yet
  REQUIRE(map.Apply(Full(5, {2, 3})).ok());

  v1::MapResponse bad;
  SECTION("seq not increasing") { bad.set_seq(5); }
  SECTION("removal of an unknown peer") {
    bad.set_seq(6);
    bad.add_peers_removed(99);
  }
  SECTION("patch of an unknown peer") {
    bad.set_seq(6);
    bad.add_peers_patch()->set_node_id(99);
  }
  SECTION("patch of a peer removed in the same message") {
    bad.set_seq(6);
    bad.add_peers_removed(2);
    bad.add_peers_patch()->set_node_id(2);
  }
  SECTION("peers in a delta") {
    bad.set_seq(6);
    *bad.add_peers() = MakeNode(4);
  }
  SECTION("a full map with a peer twice") { bad = Full(6, {4, 4}); }
  CHECK_FALSE(map.Apply(bad).ok());
  CHECK(map.seq() == 5);
  CHECK(map.peers().size() == 2);
  CHECK(map.peer(2) != nullptr);
}

TEST_CASE("a patch for a peer added in the same delta applies to it", "[control][netmap]") {
  Netmap map;
  REQUIRE(map.Apply(Full(1, {})).ok());
  v1::MapResponse d;
  d.set_seq(2);
  *d.add_peers_changed() = MakeNode(8);
  v1::PeerChange* p = d.add_peers_patch();
  p->set_node_id(8);
  p->set_home_derp_region(901);
  REQUIRE(map.Apply(d).ok());
  CHECK(map.peer(8)->home_derp_region() == 901);
}

}  // namespace
}  // namespace meshvpn::control
