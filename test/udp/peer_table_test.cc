#include "meshvpn/udp/peer_table.h"

#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <vector>

namespace meshvpn::udp {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

Endpoint Peer(uint8_t host, uint16_t port = 4000) { return Endpoint::V4({10, 0, 0, host}, port); }

TEST_CASE("the peer table learns peers on their first datagram and counts both ways") {
  FakeClock clock;
  PeerTable table({.idle_timeout = seconds(30), .max_peers = 8});
  const MonoTime t0 = clock.Now();

  CHECK(table.OnReceived(Peer(1), 100, clock.Now()) == PeerTable::Observed::kNew);
  clock.Advance(seconds(1));
  CHECK(table.OnReceived(Peer(1), 50, clock.Now()) == PeerTable::Observed::kKnown);
  CHECK(table.OnReceived(Peer(2), 7, clock.Now()) == PeerTable::Observed::kNew);
  CHECK(table.OnSent(Peer(1), 20));
  CHECK(table.OnSent(Peer(1), 30));
  CHECK_FALSE(table.OnSent(Peer(3), 1));  // unknown peers are not learned by sending

  REQUIRE(table.size() == 2);
  const PeerInfo* p1 = table.Find(Peer(1));
  REQUIRE(p1 != nullptr);
  CHECK(p1->endpoint == Peer(1));
  CHECK(p1->first_seen == t0);
  CHECK(p1->last_seen == t0 + seconds(1));
  CHECK(p1->packets_in == 2);
  CHECK(p1->bytes_in == 150);
  CHECK(p1->packets_out == 2);
  CHECK(p1->bytes_out == 50);
  CHECK(table.Find(Peer(3)) == nullptr);
  // The same address on another port is another peer.
  CHECK(table.Find(Peer(1, 4001)) == nullptr);
  CHECK(table.learned() == 2);
}

TEST_CASE("peers expire after the idle timeout, least recently heard first") {
  FakeClock clock;
  PeerTable table({.idle_timeout = seconds(10), .max_peers = 8});
  CHECK_FALSE(table.NextExpiry().has_value());

  table.OnReceived(Peer(1), 1, clock.Now());  // t=0
  clock.Advance(seconds(2));
  table.OnReceived(Peer(2), 1, clock.Now());  // t=2
  clock.Advance(seconds(2));
  table.OnReceived(Peer(1), 1, clock.Now());  // t=4: peer 1 is now the most recent
  const MonoTime t4 = clock.Now();

  REQUIRE(table.NextExpiry().has_value());
  CHECK(*table.NextExpiry() == t4 - seconds(2) + seconds(10));  // peer 2, heard at t=2

  std::vector<Endpoint> expired;
  auto collect = [&](const PeerInfo& p) { expired.push_back(p.endpoint); };
  clock.Advance(seconds(7));  // t=11: nobody idle for 10s yet
  CHECK(table.HandleExpiry(clock.Now(), collect) == 0);
  clock.Advance(seconds(1));  // t=12: peer 2 idle exactly 10s
  CHECK(table.HandleExpiry(clock.Now(), collect) == 1);
  REQUIRE(expired.size() == 1);
  CHECK(expired[0] == Peer(2));
  CHECK(table.Find(Peer(2)) == nullptr);
  CHECK(*table.NextExpiry() == t4 + seconds(10));

  clock.Advance(seconds(100));
  CHECK(table.HandleExpiry(clock.Now(), collect) == 1);
  CHECK(expired.back() == Peer(1));
  CHECK(table.empty());
  CHECK_FALSE(table.NextExpiry().has_value());
  CHECK(table.expired() == 2);

  // A peer that comes back after expiring is new again.
  CHECK(table.OnReceived(Peer(2), 1, clock.Now()) == PeerTable::Observed::kNew);
}

TEST_CASE("a full table rejects new peers but keeps serving known ones") {
  FakeClock clock;
  PeerTable table({.idle_timeout = seconds(10), .max_peers = 2});
  CHECK(table.OnReceived(Peer(1), 1, clock.Now()) == PeerTable::Observed::kNew);
  CHECK(table.OnReceived(Peer(2), 1, clock.Now()) == PeerTable::Observed::kNew);
  CHECK(table.OnReceived(Peer(3), 1, clock.Now()) == PeerTable::Observed::kTableFull);
  CHECK(table.OnReceived(Peer(1), 1, clock.Now()) == PeerTable::Observed::kKnown);
  CHECK(table.rejected() == 1);
  CHECK(table.Find(Peer(3)) == nullptr);
  REQUIRE(table.Remove(Peer(1)));
  CHECK_FALSE(table.Remove(Peer(1)));
  CHECK(table.OnReceived(Peer(3), 1, clock.Now()) == PeerTable::Observed::kNew);
  CHECK(table.size() == 2);
}

TEST_CASE("added peers: the first datagram is still new, and pinned peers never expire") {
  FakeClock clock;
  PeerTable table({.idle_timeout = seconds(5), .max_peers = 4});
  CHECK(table.Add(Peer(1), clock.Now(), /*pinned=*/true) == PeerTable::Observed::kNew);
  CHECK(table.Add(Peer(2), clock.Now()) == PeerTable::Observed::kNew);
  CHECK(table.Add(Peer(2), clock.Now()) == PeerTable::Observed::kKnown);
  CHECK(table.Find(Peer(1))->pinned);
  // Only the unpinned one can expire.
  CHECK(*table.NextExpiry() == clock.Now() + seconds(5));

  CHECK(table.OnReceived(Peer(1), 3, clock.Now()) == PeerTable::Observed::kNew);
  CHECK(table.OnReceived(Peer(1), 3, clock.Now()) == PeerTable::Observed::kKnown);

  clock.Advance(seconds(60));
  size_t count = 0;
  table.HandleExpiry(clock.Now(), [&](const PeerInfo& p) {
    CHECK(p.endpoint == Peer(2));
    ++count;
  });
  CHECK(count == 1);
  REQUIRE(table.Find(Peer(1)) != nullptr);
  CHECK_FALSE(table.NextExpiry().has_value());

  // Unpinning puts the peer back under the idle timeout, counted from now.
  CHECK(table.Add(Peer(1), clock.Now(), /*pinned=*/false) == PeerTable::Observed::kKnown);
  CHECK(*table.NextExpiry() == clock.Now() + seconds(5));
}

// Compare with a brute-force model: a map with last_seen, expiring by a full scan.
TEST_CASE("the peer table agrees with a naive model on random traffic") {
  std::mt19937 rng(20261122);
  FakeClock clock;
  const Duration timeout = milliseconds(500);
  const size_t max_peers = 16;
  PeerTable table({.idle_timeout = timeout, .max_peers = max_peers});
  struct Model {
    MonoTime last_seen;
    uint64_t packets = 0;
    uint64_t bytes = 0;
  };
  std::map<uint8_t, Model> model;

  for (int step = 0; step < 20000; ++step) {
    clock.Advance(milliseconds(rng() % 40));
    const MonoTime now = clock.Now();
    const uint8_t host = static_cast<uint8_t>(rng() % 24);
    const size_t bytes = rng() % 1500;
    switch (rng() % 4) {
      case 0:
      case 1: {
        const PeerTable::Observed got = table.OnReceived(Peer(host), bytes, now);
        auto it = model.find(host);
        if (it != model.end()) {
          CHECK(got == PeerTable::Observed::kKnown);
          it->second.last_seen = now;
          it->second.packets++;
          it->second.bytes += bytes;
        } else if (model.size() < max_peers) {
          CHECK(got == PeerTable::Observed::kNew);
          model[host] = Model{now, 1, bytes};
        } else {
          CHECK(got == PeerTable::Observed::kTableFull);
        }
        break;
      }
      case 2: {
        std::vector<uint8_t> want;
        for (auto it = model.begin(); it != model.end();) {
          if (it->second.last_seen + timeout <= now) {
            want.push_back(it->first);
            it = model.erase(it);
          } else {
            ++it;
          }
        }
        std::vector<uint8_t> got;
        table.HandleExpiry(now, [&](const PeerInfo& p) { got.push_back(p.endpoint.address()[3]); });
        std::sort(got.begin(), got.end());
        CHECK(got == want);
        break;
      }
      default: {
        std::optional<MonoTime> want;
        for (const auto& [h, m] : model) {
          if (!want || m.last_seen + timeout < *want) want = m.last_seen + timeout;
        }
        CHECK(table.NextExpiry() == want);
        break;
      }
    }
    REQUIRE(table.size() == model.size());
  }
  for (const auto& [host, m] : model) {
    const PeerInfo* p = table.Find(Peer(host));
    REQUIRE(p != nullptr);
    CHECK(p->packets_in == m.packets);
    CHECK(p->bytes_in == m.bytes);
    CHECK(p->last_seen == m.last_seen);
  }
}

}  // namespace
}  // namespace meshvpn::udp
