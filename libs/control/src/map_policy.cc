// The two built-in map policies: allow-all, and blocks of consecutive node ids.
#include "meshvpn/control/map_policy.h"

#include <string>

namespace meshvpn::control {
namespace {

v1::FilterRule AnyFrom(std::vector<std::string> sources) {
  v1::FilterRule rule;
  for (std::string& s : sources) rule.add_src_ips(std::move(s));
  v1::NetPortRange* range = rule.add_dst_ports();
  range->set_ip("*");
  range->set_first(0);
  range->set_last(65535);
  return rule;
}

}  // namespace

std::vector<v1::FilterRule> AllowAllPolicy::PacketFilter(const v1::Node&) const {
  return {AnyFrom({"*"})};
}

bool IdBlockPolicy::ForEachPossibleViewer(const v1::Node& peer,
                                          absl::FunctionRef<void(uint64_t)> fn) const {
  const uint64_t first = Block(peer.id()) * group_size_ + 1;
  for (uint64_t id = first; id < first + group_size_; ++id) fn(id);
  return true;
}

std::vector<v1::FilterRule> IdBlockPolicy::PacketFilter(const v1::Node& viewer) const {
  // This policy is about visibility (benchmarks, tests); its filter lets anything in.
  (void)viewer;
  return {AnyFrom({"*"})};
}

}  // namespace meshvpn::control
