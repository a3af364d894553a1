// MapPolicy: who appears in whose network map, and the packet filter each node gets. The ACL
// library implements it from a policy file; until then AllowAll lets every node see every other.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/functional/function_ref.h"
#include "meshvpn/control/v1/control.pb.h"

namespace meshvpn::control {

class MapPolicy {
 public:
  virtual ~MapPolicy() = default;
  // Whether `peer` is in `viewer`'s map (Tailscale's rule: either may send to the other).
  virtual bool CanSee(const v1::Node& viewer, const v1::Node& peer) const = 0;
  // Calls `fn` for every node id that may see `peer` (a superset is fine: CanSee still
  // decides) and returns true; returns false to mean "any node may": the builder then walks its
  // sessions. This is what keeps one change O(the nodes that can see it).
  virtual bool ForEachPossibleViewer(const v1::Node& peer,
                                     absl::FunctionRef<void(uint64_t)> fn) const = 0;
  // The rules of what may reach `viewer`.
  virtual std::vector<v1::FilterRule> PacketFilter(const v1::Node& viewer) const = 0;
};

// Everyone sees everyone; anything may reach anything.
class AllowAllPolicy final : public MapPolicy {
 public:
  bool CanSee(const v1::Node&, const v1::Node&) const override { return true; }
  bool ForEachPossibleViewer(const v1::Node&, absl::FunctionRef<void(uint64_t)>) const override {
    return false;
  }
  std::vector<v1::FilterRule> PacketFilter(const v1::Node& viewer) const override;
};

// Nodes see only the nodes of their own block of `group_size` consecutive ids (1..100,
// 101..200, ...): the benchmark's "groups of 100" and the tests' partitioned tailnet. Its
// packet filter lets anything in (it is about visibility only).
class IdBlockPolicy final : public MapPolicy {
 public:
  explicit IdBlockPolicy(uint64_t group_size) : group_size_(group_size) {}
  bool CanSee(const v1::Node& viewer, const v1::Node& peer) const override {
    return Block(viewer.id()) == Block(peer.id());
  }
  bool ForEachPossibleViewer(const v1::Node& peer,
                             absl::FunctionRef<void(uint64_t)> fn) const override;
  std::vector<v1::FilterRule> PacketFilter(const v1::Node& viewer) const override;

 private:
  uint64_t Block(uint64_t id) const { return (id - 1) / group_size_; }
  uint64_t group_size_;
};

}  // namespace meshvpn::control
