// MapBuilder against the naive reference: after any sequence of changes, the map each connected
// node holds (its full map plus every delta since, applied by a Netmap) equals a full map built
// from scratch for it. Plus the cost property: a change is queued only to nodes that see it.
#include "meshvpn/control/map_builder.h"

#include <google/protobuf/util/message_differencer.h>

#include <catch2/catch.hpp>
#include <map>
#include <random>

#include "meshvpn/control/netmap.h"
#include "meshvpn/control/protocol.h"

namespace meshvpn::control {
namespace {

v1::MapResponse Decode(const std::string& envelope) {
  absl::StatusOr<v1::Envelope> e = DecodeEnvelope(AsBytes(envelope));
  INFO(e.status().ToString());
  REQUIRE(e.ok());
  REQUIRE(e->has_map_response());
  return e->map_response();
}

v1::Node NewNode(uint64_t id, uint32_t salt) {
  v1::Node n;
  n.set_id(id);
  n.set_name("node" + std::to_string(id) + "-" + std::to_string(salt));
  n.set_user_id(1 + id % 3);
  n.set_node_key(std::string(32, static_cast<char>(id + salt)));
  n.set_machine_key(std::string(32, 'm'));
  n.add_addresses("100.64." + std::to_string(id / 256) + "." + std::to_string(id % 256) + "/32");
  n.add_endpoints("203.0.113." + std::to_string(id % 250) + ":41641");
  n.set_home_derp_region(900);
  return n;
}

// The state a client holds, compared field by field with a fresh full map.
void RequireSameView(const Netmap& held, const Netmap& fresh, uint64_t id) {
  INFO("node " << id);
  using google::protobuf::util::MessageDifferencer;
  CHECK(MessageDifferencer::Equals(held.self(), fresh.self()));
  REQUIRE(held.peers().size() == fresh.peers().size());
  for (const auto& [peer_id, node] : fresh.peers()) {
    INFO("peer " << peer_id);
    const v1::Node* got = held.peer(peer_id);
    REQUIRE(got != nullptr);
    CHECK(MessageDifferencer::Equals(*got, node));
    CHECK(got->machine_key().empty());
  }
  CHECK(MessageDifferencer::Equals(held.derp_map(), fresh.derp_map()));
  CHECK(held.users().size() == fresh.users().size());
  CHECK(held.domain() == fresh.domain());
  CHECK(held.packet_filter().size() == fresh.packet_filter().size());
}

struct Harness {
  explicit Harness(const MapPolicy* policy) : builder(policy) {}
  MapBuilder builder;
  std::map<uint64_t, Netmap> clients;  // connected nodes' views

  void Open(uint64_t id) {
    absl::StatusOr<std::string> full = builder.OpenSession(id);
    REQUIRE(full.ok());
    clients[id].Reset();
    REQUIRE(clients[id].Apply(Decode(*full)).ok());
  }
  void Flush() {
    for (uint64_t id : builder.TakeDirtySessions()) {
      const std::string update = builder.TakeUpdate(id);
      if (update.empty()) continue;
      REQUIRE(clients.contains(id));
      const absl::Status s = clients[id].Apply(Decode(update));
      INFO("node " << id << ": " << s.ToString());
      REQUIRE(s.ok());
    }
  }
  void Verify() {
    for (const auto& [id, held] : clients) {
      Netmap fresh;
      REQUIRE(fresh.Apply(Decode(builder.BuildFullMapFromScratch(id))).ok());
      RequireSameView(held, fresh, id);
    }
  }
};

void RandomRun(const MapPolicy* policy, uint32_t seed) {
  std::mt19937 rng(seed);
  auto pick = [&](uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng); };
  Harness h(policy);
  v1::User alice;
  alice.set_id(1);
  alice.set_name("alice");
  h.builder.UpsertUser(alice);
  h.builder.SetDomain("mesh.internal");
  uint64_t next_id = 1;
  for (; next_id <= 12; ++next_id) h.builder.UpsertNode(NewNode(next_id, 0));
  std::vector<uint64_t> live;
  for (uint64_t id = 1; id < next_id; ++id) live.push_back(id);
  for (uint64_t id : live) {
    if (pick(3) != 0) h.Open(id);
  }
  for (int step = 0; step < 1500; ++step) {
    if (live.empty()) {
      h.builder.UpsertNode(NewNode(next_id, 0));
      live.push_back(next_id++);
    }
    const uint64_t target = live[pick(live.size())];
    switch (pick(12)) {
      case 0:  // a new node
        h.builder.UpsertNode(NewNode(next_id, 0));
        live.push_back(next_id++);
        break;
      case 1:  // rename or key rotation: a whole change
        h.builder.UpsertNode(NewNode(target, static_cast<uint32_t>(pick(1000))));
        break;
      case 2:
      case 3: {  // endpoints / DERP region / online
        v1::PeerChange p;
        p.set_node_id(target);
        if (pick(2))
          p.mutable_endpoints()->add_endpoints("198.51.100." + std::to_string(pick(250)) + ":1");
        if (pick(2)) p.set_home_derp_region(900 + static_cast<int32_t>(pick(3)));
        if (pick(2)) p.set_online(pick(2) == 1);
        if (pick(4) == 0) p.set_last_seen_ms(static_cast<int64_t>(pick(1u << 30)));
        REQUIRE(h.builder.PatchNode(p).ok());
        break;
      }
      case 4:  // expire or renew
        REQUIRE(h.builder.SetExpired(target, pick(2) == 1).ok());
        break;
      case 5:  // deleted
        h.builder.RemoveNode(target);
        h.clients.erase(target);
        live.erase(std::find(live.begin(), live.end(), target));
        break;
      case 6:
      case 7:  // (re)connects
        h.Open(target);
        break;
      case 8:  // disconnects
        h.builder.CloseSession(target);
        h.clients.erase(target);
        break;
      case 9: {  // the DERP map changes
        v1::DerpMap m;
        (*m.mutable_regions())[900 + static_cast<int32_t>(pick(3))].set_region_code(
            "r" + std::to_string(step));
        h.builder.SetDerpMap(m);
        break;
      }
      case 10: {
        v1::User u;
        u.set_id(1 + pick(4));
        u.set_name("user" + std::to_string(step));
        h.builder.UpsertUser(u);
        break;
      }
      case 11:
        if (pick(8) == 0) h.builder.PolicyChanged();
        break;
    }
    // Several changes may pile up between flushes: coalescing is part of what is tested.
    if (pick(3) == 0) {
      h.Flush();
      h.Verify();
    }
  }
  h.Flush();
  h.Verify();
}

TEST_CASE("deltas agree with a full map from scratch: allow-all", "[control][map]") {
  AllowAllPolicy policy;
  for (uint32_t seed = 1; seed <= 6; ++seed) {
    INFO("seed " << seed);
    RandomRun(&policy, seed);
  }
}

TEST_CASE("deltas agree with a full map from scratch: blocks of 4 ids", "[control][map]") {
  IdBlockPolicy policy(4);
  for (uint32_t seed = 11; seed <= 16; ++seed) {
    INFO("seed " << seed);
    RandomRun(&policy, seed);
  }
}

TEST_CASE("one change is queued only to the nodes that can see it", "[control][map]") {
  IdBlockPolicy policy(100);
  MapBuilder builder(&policy);
  for (uint64_t id = 1; id <= 1000; ++id) builder.UpsertNode(NewNode(id, 0));
  for (uint64_t id = 1; id <= 1000; ++id) REQUIRE(builder.OpenSession(id).ok());
  const uint64_t queued_before = builder.stats().queued_changes;
  v1::PeerChange p;
  p.set_node_id(250);
  p.mutable_endpoints()->add_endpoints("198.51.100.1:1");
  REQUIRE(builder.PatchNode(p).ok());
  CHECK(builder.stats().queued_changes - queued_before == 99);  // its block of 100, not itself
  const std::vector<uint64_t> dirty = builder.TakeDirtySessions();
  CHECK(dirty.size() == 100);  // 99 viewers and the node itself (its own self changed)
  CHECK(dirty.front() == 201);
  CHECK(dirty.back() == 300);
  const v1::MapResponse delta = Decode(builder.TakeUpdate(201));
  CHECK_FALSE(delta.full());
  REQUIRE(delta.peers_patch_size() == 1);
  CHECK(delta.peers_patch(0).node_id() == 250);
  CHECK(delta.peers_patch(0).endpoints().endpoints(0) == "198.51.100.1:1");
  CHECK_FALSE(delta.peers_patch(0).has_online());
  CHECK(builder.TakeUpdate(201).empty());  // taken
  // A full map of a block node lists its 99 peers.
  CHECK(Decode(builder.BuildFullMapFromScratch(201)).peers_size() == 99);
}

TEST_CASE("an expired node leaves its peers' maps and sees nobody", "[control][map]") {
  AllowAllPolicy policy;
  Harness h(&policy);
  for (uint64_t id = 1; id <= 3; ++id) h.builder.UpsertNode(NewNode(id, 0));
  for (uint64_t id = 1; id <= 3; ++id) h.Open(id);
  REQUIRE(h.builder.SetExpired(2, true).ok());
  h.Flush();
  CHECK(h.clients[1].peer(2) == nullptr);
  CHECK(h.clients[3].peer(2) == nullptr);
  CHECK(h.clients[2].self().expired());
  CHECK(h.clients[2].peers().empty());
  CHECK(h.clients[2].packet_filter().empty());
  REQUIRE(h.builder.SetExpired(2, false).ok());
  h.Flush();
  CHECK(h.clients[1].peer(2) != nullptr);
  CHECK(h.clients[2].peers().size() == 2);
  h.Verify();
}

TEST_CASE("a node added and removed between flushes never reaches a peer", "[control][map]") {
  AllowAllPolicy policy;
  Harness h(&policy);
  h.builder.UpsertNode(NewNode(1, 0));
  h.Open(1);
  h.builder.UpsertNode(NewNode(2, 0));
  v1::PeerChange p;
  p.set_node_id(2);
  p.set_online(true);
  REQUIRE(h.builder.PatchNode(p).ok());
  h.builder.RemoveNode(2);
  CHECK(h.builder.TakeUpdate(1).empty());
}

TEST_CASE("the naive path sends whole maps rebuilt from scratch", "[control][map]") {
  AllowAllPolicy policy;
  MapBuilder builder(&policy);
  builder.set_naive_full_maps(true);
  for (uint64_t id = 1; id <= 3; ++id) builder.UpsertNode(NewNode(id, 0));
  REQUIRE(builder.OpenSession(1).ok());
  REQUIRE(builder.OpenSession(2).ok());
  (void)builder.TakeDirtySessions();
  v1::PeerChange patch;
  patch.set_node_id(3);
  patch.mutable_endpoints()->add_endpoints("192.0.2.1:41641");
  REQUIRE(builder.PatchNode(patch).ok());
  const uint64_t before = builder.stats().full_maps;
  for (const uint64_t id : builder.TakeDirtySessions()) {
    const v1::MapResponse update = Decode(builder.TakeUpdate(id));
    CHECK(update.full());
    CHECK(update.peers_size() == 2);
    v1::MapResponse fresh = Decode(builder.BuildFullMapFromScratch(id));
    fresh.set_seq(update.seq());
    CHECK(fresh.SerializeAsString() == update.SerializeAsString());
  }
  CHECK(builder.stats().full_maps == before + 4);  // two sent, two built here to compare
}

}  // namespace
}  // namespace meshvpn::control
