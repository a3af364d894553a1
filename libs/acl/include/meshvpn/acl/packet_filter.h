// The packet filter a node enforces on what it receives: readable entries (sources ×
// destinations × ports × protocols) and the matcher built from them, which the data path calls
// per packet without allocating or locking.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "meshvpn/acl/address_set.h"
#include "meshvpn/acl/policy.h"

namespace meshvpn::acl {

// One line of a filter: a packet from `src` to `dst` on a port in `ports` over one of
// `protocols` is accepted. `rule` is the policy rule it came from (an index into
// Policy::rules, or -1 when it came over the wire).
struct FilterEntry {
  std::shared_ptr<const AddressSet> src;
  AddressSet dst;
  PortRange ports;
  ProtocolSet protocols;
  int rule = -1;
};

// Immutable once built: share it between threads freely (swap a whole new one in on change).
//
// Layout: entries are grouped by destination set (most nodes have few: their own addresses, their
// routes, the internet if they are an exit node; a subnet router may have hundreds, one per
// prefix behind it that a rule names). Per group, every IP protocol number maps to a class of
// protocols that behave alike; per class, the ports are cut into segments at every range
// boundary, and each segment holds the union of the sources allowed there. An index of the
// destinations cuts each family's addresses into runs held by the same groups. A lookup is a
// binary search for the destination's run, then for each group of the run (usually one to
// three) two more: the port's segment, then the source address.
class PacketFilter {
 public:
  PacketFilter() = default;  // accepts nothing
  static PacketFilter Build(const std::vector<FilterEntry>& entries);

  // ICMP and ICMPv6 pass when any entry covers src→dst (Tailscale's rule); TCP, UDP and SCTP
  // need the port; other protocols need an entry with that protocol over all ports.
  bool Allows(const Address& src, const Address& dst, uint8_t protocol, uint16_t port) const;

  size_t group_count() const { return groups_.size(); }
  size_t set_count() const { return sets_.size(); }
  // Address intervals held in all (groups' destinations and source sets): the filter's memory is
  // about 8 bytes per IPv4 and 32 per IPv6 interval.
  size_t interval_count() const;
  bool empty() const { return groups_.empty(); }

 private:
  static constexpr uint32_t kNoSet = 0xffffffff;
  static constexpr uint8_t kNoClass = 0xff;
  struct ProtocolClass {
    std::vector<uint16_t> segment_starts;  // ascending, the first is 0
    std::vector<uint32_t> segment_sets;    // index into sets_, or kNoSet
  };
  struct Group {
    AddressSet dst;
    std::array<uint8_t, 256> class_of{};  // protocol number -> index into classes, or kNoClass
    std::vector<ProtocolClass> classes;
    uint32_t any_protocol_set = kNoSet;  // every source of the group: what ICMP may use
  };
  // Which groups hold each destination: runs of addresses that the same groups hold, per family.
  template <typename T>
  struct DestinationIndex {
    std::vector<T> run_starts;       // ascending, the first is 0 (empty when there are no groups)
    std::vector<uint32_t> run_ends;  // run i's groups: group_ids[run_ends[i-1] (or 0), run_ends[i])
    std::vector<uint32_t> group_ids;
    void Build(const std::vector<Group>& groups);
    // The groups holding `value`: [*first, *last) in group_ids.
    void Find(T value, const uint32_t** first, const uint32_t** last) const;
  };
  std::vector<Group> groups_;
  std::vector<AddressSet> sets_;
  DestinationIndex<uint32_t> v4_index_;
  DestinationIndex<Uint128> v6_index_;
};

}  // namespace meshvpn::acl
