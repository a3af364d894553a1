// The policy model's small methods: protocol sets and names, rule labels, issue text.
#include "meshvpn/acl/policy.h"

#include <charconv>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace meshvpn::acl {
namespace {

struct ProtocolName {
  std::string_view name;
  uint8_t number;
};
// The names Tailscale's policy file accepts for "proto" (IANA numbers).
constexpr ProtocolName kProtocolNames[] = {
    {"icmp", 1}, {"igmp", 2},       {"ipv4", 4},   {"ip-in-ip", 4}, {"tcp", 6},
    {"egp", 8},  {"igp", 9},        {"udp", 17},   {"gre", 47},     {"esp", 50},
    {"ah", 51},  {"ipv6-icmp", 58}, {"sctp", 132},
};

}  // namespace

ProtocolSet ProtocolSet::Default() { return Of({kTcp, kUdp, kIcmp, kIcmpV6}); }

ProtocolSet ProtocolSet::All() {
  ProtocolSet s;
  s.bits_.fill(~uint64_t{0});
  return s;
}

ProtocolSet ProtocolSet::Of(std::initializer_list<uint8_t> protocols) {
  ProtocolSet s;
  for (uint8_t p : protocols) s.Add(p);
  return s;
}

std::vector<uint8_t> ProtocolSet::ToVector() const {
  std::vector<uint8_t> out;
  for (int p = 0; p < 256; ++p) {
    if (Has(static_cast<uint8_t>(p))) out.push_back(static_cast<uint8_t>(p));
  }
  return out;
}

std::string ProtocolSet::ToString() const {
  if (*this == All()) return "any";
  std::vector<std::string> names;
  for (uint8_t p : ToVector()) {
    std::string name = std::to_string(p);
    for (const ProtocolName& n : kProtocolNames) {
      if (n.number == p) {
        name = std::string(n.name);
        break;
      }
    }
    names.push_back(std::move(name));
  }
  return absl::StrJoin(names, ", ");
}

absl::StatusOr<uint8_t> ParseProtocol(std::string_view text) {
  const std::string lower = absl::AsciiStrToLower(std::string(text));
  for (const ProtocolName& n : kProtocolNames) {
    if (n.name == lower) return n.number;
  }
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (!text.empty() && text.size() <= 3 && (text.size() == 1 || text[0] != '0') &&
      ec == std::errc() && end == text.data() + text.size() && value <= 255) {
    return static_cast<uint8_t>(value);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown protocol \"", std::string(text),
                   "\" (want a name such as tcp, udp, icmp, sctp, or a number 0-255)"));
}

std::string Rule::Label() const {
  return absl::StrCat(origin == Origin::kAcl ? "rule " : "grant ", number);
}

std::string Rule::Summary() const {
  std::vector<std::string> srcs, dsts;
  for (const Selector& s : src) srcs.push_back(s.text);
  for (const Target& t : targets) {
    if (std::find(dsts.begin(), dsts.end(), t.text) == dsts.end()) dsts.push_back(t.text);
  }
  return absl::StrCat(absl::StrJoin(srcs, ", "), " → ", absl::StrJoin(dsts, ", "));
}

std::string PolicyIssue::ToString() const {
  std::string where = path.empty() ? "policy" : path;
  if (at.line > 0) absl::StrAppend(&where, " (line ", at.line, ", column ", at.column, ")");
  return absl::StrCat(where, ": ", message);
}

const std::vector<std::string>& Policy::GroupMembers(std::string_view group) const {
  static const std::vector<std::string> kNone;
  const auto it = groups.find(std::string(group));
  return it == groups.end() ? kNone : it->second;
}

}  // namespace meshvpn::acl
