// PacketFilter: building the grouped, segmented form from entries, and the per-packet lookup.
#include "meshvpn/acl/packet_filter.h"

#include <algorithm>
#include <map>

namespace meshvpn::acl {
namespace {

bool IsIcmp(uint8_t protocol) {
  return protocol == ProtocolSet::kIcmp || protocol == ProtocolSet::kIcmpV6;
}

template <typename T>
const std::vector<Interval<T>>& IntervalsOf(const AddressSet& set);
template <>
const std::vector<Interval<uint32_t>>& IntervalsOf(const AddressSet& set) {
  return set.v4();
}
template <>
const std::vector<Interval<Uint128>>& IntervalsOf(const AddressSet& set) {
  return set.v6();
}

}  // namespace

template <typename T>
void PacketFilter::DestinationIndex<T>::Build(const std::vector<Group>& groups) {
  // A sweep over the groups' interval edges: +g where one starts, -g just past where it ends.
  struct Edge {
    T at;
    bool past_end;  // at == last + 1 of an interval (never for one ending at the family's end)
    uint32_t group;
  };
  std::vector<Edge> edges;
  for (uint32_t g = 0; g < groups.size(); ++g) {
    for (const Interval<T>& iv : IntervalsOf<T>(groups[g].dst)) {
      edges.push_back({iv.first, false, g});
      if (iv.last != static_cast<T>(~T{0})) edges.push_back({static_cast<T>(iv.last + 1), true, g});
    }
  }
  if (edges.empty()) return;
  std::sort(edges.begin(), edges.end(), [](const Edge& x, const Edge& y) { return x.at < y.at; });
  std::vector<uint32_t> holding;  // the groups holding the current run, ascending
  size_t i = 0;
  auto apply_edges_at = [&](T at) {
    for (; i < edges.size() && edges[i].at == at; ++i) {
      const auto pos = std::lower_bound(holding.begin(), holding.end(), edges[i].group);
      if (edges[i].past_end) {
        holding.erase(pos);  // a set's intervals are disjoint and never adjacent: it is there
      } else {
        holding.insert(pos, edges[i].group);
      }
    }
  };
  auto add_run = [&](T start) {  // a run that holds the same groups as the one before joins it
    const uint32_t begin = run_ends.empty() ? 0 : run_ends.back();
    if (!run_ends.empty()) {
      const uint32_t prev_begin = run_ends.size() == 1 ? 0 : run_ends[run_ends.size() - 2];
      if (begin - prev_begin == holding.size() &&
          std::equal(holding.begin(), holding.end(), group_ids.begin() + prev_begin)) {
        return;
      }
    }
    run_starts.push_back(start);
    group_ids.insert(group_ids.end(), holding.begin(), holding.end());
    run_ends.push_back(static_cast<uint32_t>(group_ids.size()));
  };
  T start = 0;
  apply_edges_at(0);
  while (i < edges.size()) {
    const T at = edges[i].at;
    add_run(start);  // [start, at) holds `holding`
    apply_edges_at(at);
    start = at;
  }
  add_run(start);  // to the family's last address
}

template <typename T>
void PacketFilter::DestinationIndex<T>::Find(T value, const uint32_t** first,
                                             const uint32_t** last) const {
  *first = *last = group_ids.data();
  if (run_starts.empty()) return;
  const size_t r =
      static_cast<size_t>(std::upper_bound(run_starts.begin(), run_starts.end(), value) -
                          run_starts.begin()) -
      1;
  *first = group_ids.data() + (r == 0 ? 0 : run_ends[r - 1]);
  *last = group_ids.data() + run_ends[r];
}

PacketFilter PacketFilter::Build(const std::vector<FilterEntry>& entries) {
  PacketFilter f;
  // Unions of source sets, interned by the (sorted) list of sets they are made of.
  std::map<std::vector<const AddressSet*>, uint32_t> unions;
  auto union_of = [&](std::vector<const AddressSet*> parts) -> uint32_t {
    std::sort(parts.begin(), parts.end());
    parts.erase(std::unique(parts.begin(), parts.end()), parts.end());
    if (parts.empty()) return kNoSet;
    auto [it, added] = unions.emplace(parts, 0);
    if (added) {
      AddressSetBuilder b;
      for (const AddressSet* s : parts) b.Add(*s);
      it->second = static_cast<uint32_t>(f.sets_.size());
      f.sets_.push_back(b.Build());
    }
    return it->second;
  };

  // Group by destination set.
  std::vector<std::vector<const FilterEntry*>> members;
  for (const FilterEntry& e : entries) {
    if (e.src == nullptr || e.src->empty() || e.dst.empty() || e.protocols.empty()) continue;
    size_t g = 0;
    while (g < f.groups_.size() && !(f.groups_[g].dst == e.dst)) ++g;
    if (g == f.groups_.size()) {
      f.groups_.emplace_back();
      f.groups_.back().dst = e.dst;
      members.emplace_back();
    }
    members[g].push_back(&e);
  }

  for (size_t g = 0; g < f.groups_.size(); ++g) {
    Group& group = f.groups_[g];
    const std::vector<const FilterEntry*>& in = members[g];
    group.class_of.fill(kNoClass);
    std::vector<const AddressSet*> all;
    for (const FilterEntry* e : in) all.push_back(e->src.get());
    group.any_protocol_set = union_of(all);

    // Distinct protocol sets, then one class per distinct (has ports, which sets hold it).
    std::vector<ProtocolSet> distinct;
    std::vector<size_t> set_of(in.size());
    for (size_t i = 0; i < in.size(); ++i) {
      auto it = std::find(distinct.begin(), distinct.end(), in[i]->protocols);
      set_of[i] = static_cast<size_t>(it - distinct.begin());
      if (it == distinct.end()) distinct.push_back(in[i]->protocols);
    }
    std::map<std::pair<bool, std::vector<bool>>, uint8_t> classes;
    for (int p = 0; p < 256; ++p) {
      const uint8_t protocol = static_cast<uint8_t>(p);
      if (IsIcmp(protocol)) continue;  // answered by any_protocol_set
      std::vector<bool> holds(distinct.size());
      bool any = false;
      for (size_t k = 0; k < distinct.size(); ++k) any |= (holds[k] = distinct[k].Has(protocol));
      if (!any) continue;
      const bool ported = ProtocolSet::HasPorts(protocol);
      auto [it, added] = classes.emplace(std::make_pair(ported, holds), 0);
      if (added) {  // at most 254 classes: fewer than kNoClass
        it->second = static_cast<uint8_t>(group.classes.size());
        ProtocolClass c;
        std::vector<const FilterEntry*> covered;
        for (size_t i = 0; i < in.size(); ++i) {
          if (holds[set_of[i]] && (ported || in[i]->ports.all())) covered.push_back(in[i]);
        }
        if (!ported) {
          std::vector<const AddressSet*> parts;
          for (const FilterEntry* e : covered) parts.push_back(e->src.get());
          c.segment_starts = {0};
          c.segment_sets = {union_of(parts)};
        } else {
          std::vector<uint32_t> bounds = {0};
          for (const FilterEntry* e : covered) {
            bounds.push_back(e->ports.first);
            if (e->ports.last < 65535) bounds.push_back(uint32_t{e->ports.last} + 1);
          }
          std::sort(bounds.begin(), bounds.end());
          bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());
          for (size_t s = 0; s < bounds.size(); ++s) {
            const uint32_t first = bounds[s];
            std::vector<const AddressSet*> parts;
            for (const FilterEntry* e : covered) {
              if (e->ports.first <= first && first <= e->ports.last) parts.push_back(e->src.get());
            }
            const uint32_t set = union_of(parts);
            if (!c.segment_sets.empty() && c.segment_sets.back() == set) continue;  // merge
            c.segment_starts.push_back(static_cast<uint16_t>(first));
            c.segment_sets.push_back(set);
          }
        }
        group.classes.push_back(std::move(c));
      }
      group.class_of[protocol] = it->second;
    }
  }
  f.v4_index_.Build(f.groups_);
  f.v6_index_.Build(f.groups_);
  return f;
}

size_t PacketFilter::interval_count() const {
  size_t n = 0;
  for (const Group& g : groups_) n += g.dst.interval_count();
  for (const AddressSet& s : sets_) n += s.interval_count();
  return n;
}

bool PacketFilter::Allows(const Address& src, const Address& dst, uint8_t protocol,
                          uint16_t port) const {
  const uint32_t* first;
  const uint32_t* last;
  if (dst.is_v4()) {
    v4_index_.Find(static_cast<uint32_t>(dst.value), &first, &last);
  } else {
    v6_index_.Find(dst.value, &first, &last);
  }
  for (const uint32_t* id = first; id != last; ++id) {
    const Group& g = groups_[*id];
    if (IsIcmp(protocol)) {
      if (g.any_protocol_set != kNoSet && sets_[g.any_protocol_set].Contains(src)) return true;
      continue;
    }
    const uint8_t c = g.class_of[protocol];
    if (c == kNoClass) continue;
    const ProtocolClass& k = g.classes[c];
    const auto it = std::upper_bound(k.segment_starts.begin(), k.segment_starts.end(), port);
    const uint32_t set = k.segment_sets[static_cast<size_t>(it - k.segment_starts.begin()) - 1];
    if (set != kNoSet && sets_[set].Contains(src)) return true;
  }
  return false;
}

}  // namespace meshvpn::acl
