// ToFilterRules / FromFilterRules: acl::FilterEntry <-> v1::FilterRule.
#include "meshvpn/control/filter_rules.h"

#include <map>

#include "absl/strings/str_cat.h"

namespace meshvpn::control {
namespace {

absl::StatusOr<acl::AddressSet> ParseSet(const std::vector<std::string>& texts) {
  acl::AddressSetBuilder b;
  for (const std::string& t : texts) {
    if (t == "*") {
      b.Add(acl::AddressSet::Everything());
      continue;
    }
    absl::StatusOr<acl::Prefix> p = acl::ParsePrefix(t);
    if (!p.ok()) return p.status();
    b.Add(*p);
  }
  return b.Build();
}

absl::Status BadRule(size_t index, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("filter rule ", index, ": ", what));
}

}  // namespace

std::vector<v1::FilterRule> ToFilterRules(const std::vector<acl::FilterEntry>& entries) {
  std::vector<v1::FilterRule> out;
  // Entries sharing a source set and protocols become one rule, in first-seen order.
  std::map<std::pair<const acl::AddressSet*, std::vector<uint8_t>>, size_t> index;
  for (const acl::FilterEntry& e : entries) {
    if (e.src == nullptr) continue;
    const std::vector<uint8_t> protocols = e.protocols == acl::ProtocolSet::Default()
                                               ? std::vector<uint8_t>{}
                                               : e.protocols.ToVector();
    auto [it, added] = index.emplace(std::make_pair(e.src.get(), protocols), out.size());
    if (added) {
      v1::FilterRule& rule = out.emplace_back();
      if (*e.src == acl::AddressSet::Everything()) {
        static const std::string* const kAny = new std::string("*");
        rule.add_src_ips(*kAny);
      } else {
        for (const acl::Prefix& p : e.src->ToPrefixes()) rule.add_src_ips(p.ToString());
      }
      for (uint8_t p : protocols) rule.add_ip_protocols(p);
    }
    v1::FilterRule& rule = out[it->second];
    for (const acl::Prefix& p : e.dst.ToPrefixes()) {
      v1::NetPortRange* range = rule.add_dst_ports();
      range->set_ip(p.ToString());
      range->set_first(e.ports.first);
      range->set_last(e.ports.last);
    }
  }
  return out;
}

absl::StatusOr<std::vector<acl::FilterEntry>> FromFilterRules(
    const std::vector<v1::FilterRule>& rules) {
  std::vector<acl::FilterEntry> out;
  for (size_t i = 0; i < rules.size(); ++i) {
    const v1::FilterRule& rule = rules[i];
    absl::StatusOr<acl::AddressSet> src =
        ParseSet(std::vector<std::string>(rule.src_ips().begin(), rule.src_ips().end()));
    if (!src.ok()) return BadRule(i, src.status().message());
    acl::ProtocolSet protocols;
    if (rule.ip_protocols().empty()) protocols = acl::ProtocolSet::Default();
    for (int32_t p : rule.ip_protocols()) {
      if (p < 0 || p > 255) {
        return BadRule(i, absl::StrCat("protocol ", p));
      }
      protocols.Add(static_cast<uint8_t>(p));
    }
    const auto shared_src = std::make_shared<const acl::AddressSet>(std::move(*src));
    for (const v1::NetPortRange& range : rule.dst_ports()) {
      absl::StatusOr<acl::AddressSet> dst = ParseSet({range.ip()});
      if (!dst.ok()) {
        return BadRule(i, dst.status().message());
      }
      if (range.first() > range.last() || range.last() > 65535) {
        return BadRule(i, absl::StrCat("ports ", range.first(), "-", range.last()));
      }
      out.push_back({shared_src,
                     std::move(*dst),
                     {static_cast<uint16_t>(range.first()), static_cast<uint16_t>(range.last())},
                     protocols,
                     -1});
    }
  }
  return out;
}

}  // namespace meshvpn::control
