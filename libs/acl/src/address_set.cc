// AddressSet: sorted disjoint intervals per family, built by merging, printed as minimal CIDRs.
#include "meshvpn/acl/address_set.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_join.h"

namespace meshvpn::acl {
namespace {

template <typename T>
void Normalize(std::vector<Interval<T>>& v) {
  std::sort(v.begin(), v.end(), [](const Interval<T>& a, const Interval<T>& b) {
    return a.first < b.first || (a.first == b.first && a.last > b.last);
  });
  size_t out = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    if (out > 0) {
      Interval<T>& prev = v[out - 1];
      // Overlapping or adjacent: merge (prev.last + 1 cannot overflow when prev.last < max).
      if (prev.last == static_cast<T>(~T{0}) || v[i].first <= prev.last + 1) {
        prev.last = std::max(prev.last, v[i].last);
        continue;
      }
    }
    v[out++] = v[i];
  }
  v.resize(out);
}

template <typename T>
bool ContainsValue(const std::vector<Interval<T>>& v, T x) {
  // The last interval starting at or before x.
  auto it = std::upper_bound(v.begin(), v.end(), x,
                             [](T value, const Interval<T>& iv) { return value < iv.first; });
  if (it == v.begin()) return false;
  return x <= std::prev(it)->last;
}

template <typename T>
bool IntersectsSorted(const std::vector<Interval<T>>& a, const std::vector<Interval<T>>& b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i].last < b[j].first) {
      ++i;
    } else if (b[j].last < a[i].first) {
      ++j;
    } else {
      return true;
    }
  }
  return false;
}

template <typename T>
bool IntersectsRange(const std::vector<Interval<T>>& v, T first, T last) {
  auto it = std::upper_bound(v.begin(), v.end(), last,
                             [](T value, const Interval<T>& iv) { return value < iv.first; });
  return it != v.begin() && std::prev(it)->last >= first;
}

template <typename T>
std::vector<Interval<T>> Clip(const std::vector<Interval<T>>& v, T first, T last) {
  std::vector<Interval<T>> out;
  for (const Interval<T>& iv : v) {
    if (iv.last < first || iv.first > last) continue;
    out.push_back({std::max(iv.first, first), std::min(iv.last, last)});
  }
  return out;
}

// The largest aligned block starting at `first` that does not pass `last`, as a prefix length.
template <typename T>
int BlockLength(T first, T last, int bits) {
  int host_bits = 0;
  while (host_bits < bits) {
    const int next = host_bits + 1;
    const T size_minus_one = next >= bits ? static_cast<T>(~T{0}) : (T{1} << next) - 1;
    if ((first & size_minus_one) != 0) break;  // not aligned to the bigger block
    if (last - first < size_minus_one) break;  // the bigger block passes `last`
    host_bits = next;
  }
  return bits - host_bits;
}

template <typename T>
void AppendPrefixes(const std::vector<Interval<T>>& v, Family family, int bits,
                    std::vector<Prefix>& out) {
  for (const Interval<T>& iv : v) {
    T first = iv.first;
    while (true) {
      const int length = BlockLength(first, iv.last, bits);
      out.push_back({{family, Uint128{first}}, length});
      const int host_bits = bits - length;
      const T size_minus_one = host_bits >= bits ? static_cast<T>(~T{0}) : (T{1} << host_bits) - 1;
      const T block_last = first + size_minus_one;
      if (block_last >= iv.last) break;
      first = block_last + 1;
    }
  }
}

template <typename T>
std::vector<Interval<T>> IntersectSorted(const std::vector<Interval<T>>& a,
                                         const std::vector<Interval<T>>& b) {
  std::vector<Interval<T>> out;
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    const T first = std::max(a[i].first, b[j].first);
    const T last = std::min(a[i].last, b[j].last);
    if (first <= last) out.push_back({first, last});
    if (a[i].last < b[j].last) {
      ++i;
    } else {
      ++j;
    }
  }
  return out;
}

template <typename T>
std::vector<Interval<T>> ComplementOf(const std::vector<Interval<T>>& v) {
  std::vector<Interval<T>> out;
  const T max = static_cast<T>(~T{0});
  T next = 0;  // the first address not yet accounted for
  bool done = false;
  for (const Interval<T>& iv : v) {
    if (iv.first > next) out.push_back({next, static_cast<T>(iv.first - 1)});
    if (iv.last == max) {
      done = true;
      break;
    }
    next = iv.last + 1;
  }
  if (!done) out.push_back({next, max});
  return out;
}

AddressSet BuildFrom(std::initializer_list<const char*> prefixes) {
  AddressSetBuilder b;
  for (const char* text : prefixes) b.Add(*ParsePrefix(text));
  return b.Build();
}

}  // namespace

const AddressSet& TailnetAddresses() {
  // 100.115.92.0/23 is cut out, as in Tailscale's "*" (it is reserved for other uses).
  static const AddressSet* set =
      new AddressSet(BuildFrom({"100.64.0.0/10", "fd7a:115c:a1e0::/48"})
                         .Intersection(BuildFrom({"100.115.92.0/23"}).Complement()));
  return *set;
}

const AddressSet& InternetAddresses() {
  // What Tailscale compiles autogroup:internet into on an exit node (a capture of its packet
  // filter, Headscale's testdata issue_3212): IPv4 except private, CGNAT and link-local ranges,
  // and IPv6's global unicast block 2000::/3.
  static const AddressSet* set =
      new AddressSet(BuildFrom({"10.0.0.0/8", "100.64.0.0/10", "169.254.0.0/16", "172.16.0.0/12",
                                "192.168.0.0/16"})
                         .Complement()
                         .Intersection(BuildFrom({"0.0.0.0/0", "2000::/3"})));
  return *set;
}

AddressSet AddressSet::Everything() {
  AddressSetBuilder b;
  b.Add(Prefix::All(Family::kV4));
  b.Add(Prefix::All(Family::kV6));
  return b.Build();
}

bool AddressSet::Contains(const Address& a) const {
  return a.is_v4() ? ContainsValue(v4_, static_cast<uint32_t>(a.value))
                   : ContainsValue(v6_, a.value);
}

bool AddressSet::Intersects(const AddressSet& other) const {
  return IntersectsSorted(v4_, other.v4_) || IntersectsSorted(v6_, other.v6_);
}

bool AddressSet::Intersects(const Prefix& prefix) const {
  if (prefix.address.is_v4()) {
    return IntersectsRange(v4_, static_cast<uint32_t>(prefix.first().value),
                           static_cast<uint32_t>(prefix.last().value));
  }
  return IntersectsRange(v6_, prefix.first().value, prefix.last().value);
}

AddressSet AddressSet::Intersection(const Prefix& prefix) const {
  AddressSet out;
  if (prefix.address.is_v4()) {
    out.v4_ = Clip(v4_, static_cast<uint32_t>(prefix.first().value),
                   static_cast<uint32_t>(prefix.last().value));
  } else {
    out.v6_ = Clip(v6_, prefix.first().value, prefix.last().value);
  }
  return out;
}

AddressSet AddressSet::Intersection(const AddressSet& other) const {
  AddressSet out;
  out.v4_ = IntersectSorted(v4_, other.v4_);
  out.v6_ = IntersectSorted(v6_, other.v6_);
  return out;
}

AddressSet AddressSet::Complement() const {
  AddressSet out;
  out.v4_ = ComplementOf(v4_);
  out.v6_ = ComplementOf(v6_);
  return out;
}

std::vector<Prefix> AddressSet::ToPrefixes() const {
  std::vector<Prefix> out;
  AppendPrefixes(v4_, Family::kV4, 32, out);
  AppendPrefixes(v6_, Family::kV6, 128, out);
  return out;
}

std::string AddressSet::ToString() const {
  std::vector<std::string> parts;
  for (const Prefix& p : ToPrefixes()) parts.push_back(p.ToString(/*bare_host=*/true));
  return absl::StrJoin(parts, ", ");
}

void AddressSetBuilder::Add(const Prefix& prefix) {
  if (prefix.address.is_v4()) {
    v4_.push_back(
        {static_cast<uint32_t>(prefix.first().value), static_cast<uint32_t>(prefix.last().value)});
  } else {
    v6_.push_back({prefix.first().value, prefix.last().value});
  }
}

void AddressSetBuilder::Add(const AddressSet& set) {
  v4_.insert(v4_.end(), set.v4().begin(), set.v4().end());
  v6_.insert(v6_.end(), set.v6().begin(), set.v6().end());
}

AddressSet AddressSetBuilder::Build() {
  Normalize(v4_);
  Normalize(v6_);
  AddressSet out;
  out.v4_ = std::move(v4_);
  out.v6_ = std::move(v6_);
  v4_.clear();
  v6_.clear();
  return out;
}

}  // namespace meshvpn::acl
