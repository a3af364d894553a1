// A set of addresses of both families as sorted, disjoint, non-adjacent intervals: membership is a
// binary search that allocates nothing, and the set prints back as the fewest CIDR prefixes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "meshvpn/acl/address.h"

namespace meshvpn::acl {

template <typename T>
struct Interval {
  T first;
  T last;  // inclusive
  friend bool operator==(const Interval&, const Interval&) = default;
};

class AddressSet {
 public:
  AddressSet() = default;
  static AddressSet Everything();

  bool empty() const { return v4_.empty() && v6_.empty(); }
  bool Contains(const Address& a) const;
  bool Intersects(const AddressSet& other) const;
  bool Intersects(const Prefix& prefix) const;
  // This set cut down to `prefix`.
  AddressSet Intersection(const Prefix& prefix) const;
  AddressSet Intersection(const AddressSet& other) const;
  // Every address of both families not in this set.
  AddressSet Complement() const;

  // The fewest prefixes whose union is exactly this set, IPv4 first, each family ascending.
  std::vector<Prefix> ToPrefixes() const;
  // "100.64.0.1, 100.64.0.8/29, fd7a:115c:a1e0::/48" (bare addresses for host prefixes).
  std::string ToString() const;

  const std::vector<Interval<uint32_t>>& v4() const { return v4_; }
  const std::vector<Interval<Uint128>>& v6() const { return v6_; }
  size_t interval_count() const { return v4_.size() + v6_.size(); }

  friend bool operator==(const AddressSet&, const AddressSet&) = default;

 private:
  friend class AddressSetBuilder;
  std::vector<Interval<uint32_t>> v4_;
  std::vector<Interval<Uint128>> v6_;
};

// Collects prefixes and addresses in any order, then Build() sorts and merges them.
class AddressSetBuilder {
 public:
  void Add(const Prefix& prefix);
  void Add(const Address& address) { Add(Prefix::Host(address)); }
  void Add(const AddressSet& set);
  AddressSet Build();

 private:
  std::vector<Interval<uint32_t>> v4_;
  std::vector<Interval<Uint128>> v6_;
};

// Tailscale's address ranges: the tailnet's (100.64.0.0/10 without 100.115.92.0/23, and
// fd7a:115c:a1e0::/48), and what autogroup:internet means: IPv4 except 10/8, 100.64/10,
// 169.254/16, 172.16/12 and 192.168/16, and IPv6 2000::/3.
const AddressSet& TailnetAddresses();
const AddressSet& InternetAddresses();

}  // namespace meshvpn::acl
