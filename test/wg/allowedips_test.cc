#include "meshvpn/wg/allowedips.h"

#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <tuple>

namespace meshvpn::wg {
namespace {

tun::IpPrefix P(std::string_view text) {
  auto p = tun::IpPrefix::Parse(text);
  REQUIRE(p.ok());
  return *p;
}
tun::IpAddress A(std::string_view text) {
  auto a = tun::IpAddress::Parse(text);
  REQUIRE(a.ok());
  return *a;
}

TEST_CASE("allowed IPs: longest prefix wins") {
  AllowedIps t;
  REQUIRE(t.Insert(P("10.0.0.0/8"), 1).ok());
  REQUIRE(t.Insert(P("10.128.0.0/9"), 2).ok());
  REQUIRE(t.Insert(P("10.0.0.0/24"), 3).ok());
  REQUIRE(t.Insert(P("10.0.1.7/32"), 4).ok());
  REQUIRE(t.Insert(P("0.0.0.0/0"), 5).ok());
  REQUIRE(t.Insert(P("fd00::/8"), 6).ok());
  REQUIRE(t.Insert(P("fd00:1::/32"), 7).ok());
  CHECK(t.size() == 7);
  CHECK(t.Lookup(A("10.0.0.9")) == 3u);
  CHECK(t.Lookup(A("10.0.1.7")) == 4u);
  CHECK(t.Lookup(A("10.0.1.8")) == 1u);
  CHECK(t.Lookup(A("10.200.0.1")) == 2u);
  CHECK(t.Lookup(A("192.168.1.1")) == 5u);
  CHECK(t.Lookup(A("fd00:1::1")) == 7u);
  CHECK(t.Lookup(A("fd00:2::1")) == 6u);
  CHECK(t.Lookup(A("2001:db8::1")) == std::nullopt);  // 0.0.0.0/0 is IPv4 only
  CHECK(t.Lookup(tun::IpAddress()) == std::nullopt);
  CHECK(t.Lookup(ByteSpan()) == std::nullopt);
  const uint8_t raw[4] = {10, 0, 0, 200};
  CHECK(t.Lookup(ByteSpan(raw)) == 3u);
}

TEST_CASE("allowed IPs: host bits are masked on insert") {
  AllowedIps t;
  REQUIRE(t.Insert(P("10.0.0.1/24"), 9).ok());
  REQUIRE(t.Insert(P("fd00::1234/120"), 9).ok());
  const auto prefixes = t.PrefixesOf(9);
  REQUIRE(prefixes.size() == 2);
  CHECK(prefixes[0].ToString() == "10.0.0.0/24");
  CHECK(prefixes[1].ToString() == "fd00::1200/120");
  CHECK(t.Get(P("10.0.0.0/24")) == 9u);
  CHECK(t.Get(P("10.0.0.77/24")) == 9u);
  CHECK(t.Get(P("10.0.0.0/25")) == std::nullopt);
  CHECK(t.Remove(P("10.0.0.99/24")));
  CHECK(t.size() == 1);
}

TEST_CASE("allowed IPs: reinsert moves a prefix, removal and peer removal") {
  AllowedIps t;
  REQUIRE(t.Insert(P("10.1.0.0/16"), 1).ok());
  REQUIRE(t.Insert(P("10.1.0.0/16"), 2).ok());
  CHECK(t.size() == 1);
  CHECK(t.Lookup(A("10.1.2.3")) == 2u);
  CHECK(t.PrefixesOf(1).empty());
  REQUIRE(t.Insert(P("10.2.0.0/16"), 2).ok());
  REQUIRE(t.Insert(P("10.3.0.0/16"), 1).ok());
  REQUIRE(t.Insert(P("::/0"), 2).ok());
  CHECK_FALSE(t.Remove(P("10.4.0.0/16")));
  CHECK_FALSE(t.Remove(P("10.0.0.0/14")));  // a branch point, not an inserted prefix
  CHECK(t.RemoveByPeer(2) == 3);
  CHECK(t.size() == 1);
  CHECK(t.Lookup(A("10.1.2.3")) == std::nullopt);
  CHECK(t.Lookup(A("10.3.2.3")) == 1u);
  CHECK(t.Lookup(A("::1")) == std::nullopt);
  t.Clear();
  CHECK(t.empty());
  CHECK(t.Lookup(A("10.3.2.3")) == std::nullopt);
}

TEST_CASE("allowed IPs: rejects invalid prefixes") {
  AllowedIps t;
  CHECK(t.Insert(tun::IpPrefix{tun::IpAddress(), 0}, 1).code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK_FALSE(t.Insert(tun::IpPrefix{A("10.0.0.0"), 33}, 1).ok());
  CHECK_FALSE(t.Insert(tun::IpPrefix{A("10.0.0.0"), -1}, 1).ok());
  CHECK_FALSE(t.Insert(tun::IpPrefix{A("::"), 129}, 1).ok());
  CHECK(t.Insert(tun::IpPrefix{A("::1"), 128}, 1).ok());
  CHECK(t.Lookup(A("::1")) == 1u);
  CHECK(t.Lookup(A("::2")) == std::nullopt);
}

TEST_CASE("allowed IPs: entries are listed v4 first, in address order") {
  AllowedIps t;
  REQUIRE(t.Insert(P("fd00::/64"), 1).ok());
  REQUIRE(t.Insert(P("10.0.0.0/24"), 2).ok());
  REQUIRE(t.Insert(P("10.0.0.0/8"), 1).ok());
  REQUIRE(t.Insert(P("1.2.3.4/32"), 3).ok());
  const auto e = t.Entries();
  REQUIRE(e.size() == 4);
  CHECK(e[0].first.ToString() == "1.2.3.4/32");
  CHECK(e[1].first.ToString() == "10.0.0.0/8");
  CHECK(e[2].first.ToString() == "10.0.0.0/24");
  CHECK(e[3].first.ToString() == "fd00::/64");
  CHECK(e[3].second == 1u);
}

// The naive model: every prefix in a map; lookup scans all of them for the longest match.
class LinearTable {
 public:
  void Insert(const tun::IpPrefix& p, uint32_t peer) { map_[Key(p)] = peer; }
  bool Remove(const tun::IpPrefix& p) { return map_.erase(Key(p)) > 0; }
  size_t RemoveByPeer(uint32_t peer) {
    return std::erase_if(map_, [&](const auto& kv) { return kv.second == peer; });
  }
  std::optional<uint32_t> Lookup(const tun::IpAddress& a) const {
    std::optional<uint32_t> best;
    int best_len = -1;
    for (const auto& [k, peer] : map_) {
      const auto& [v6, bytes, len] = k;
      tun::IpPrefix p{tun::IpAddress::FromBytes(ByteSpan(bytes.data(), v6 ? 16 : 4)), len};
      if (p.Contains(a) && len > best_len) {
        best = peer;
        best_len = len;
      }
    }
    return best;
  }
  size_t size() const { return map_.size(); }

 private:
  using K = std::tuple<bool, std::array<uint8_t, 16>, int>;
  static K Key(const tun::IpPrefix& p) {
    std::array<uint8_t, 16> b{};
    const ByteSpan src = p.address.bytes();
    for (size_t i = 0; i < src.size(); ++i) {
      const int bit = static_cast<int>(i) * 8;
      uint8_t mask = bit >= p.length       ? 0
                     : bit + 8 <= p.length ? 0xff
                                           : static_cast<uint8_t>(0xff << (8 - (p.length - bit)));
      b[i] = src[i] & mask;
    }
    return {p.address.is_v6(), b, p.length};
  }
  std::map<K, uint32_t> map_;
};

TEST_CASE("allowed IPs trie agrees with a linear scan on random prefixes") {
  std::mt19937_64 rng(GENERATE(1, 2, 3));
  // Prefixes cluster around a few base addresses so that they nest and share long paths.
  std::vector<std::array<uint8_t, 16>> bases(64);
  for (auto& b : bases) {
    for (auto& x : b) x = static_cast<uint8_t>(rng());
  }
  auto random_address = [&](bool v6) {
    std::array<uint8_t, 16> b = bases[rng() % bases.size()];
    const size_t n = v6 ? 16 : 4;
    const int flips = static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) {
      const size_t bit = rng() % (n * 8);
      // Mostly flip low bits, sometimes any bit.
      const size_t pos = (rng() % 4 == 0) ? bit : n * 8 - 1 - (bit % (n * 4));
      b[pos / 8] ^= static_cast<uint8_t>(0x80 >> (pos % 8));
    }
    return tun::IpAddress::FromBytes(ByteSpan(b.data(), n));
  };
  auto random_prefix = [&]() {
    const bool v6 = rng() % 2 == 0;
    const int max = v6 ? 128 : 32;
    const int len = rng() % 8 == 0 ? static_cast<int>(rng() % (max + 1))
                                   : max - static_cast<int>(rng() % (max / 2 + 1));
    return tun::IpPrefix{random_address(v6), len};
  };

  AllowedIps trie;
  LinearTable model;
  std::vector<tun::IpPrefix> inserted;
  for (int i = 0; i < 10000; ++i) {
    const tun::IpPrefix p = random_prefix();
    const uint32_t peer = static_cast<uint32_t>(rng() % 50);
    REQUIRE(trie.Insert(p, peer).ok());
    model.Insert(p, peer);
    inserted.push_back(p);
  }
  REQUIRE(trie.size() == model.size());
  size_t hits = 0, lookups = 0;
  auto check_lookups = [&](int n) {
    for (int i = 0; i < n; ++i) {
      const tun::IpAddress a = random_address(rng() % 2 == 0);
      INFO(a.ToString());
      const auto found = trie.Lookup(a);
      REQUIRE(found == model.Lookup(a));
      hits += found.has_value();
      ++lookups;
    }
  };
  check_lookups(2000);
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 1000; ++i) {
      const int op = static_cast<int>(rng() % 3);
      if (op == 0) {
        const tun::IpPrefix p = inserted[rng() % inserted.size()];
        REQUIRE(trie.Remove(p) == model.Remove(p));
      } else if (op == 1) {
        const tun::IpPrefix p = random_prefix();
        REQUIRE(trie.Remove(p) == model.Remove(p));
      } else {
        const tun::IpPrefix p = random_prefix();
        const uint32_t peer = static_cast<uint32_t>(rng() % 50);
        REQUIRE(trie.Insert(p, peer).ok());
        model.Insert(p, peer);
        inserted.push_back(p);
      }
    }
    const uint32_t gone = static_cast<uint32_t>(rng() % 50);
    REQUIRE(trie.RemoveByPeer(gone) == model.RemoveByPeer(gone));
    REQUIRE(trie.PrefixesOf(gone).empty());
    REQUIRE(trie.size() == model.size());
    check_lookups(500);
  }
  // Every listed prefix is found again with its peer.
  size_t listed = 0;
  for (const auto& [p, peer] : trie.Entries()) {
    REQUIRE(trie.Get(p) == peer);
    ++listed;
  }
  CHECK(listed == model.size());
  // The random addresses hit stored prefixes often enough for the comparison to mean something.
  CHECK(hits * 4 > lookups);
  CHECK(hits < lookups);
}

}  // namespace
}  // namespace meshvpn::wg
