// Selectors, ports, destinations and grant ip entries: the strings inside a policy's rules.
#include "meshvpn/acl/selector_parser.h"

#include <algorithm>
#include <charconv>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace meshvpn::acl {
namespace {

std::string Quote(std::string_view s) { return absl::StrCat("\"", std::string(s), "\""); }

absl::Status Bad(std::string_view what) { return absl::InvalidArgumentError(std::string(what)); }

absl::StatusOr<uint16_t> ParsePort(std::string_view text) {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || text.size() > 5 || ec != std::errc() || end != text.data() + text.size() ||
      value > 65535 || (text.size() > 1 && text[0] == '0')) {
    return Bad(absl::StrCat("bad port ", Quote(text), " (want 0-65535)"));
  }
  return static_cast<uint16_t>(value);
}

// Grants refuse port 0 (Tailscale: "first port must be >0, or use '*' for wildcard").
absl::Status NoPortZero(const std::vector<PortRange>& ports) {
  for (const PortRange& r : ports) {
    if (r.first == 0 && !r.all()) return Bad("a grant's first port must be above 0 (or use *)");
  }
  return absl::OkStatus();
}

const char* PlaceName(SelectorPlace place) {
  switch (place) {
    case SelectorPlace::kSrc:
      return "a source";
    case SelectorPlace::kDst:
      return "a destination";
    case SelectorPlace::kOwner:
      return "an owner";
    case SelectorPlace::kSshSrc:
      return "an ssh source";
    case SelectorPlace::kSshDst:
      return "an ssh destination";
  }
  return "?";
}

absl::StatusOr<Selector> ParseAutogroup(std::string_view text, SelectorPlace place) {
  Selector s;
  const bool dst = place == SelectorPlace::kDst || place == SelectorPlace::kSshDst;
  if (text == "autogroup:member") {
    s.kind = Selector::Kind::kAutogroupMember;
  } else if (text == "autogroup:tagged") {
    s.kind = Selector::Kind::kAutogroupTagged;
  } else if (text == "autogroup:self") {
    if (!dst) return Bad("autogroup:self is only allowed as a destination");
    s.kind = Selector::Kind::kAutogroupSelf;
  } else if (text == "autogroup:internet") {
    if (place != SelectorPlace::kDst) {
      return Bad("autogroup:internet is only allowed as an acls or grants destination");
    }
    s.kind = Selector::Kind::kAutogroupInternet;
  } else if (text == "autogroup:admin" || text == "autogroup:owner" ||
             text == "autogroup:it-admin" || text == "autogroup:network-admin" ||
             text == "autogroup:billing-admin" || text == "autogroup:auditor") {
    // Tailscale's admin roles. meshvpn's users have no roles, so these name nobody.
    if (place == SelectorPlace::kDst || place == SelectorPlace::kSshDst) {
      return Bad(absl::StrCat(std::string(text), " is not allowed as ", PlaceName(place)));
    }
    s.kind = Selector::Kind::kAutogroupRole;
  } else if (text == "autogroup:danger-all") {
    if (place != SelectorPlace::kSrc) {
      return Bad(absl::StrCat("autogroup:danger-all is only allowed as a source"));
    }
    s.kind = Selector::Kind::kAllAddresses;
  } else {
    return Bad(absl::StrCat("unknown autogroup ", Quote(text),
                            " (meshvpn knows autogroup:member, autogroup:tagged, autogroup:self, "
                            "autogroup:internet, autogroup:danger-all and the admin roles)"));
  }
  return s;
}

}  // namespace

bool IsTagName(std::string_view text) {
  return std::string_view(text).starts_with("tag:") && text.size() > 4 &&
         absl::ascii_isalpha(static_cast<unsigned char>(text[4])) &&
         text.find_first_of(" ,:*@", 4) == std::string_view::npos;
}

bool UserMatches(std::string_view selector, std::string_view login) {
  if (selector == login) return true;
  // Headscale's "alice@" names the user whose login is "alice" (a name without a domain).
  return !selector.empty() && selector.back() == '@' &&
         login == selector.substr(0, selector.size() - 1);
}

absl::StatusOr<Selector> ParseSelector(std::string_view text, SelectorPlace place,
                                       const Policy& policy) {
  Selector s;
  s.text = std::string(text);
  if (text.empty()) return Bad("empty selector");
  if (text == "*") {
    if (place == SelectorPlace::kOwner || place == SelectorPlace::kSshSrc ||
        place == SelectorPlace::kSshDst) {
      return Bad(absl::StrCat("\"*\" is not allowed as ", PlaceName(place)));
    }
    s.kind = Selector::Kind::kAny;
    return s;
  }
  if (std::string_view(text).starts_with("group:")) {
    if (!policy.groups.contains(std::string(text))) {
      return Bad(absl::StrCat("undefined group ", Quote(text), " (not in groups)"));
    }
    s.kind = Selector::Kind::kGroup;
    return s;
  }
  if (std::string_view(text).starts_with("tag:")) {
    if (!IsTagName(text)) {
      return Bad(absl::StrCat("bad tag ", Quote(text), " (a letter must follow \"tag:\")"));
    }
    if (!policy.tag_owners.contains(std::string(text))) {
      return Bad(absl::StrCat("tag ", Quote(text), " has no owners (not in tagOwners)"));
    }
    s.kind = Selector::Kind::kTag;
    return s;
  }
  if (std::string_view(text).starts_with("autogroup:")) {
    absl::StatusOr<Selector> a = ParseAutogroup(text, place);
    if (!a.ok()) return a.status();
    a->text = s.text;
    return a;
  }
  if (text.find('@') != std::string_view::npos) {
    if (text.front() == '@' || std::count(text.begin(), text.end(), '@') != 1) {
      return Bad(absl::StrCat("bad user ", Quote(text), " (want login@domain or login@)"));
    }
    s.kind = Selector::Kind::kUser;
    return s;
  }
  if (const auto host = policy.hosts.find(std::string(text)); host != policy.hosts.end()) {
    if (place == SelectorPlace::kOwner || place == SelectorPlace::kSshSrc ||
        place == SelectorPlace::kSshDst) {
      return Bad(absl::StrCat("host ", Quote(text), " is not allowed as ", PlaceName(place)));
    }
    s.kind = Selector::Kind::kHost;
    s.prefix = host->second;
    return s;
  }
  if (absl::StatusOr<Prefix> p = ParsePrefix(text); p.ok()) {
    if (place == SelectorPlace::kOwner || place == SelectorPlace::kSshSrc ||
        place == SelectorPlace::kSshDst) {
      return Bad(absl::StrCat("an IP address is not allowed as ", PlaceName(place)));
    }
    s.kind = Selector::Kind::kPrefix;
    s.prefix = *p;
    return s;
  } else if (text.find('/') != std::string_view::npos ||
             text.find_first_not_of("0123456789.") == std::string_view::npos ||
             text.find(':') != std::string_view::npos) {
    return p.status();  // looks like an address or CIDR but is not one
  }
  return Bad(absl::StrCat("undefined host ", Quote(text),
                          " (not in hosts, and not a user, group, tag, autogroup or IP)"));
}

absl::StatusOr<std::vector<PortRange>> ParsePorts(std::string_view text) {
  std::vector<PortRange> out;
  if (text == "*") {
    out.push_back({0, 65535});
    return out;
  }
  if (text.empty()) return Bad("missing ports (want *, 22, 80,443 or 1000-2000)");
  for (absl::string_view part_view :
       absl::StrSplit(absl::string_view(text.data(), text.size()), ',')) {
    const std::string_view part(part_view.data(), part_view.size());
    const size_t dash = part.find('-');
    PortRange r;
    absl::StatusOr<uint16_t> first = ParsePort(part.substr(0, dash));
    if (!first.ok()) return first.status();
    r.first = r.last = *first;
    if (dash != std::string_view::npos) {
      absl::StatusOr<uint16_t> last = ParsePort(part.substr(dash + 1));
      if (!last.ok()) return last.status();
      if (*last < *first) {
        return Bad(absl::StrCat("bad port range ", Quote(part), " (first above last)"));
      }
      r.last = *last;
    }
    out.push_back(r);
  }
  return out;
}

absl::Status SplitHostPorts(std::string_view text, std::string* host, std::string* ports) {
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return Bad(absl::StrCat("bad destination ", Quote(text), " (want [IPv6]:ports)"));
    }
    *host = std::string(text.substr(1, close - 1));
    *ports = std::string(text.substr(close + 2));
    return absl::OkStatus();
  }
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Bad(absl::StrCat("destination ", Quote(text), " has no ports (want host:ports)"));
  }
  *host = std::string(text.substr(0, colon));
  *ports = std::string(text.substr(colon + 1));
  return absl::OkStatus();
}

absl::Status ParseGrantIp(std::string_view text, ProtocolSet* protocols,
                          std::vector<PortRange>* ports) {
  // "*" and bare ports mean the default protocols (TCP, UDP, ICMP), as in an acls rule.
  if (text == "*") {
    *protocols = ProtocolSet::Default();
    *ports = {{0, 65535}};
    return absl::OkStatus();
  }
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    *protocols = ProtocolSet::Default();
    absl::StatusOr<std::vector<PortRange>> p = ParsePorts(text);
    if (!p.ok()) return p.status();
    if (absl::Status s = NoPortZero(*p); !s.ok()) return s;
    *ports = std::move(*p);
    return absl::OkStatus();
  }
  absl::StatusOr<uint8_t> protocol = ParseProtocol(text.substr(0, colon));
  if (!protocol.ok()) return protocol.status();
  *protocols = ProtocolSet::Of({*protocol});
  absl::StatusOr<std::vector<PortRange>> p = ParsePorts(text.substr(colon + 1));
  if (!p.ok()) return p.status();
  if (!ProtocolSet::HasPorts(*protocol) && !(p->size() == 1 && (*p)[0].all())) {
    return Bad(absl::StrCat("protocol ", std::string(text.substr(0, colon)), " has no ports (use ",
                            std::string(text.substr(0, colon)), ":*)"));
  }
  if (absl::Status s = NoPortZero(*p); !s.ok()) return s;
  *ports = std::move(*p);
  return absl::OkStatus();
}

}  // namespace meshvpn::acl
