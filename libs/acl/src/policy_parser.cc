// ParsePolicy: HuJSON text → Policy, with every problem collected as a PolicyIssue that names
// its JSON path and position. Keys are matched case-insensitively, as Go's encoding/json (and
// so Tailscale) does, which keeps old policies ("ACLs", "Users", "Ports") working.
#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "meshvpn/acl/policy.h"
#include "meshvpn/acl/selector_parser.h"

namespace meshvpn::acl {
namespace {

std::string Lower(std::string_view s) { return absl::AsciiStrToLower(std::string(s)); }

// Top-level sections Tailscale has and meshvpn accepts without acting on them.
constexpr std::string_view kIgnoredSections[] = {
    "nodeattrs", "derpmap", "disableipv4",       "randomizeclientport", "onecgnatroute",
    "postures",  "ipsets",  "defaultsrcposture", "nodevisibility",      "attrconfig",
};

class PolicyReader {
 public:
  explicit PolicyReader(std::vector<PolicyIssue>& issues) : issues_(issues) {}

  void Read(const JsonValue& root) {
    std::map<std::string, const JsonValue*> top;
    if (!Fields(root, "",
                {"groups", "hosts", "tagowners", "acls", "grants", "ssh", "tests", "autoapprovers",
                 "sshtests"},
                /*ignored=*/true, &top)) {
      return;
    }
    // Names first: rules refer to groups, hosts and tags wherever they appear in the file.
    if (const JsonValue* v = Get(top, "groups")) ReadGroups(*v);
    if (const JsonValue* v = Get(top, "hosts")) ReadHosts(*v);
    if (const JsonValue* v = Get(top, "tagowners")) ReadTagOwners(*v);
    if (const JsonValue* v = Get(top, "acls")) ReadAcls(*v);
    if (const JsonValue* v = Get(top, "grants")) ReadGrants(*v);
    if (const JsonValue* v = Get(top, "ssh")) ReadSsh(*v);
    if (const JsonValue* v = Get(top, "tests")) ReadTests(*v);
    if (const JsonValue* v = Get(top, "autoapprovers")) ReadAutoApprovers(*v);
    if (const JsonValue* v = Get(top, "sshtests")) ReadSshTests(*v);
    if (!top.contains("acls") && !top.contains("grants")) AddImplicitAllowAll();
  }

  Policy policy;

 private:
  static const JsonValue* Get(const std::map<std::string, const JsonValue*>& m,
                              const std::string& key) {
    const auto it = m.find(key);
    return it == m.end() ? nullptr : it->second;
  }

  void Issue(std::string path, SourcePosition at, std::string message) {
    issues_.push_back({std::move(path), at, std::move(message)});
  }
  void Warn(std::string path, SourcePosition at, std::string message) {
    policy.warnings.push_back({std::move(path), at, std::move(message)});
  }

  bool Expect(const JsonValue& v, JsonValue::Kind kind, const std::string& path) {
    if (v.kind() == kind) return true;
    Issue(path, v.position(),
          absl::StrCat("want ", std::string(JsonValue::KindName(kind)), ", got ",
                       std::string(JsonValue::KindName(v.kind()))));
    return false;
  }

  // The members of object `v` by lower-cased key; unknown keys and keys that differ only in
  // case are issues. With `ignored`, Tailscale's sections meshvpn does not act on are warnings.
  bool Fields(const JsonValue& v, const std::string& path,
              std::initializer_list<std::string_view> known, bool ignored,
              std::map<std::string, const JsonValue*>* out) {
    if (!Expect(v, JsonValue::Kind::kObject, path.empty() ? "policy" : path)) return false;
    for (const JsonValue::Member& m : v.members()) {
      const std::string key = Lower(m.first);
      const std::string where = path.empty() ? m.first : absl::StrCat(path, ".", m.first);
      if (out->contains(key)) {
        Issue(where, m.second.position(),
              absl::StrCat("\"", m.first, "\" given twice (keys are case-insensitive)"));
        continue;
      }
      if (std::find(std::begin(known), std::end(known), key) != std::end(known)) {
        (*out)[key] = &m.second;
      } else if (ignored && std::find(std::begin(kIgnoredSections), std::end(kIgnoredSections),
                                      key) != std::end(kIgnoredSections)) {
        (*out)[key] = nullptr;
        Warn(where, m.second.position(), "accepted but not enforced by meshvpn");
      } else {
        std::vector<std::string> names;
        for (std::string_view k : known) names.emplace_back(k);
        Issue(where, m.second.position(),
              absl::StrCat("unknown field \"", m.first, "\" (known: ", absl::StrJoin(names, ", "),
                           ")"));
      }
    }
    return true;
  }

  // A list of strings; non-strings are issues and left out.
  std::vector<const JsonValue*> Strings(const JsonValue& v, const std::string& path) {
    std::vector<const JsonValue*> out;
    if (!Expect(v, JsonValue::Kind::kArray, path)) return out;
    for (size_t i = 0; i < v.elements().size(); ++i) {
      const JsonValue& e = v.elements()[i];
      if (Expect(e, JsonValue::Kind::kString, absl::StrCat(path, "[", i, "]"))) out.push_back(&e);
    }
    return out;
  }

  std::optional<Selector> Sel(const JsonValue& v, SelectorPlace place, const std::string& path) {
    // Tailscale trims the spaces around a name ("tag:server " works).
    absl::StatusOr<Selector> s =
        ParseSelector(std::string(absl::StripAsciiWhitespace(v.text())), place, policy);
    if (!s.ok()) {
      Issue(path, v.position(), std::string(s.status().message()));
      return std::nullopt;
    }
    s->at = v.position();
    return *s;
  }

  std::vector<Selector> Selectors(const JsonValue& v, SelectorPlace place, const std::string& path,
                                  bool required) {
    std::vector<Selector> out;
    const std::vector<const JsonValue*> strings = Strings(v, path);
    if (required && v.is_array() && v.elements().empty()) {
      Issue(path, v.position(), "must not be empty");
    }
    for (size_t i = 0; i < strings.size(); ++i) {
      if (auto s = Sel(*strings[i], place, absl::StrCat(path, "[", i, "]"))) out.push_back(*s);
    }
    return out;
  }

  void ReadGroups(const JsonValue& v) {
    if (!Expect(v, JsonValue::Kind::kObject, "groups")) return;
    for (const auto& [name, members] : v.members()) {
      const std::string path = absl::StrCat("groups.", name);
      if (!std::string_view(name).starts_with("group:") || name.size() == 6) {
        Issue(path, members.position(), "a group's name must start with \"group:\"");
        continue;
      }
      std::vector<std::string>& logins = policy.groups[name];
      const std::vector<const JsonValue*> strings = Strings(members, path);
      for (size_t i = 0; i < strings.size(); ++i) {
        const std::string& m = strings[i]->text();
        const std::string at = absl::StrCat(path, "[", i, "]");
        if (std::string_view(m).starts_with("group:")) {
          Issue(at, strings[i]->position(), "a group cannot contain another group");
        } else if (std::string_view(m).starts_with("tag:") ||
                   std::string_view(m).starts_with("autogroup:")) {
          Issue(at, strings[i]->position(), "a group contains only users (login@domain)");
        } else if (m.find('@') == std::string::npos || m.front() == '@') {
          Issue(at, strings[i]->position(),
                absl::StrCat("\"", m, "\" is not a user login (want login@domain or login@)"));
        } else {
          logins.push_back(m);
        }
      }
    }
  }

  void ReadHosts(const JsonValue& v) {
    if (!Expect(v, JsonValue::Kind::kObject, "hosts")) return;
    for (const auto& [name, value] : v.members()) {
      const std::string path = absl::StrCat("hosts.", name);
      if (name.empty() || name.find_first_of(":@/*, ") != std::string::npos ||
          std::string_view(name).starts_with("group:") || ParsePrefix(name).ok()) {
        Issue(path, value.position(),
              absl::StrCat("bad host name \"", name, "\" (letters, digits, '-', '.')"));
        continue;
      }
      if (!Expect(value, JsonValue::Kind::kString, path)) continue;
      absl::StatusOr<Prefix> p = ParsePrefix(value.text());
      if (!p.ok()) {
        Issue(path, value.position(), std::string(p.status().message()));
        continue;
      }
      policy.hosts[name] = *p;
    }
  }

  void ReadTagOwners(const JsonValue& v) {
    if (!Expect(v, JsonValue::Kind::kObject, "tagOwners")) return;
    // Tags may own tags: know every name before reading any owner list.
    for (const auto& [name, owners] : v.members()) {
      if (IsTagName(name)) policy.tag_owners[name];
    }
    for (const auto& [name, owners] : v.members()) {
      const std::string path = absl::StrCat("tagOwners.", name);
      if (!IsTagName(name)) {
        Issue(path, owners.position(),
              "a tag's name is \"tag:\" and then a letter, without spaces, ':', ',' or '@'");
        continue;
      }
      policy.tag_owners[name] = Selectors(owners, SelectorPlace::kOwner, path, false);
    }
  }

  std::optional<ProtocolSet> Proto(const JsonValue& v, const std::string& path) {
    std::string text;
    if (v.is_string()) {
      text = v.text();
    } else if (v.is_number()) {
      text = v.text();
    } else {
      Expect(v, JsonValue::Kind::kString, path);
      return std::nullopt;
    }
    absl::StatusOr<uint8_t> p = ParseProtocol(text);
    if (!p.ok()) {
      Issue(path, v.position(), std::string(p.status().message()));
      return std::nullopt;
    }
    return ProtocolSet::Of({*p});
  }

  void ReadAcls(const JsonValue& v) {
    if (!Expect(v, JsonValue::Kind::kArray, "acls")) return;
    for (size_t i = 0; i < v.elements().size(); ++i) {
      const JsonValue& e = v.elements()[i];
      const std::string path = absl::StrCat("acls[", i, "]");
      std::map<std::string, const JsonValue*> f;
      if (!Fields(e, path, {"action", "src", "dst", "proto", "users", "ports", "srcposture"}, false,
                  &f)) {
        continue;
      }
      Rule rule;
      rule.origin = Rule::Origin::kAcl;
      rule.number = static_cast<int>(i) + 1;
      rule.at = e.position();
      const JsonValue* action = Get(f, "action");
      if (action == nullptr) {
        Issue(path, e.position(), "missing \"action\" (want \"accept\")");
      } else if (Expect(*action, JsonValue::Kind::kString, path + ".action") &&
                 action->text() != "accept") {
        Issue(path + ".action", action->position(),
              absl::StrCat("action \"", action->text(),
                           "\" is not supported: rules only accept (whatever no rule accepts is "
                           "denied)"));
      }
      const JsonValue* src = Get(f, "src") ? Get(f, "src") : Get(f, "users");
      const JsonValue* dst = Get(f, "dst") ? Get(f, "dst") : Get(f, "ports");
      if (Get(f, "src") && Get(f, "users")) Issue(path, e.position(), "both \"src\" and \"users\"");
      if (Get(f, "dst") && Get(f, "ports")) Issue(path, e.position(), "both \"dst\" and \"ports\"");
      if (Get(f, "srcposture")) {
        Warn(path + ".srcPosture", Get(f, "srcposture")->position(), "not enforced by meshvpn");
      }
      if (src == nullptr) {
        Issue(path, e.position(), "missing \"src\"");
      } else {
        rule.src = Selectors(*src, SelectorPlace::kSrc, path + ".src", true);
      }
      ProtocolSet protocols = ProtocolSet::Default();
      bool protocol_given = false;
      if (const JsonValue* proto = Get(f, "proto")) {
        if (auto p = Proto(*proto, path + ".proto")) {
          protocols = *p;
          protocol_given = true;
        }
      }
      if (dst == nullptr) {
        Issue(path, e.position(), "missing \"dst\"");
      } else {
        const std::vector<const JsonValue*> dsts = Strings(*dst, path + ".dst");
        if (dst->is_array() && dst->elements().empty()) {
          Issue(path + ".dst", dst->position(), "must not be empty");
        }
        for (size_t j = 0; j < dsts.size(); ++j) {
          ReadAclTarget(*dsts[j], protocols, protocol_given, absl::StrCat(path, ".dst[", j, "]"),
                        rule);
        }
      }
      CheckSelfSources(rule, /*star_allowed=*/true, path);
      policy.rules.push_back(std::move(rule));
    }
  }

  // autogroup:self narrows the sources to the destination's own user, so they must be users.
  void CheckSelfSources(const Rule& rule, bool star_allowed, const std::string& path) {
    // A grant with only "app" has its destinations in visibility_only.
    const bool has_self =
        std::any_of(
            rule.targets.begin(), rule.targets.end(),
            [](const Target& t) { return t.selector.kind == Selector::Kind::kAutogroupSelf; }) ||
        std::any_of(rule.visibility_only.begin(), rule.visibility_only.end(),
                    [](const Selector& s) { return s.kind == Selector::Kind::kAutogroupSelf; });
    if (!has_self) return;
    for (const Selector& s : rule.src) {
      using K = Selector::Kind;
      if (s.kind == K::kUser || s.kind == K::kGroup || s.kind == K::kAutogroupMember ||
          (s.kind == K::kAny && star_allowed)) {
        continue;
      }
      Issue(path + ".src", s.at,
            absl::StrCat("autogroup:self can only be used with users, groups or "
                         "autogroup:member",
                         star_allowed ? " (or \"*\")" : "", " as sources, not \"", s.text, "\""));
    }
  }

  void AddImplicitAllowAll() {
    Rule rule;
    rule.origin = Rule::Origin::kAcl;
    rule.number = 0;
    Selector any;
    any.kind = Selector::Kind::kAny;
    any.text = "*";
    rule.src.push_back(any);
    rule.targets.push_back({any, {{0, 65535}}, ProtocolSet::Default(), "*:*"});
    policy.rules.push_back(std::move(rule));
    policy.implicit_allow_all = true;
  }

  void ReadAclTarget(const JsonValue& v, const ProtocolSet& protocols, bool protocol_given,
                     const std::string& path, Rule& rule) {
    std::string host, ports_text;
    if (absl::Status s = SplitHostPorts(v.text(), &host, &ports_text); !s.ok()) {
      Issue(path, v.position(), std::string(s.message()));
      return;
    }
    absl::StatusOr<std::vector<PortRange>> ports = ParsePorts(ports_text);
    if (!ports.ok()) {
      Issue(path, v.position(), std::string(ports.status().message()));
      return;
    }
    if (protocol_given && !protocols.AnyWithPorts() && !(ports->size() == 1 && (*ports)[0].all())) {
      Issue(
          path, v.position(),
          absl::StrCat("protocol ", protocols.ToString(), " has no ports (use \"", host, ":*\")"));
      return;
    }
    JsonValue host_value = JsonValue::String(host, v.position());
    std::optional<Selector> selector = Sel(host_value, SelectorPlace::kDst, path);
    if (!selector) return;
    rule.targets.push_back({*selector, std::move(*ports), protocols, v.text()});
  }

  void ReadGrants(const JsonValue& v) {
    if (!Expect(v, JsonValue::Kind::kArray, "grants")) return;
    for (size_t i = 0; i < v.elements().size(); ++i) {
      const JsonValue& e = v.elements()[i];
      const std::string path = absl::StrCat("grants[", i, "]");
      std::map<std::string, const JsonValue*> f;
      if (!Fields(e, path, {"src", "dst", "ip", "app", "via", "srcposture"}, false, &f)) continue;
      Rule rule;
      rule.origin = Rule::Origin::kGrant;
      rule.number = static_cast<int>(i) + 1;
      rule.at = e.position();
      if (const JsonValue* via = Get(f, "via")) {
        for (const JsonValue* tag : Strings(*via, path + ".via")) {
          if (!std::string_view(tag->text()).starts_with("tag:")) {
            Issue(path + ".via", tag->position(), "via can only name tags");
          } else {
            Sel(*tag, SelectorPlace::kDst, path + ".via");
          }
        }
      }
      for (const char* ignored : {"app", "via", "srcposture"}) {
        if (const JsonValue* x = Get(f, ignored)) {
          Warn(absl::StrCat(path, ".", ignored), x->position(),
               "accepted but not enforced by meshvpn");
        }
      }
      if (const JsonValue* src = Get(f, "src")) {
        rule.src = Selectors(*src, SelectorPlace::kSrc, path + ".src", true);
      } else {
        Issue(path, e.position(), "missing \"src\"");
      }
      std::vector<Selector> dsts;
      if (const JsonValue* dst = Get(f, "dst")) {
        dsts = Selectors(*dst, SelectorPlace::kDst, path + ".dst", true);
        for (const Selector& d : dsts) {
          if (d.kind == Selector::Kind::kPrefix && d.prefix.length == 0) {
            Issue(path + ".dst", d.at,
                  "to allow all IP addresses, use \"*\" or \"autogroup:internet\"");
          }
        }
      } else {
        Issue(path, e.position(), "missing \"dst\"");
      }
      const JsonValue* ip = Get(f, "ip");
      const bool no_ip = ip == nullptr || (ip->is_array() && ip->elements().empty());
      if (no_ip && Get(f, "app") == nullptr) {
        Issue(path, e.position(), "a grant needs \"ip\" (or \"app\")");
      }
      if (no_ip) rule.visibility_only = dsts;
      if (ip != nullptr) {
        const std::vector<const JsonValue*> ips = Strings(*ip, path + ".ip");
        for (size_t j = 0; j < ips.size(); ++j) {
          ProtocolSet protocols;
          std::vector<PortRange> ports;
          if (absl::Status s = ParseGrantIp(ips[j]->text(), &protocols, &ports); !s.ok()) {
            Issue(absl::StrCat(path, ".ip[", j, "]"), ips[j]->position(), std::string(s.message()));
            continue;
          }
          for (const Selector& d : dsts) {
            rule.targets.push_back(
                {d, ports, protocols, absl::StrCat(d.text, " ", ips[j]->text())});
          }
        }
      }
      CheckSelfSources(rule, /*star_allowed=*/false, path);
      policy.rules.push_back(std::move(rule));
    }
  }

  void ReadSsh(const JsonValue& v) {
    if (!Expect(v, JsonValue::Kind::kArray, "ssh")) return;
    for (size_t i = 0; i < v.elements().size(); ++i) {
      const JsonValue& e = v.elements()[i];
      const std::string path = absl::StrCat("ssh[", i, "]");
      std::map<std::string, const JsonValue*> f;
      if (!Fields(e, path, {"action", "src", "dst", "users", "checkperiod", "acceptenv"}, false,
                  &f)) {
        continue;
      }
      SshRule rule;
      rule.at = e.position();
      const JsonValue* action = Get(f, "action");
      if (action == nullptr) {
        Issue(path, e.position(), "missing \"action\" (want \"accept\" or \"check\")");
      } else if (Expect(*action, JsonValue::Kind::kString, path + ".action")) {
        rule.action = action->text();
        if (rule.action != "accept" && rule.action != "check") {
          Issue(path + ".action", action->position(),
                absl::StrCat("ssh action \"", rule.action, "\" (want \"accept\" or \"check\")"));
        }
      }
      // An empty or missing src or dst is allowed (the rule matches nobody); users are not.
      if (const JsonValue* src = Get(f, "src"); src && !src->is_null()) {
        rule.src = Selectors(*src, SelectorPlace::kSshSrc, path + ".src", false);
      }
      if (const JsonValue* dst = Get(f, "dst"); dst && !dst->is_null()) {
        rule.dst = Selectors(*dst, SelectorPlace::kSshDst, path + ".dst", false);
      }
      const JsonValue* users = Get(f, "users");
      if (users == nullptr || users->is_null() ||
          (users->is_array() && users->elements().empty())) {
        Issue(path, e.position(), "users must be specified");
      } else {
        for (const JsonValue* u : Strings(*users, path + ".users")) {
          const std::string login(absl::StripAsciiWhitespace(u->text()));
          if (login.empty() || login == "*") {
            Issue(path + ".users", u->position(),
                  absl::StrCat("user \"", login, "\" is not valid"));
          }
          rule.users.push_back(login);
        }
      }
      if (const JsonValue* env = Get(f, "acceptenv")) {
        for (const JsonValue* x : Strings(*env, path + ".acceptEnv")) {
          if (x->text().empty())
            Issue(path + ".acceptEnv", x->position(), "acceptEnv values cannot be empty");
          rule.accept_env.push_back(x->text());
        }
      }
      if (const JsonValue* period = Get(f, "checkperiod")) {
        if (Expect(*period, JsonValue::Kind::kString, path + ".checkPeriod")) {
          rule.check_period = period->text();
          if (rule.action != "check") {
            Issue(path + ".checkPeriod", period->position(), "checkPeriod needs action \"check\"");
          } else if (rule.check_period != "always" && !IsDuration(rule.check_period)) {
            Issue(path + ".checkPeriod", period->position(),
                  absl::StrCat("bad checkPeriod \"", rule.check_period,
                               "\" (want a duration such as 12h or 30m, or \"always\")"));
          } else if (rule.check_period != "always" &&
                     DurationSeconds(rule.check_period) > 168 * 3600) {
            Issue(path + ".checkPeriod", period->position(),
                  absl::StrCat("checkPeriod ", rule.check_period, " is above the maximum (168h)"));
          }
        }
      }
      policy.ssh.push_back(std::move(rule));
    }
  }

  // Go's duration syntax, whole units only: "12h", "1h30m", "90s".
  static bool IsDuration(std::string_view s) {
    if (s.empty()) return false;
    size_t i = 0;
    while (i < s.size()) {
      const size_t digits = i;
      while (i < s.size() && absl::ascii_isdigit(static_cast<unsigned char>(s[i]))) ++i;
      if (i == digits || i >= s.size()) return false;
      if (s[i] != 'h' && s[i] != 'm' && s[i] != 's') return false;
      ++i;
    }
    return true;
  }

  // The seconds of a duration IsDuration accepted (saturating).
  static uint64_t DurationSeconds(std::string_view s) {
    uint64_t total = 0, number = 0;
    for (char c : s) {
      if (absl::ascii_isdigit(static_cast<unsigned char>(c))) {
        number = std::min<uint64_t>(number * 10 + static_cast<uint64_t>(c - '0'), 1u << 30);
      } else {
        total += number * (c == 'h' ? 3600 : c == 'm' ? 60 : 1);
        number = 0;
      }
    }
    return total;
  }

  void ReadTestDestinations(const JsonValue& v, const std::string& path,
                            std::vector<PolicyTest::Destination>& out) {
    const std::vector<const JsonValue*> strings = Strings(v, path);
    for (size_t i = 0; i < strings.size(); ++i) {
      const std::string at = absl::StrCat(path, "[", i, "]");
      std::string host, port_text;
      if (absl::Status s = SplitHostPorts(strings[i]->text(), &host, &port_text); !s.ok()) {
        Issue(at, strings[i]->position(), std::string(s.message()));
        continue;
      }
      absl::StatusOr<std::vector<PortRange>> ports = ParsePorts(port_text);
      if (!ports.ok() || ports->size() != 1 || ports->front().first != ports->front().last) {
        Issue(at, strings[i]->position(),
              absl::StrCat("a test destination names one port (\"", strings[i]->text(), "\")"));
        continue;
      }
      JsonValue host_value = JsonValue::String(host, strings[i]->position());
      std::optional<Selector> selector = Sel(host_value, SelectorPlace::kDst, at);
      if (!selector) continue;
      using K = Selector::Kind;
      const bool cidr = (selector->kind == K::kPrefix && host.find('/') != std::string::npos) ||
                        (selector->kind == K::kHost &&
                         selector->prefix.length != selector->prefix.address.bits());
      if (selector->kind == K::kAny || selector->kind == K::kAutogroupInternet ||
          selector->kind == K::kAutogroupRole || cidr) {
        Issue(at, strings[i]->position(),
              absl::StrCat("a test destination is one host, user, group, tag, IP or "
                           "autogroup:self, not \"",
                           host, "\""));
        continue;
      }
      out.push_back({strings[i]->text(), *selector, ports->front().first, strings[i]->position()});
    }
  }

  void ReadTests(const JsonValue& v) {
    if (!Expect(v, JsonValue::Kind::kArray, "tests")) return;
    for (size_t i = 0; i < v.elements().size(); ++i) {
      const JsonValue& e = v.elements()[i];
      const std::string path = absl::StrCat("tests[", i, "]");
      std::map<std::string, const JsonValue*> f;
      if (!Fields(e, path, {"src", "srcpostureattrs", "proto", "accept", "deny", "user", "allow"},
                  false, &f)) {
        continue;
      }
      PolicyTest test;
      test.at = e.position();
      // "user" and "allow" are the old names of "src" and "accept".
      const JsonValue* src = Get(f, "src") ? Get(f, "src") : Get(f, "user");
      const JsonValue* accept_list = Get(f, "accept") ? Get(f, "accept") : Get(f, "allow");
      if (accept_list == nullptr && Get(f, "deny") == nullptr) {
        Issue(path, e.position(), "a test needs \"accept\" or \"deny\"");
      }
      if (src == nullptr) {
        Issue(path, e.position(), "missing \"src\"");
        continue;
      }
      if (!Expect(*src, JsonValue::Kind::kString, path + ".src")) continue;
      std::optional<Selector> s = Sel(*src, SelectorPlace::kSrc, path + ".src");
      if (!s) continue;
      if (s->kind == Selector::Kind::kAny || s->kind == Selector::Kind::kAllAddresses ||
          s->kind == Selector::Kind::kAutogroupRole) {
        Issue(path + ".src", src->position(),
              absl::StrCat("a test's source is one user, group, tag, host or IP, not \"", s->text,
                           "\""));
        continue;
      }
      test.src = *s;
      if (const JsonValue* proto = Get(f, "proto")) {
        if (auto p = Proto(*proto, path + ".proto")) test.protocol = p->ToVector().front();
      }
      if (const JsonValue* x = Get(f, "srcpostureattrs")) {
        Warn(path + ".srcPostureAttrs", x->position(), "not enforced by meshvpn");
      }
      if (accept_list != nullptr) ReadTestDestinations(*accept_list, path + ".accept", test.accept);
      if (const JsonValue* deny = Get(f, "deny"))
        ReadTestDestinations(*deny, path + ".deny", test.deny);
      policy.tests.push_back(std::move(test));
    }
  }

  void ReadSshTests(const JsonValue& v) {
    if (!Expect(v, JsonValue::Kind::kArray, "sshTests")) return;
    for (size_t i = 0; i < v.elements().size(); ++i) {
      const JsonValue& e = v.elements()[i];
      const std::string path = absl::StrCat("sshTests[", i, "]");
      std::map<std::string, const JsonValue*> f;
      if (!Fields(e, path, {"src", "dst", "accept", "check", "deny", "srcpostureattrs"}, false,
                  &f)) {
        continue;
      }
      SshTest test;
      test.at = e.position();
      const JsonValue* src = Get(f, "src");
      if (src == nullptr || !Expect(*src, JsonValue::Kind::kString, path + ".src")) {
        if (src == nullptr) Issue(path, e.position(), "missing \"src\"");
        continue;
      }
      std::optional<Selector> s = Sel(*src, SelectorPlace::kSshSrc, path + ".src");
      if (!s) continue;
      test.src = *s;
      if (const JsonValue* dst = Get(f, "dst")) {
        test.dst = Selectors(*dst, SelectorPlace::kSshDst, path + ".dst", true);
      } else {
        Issue(path, e.position(), "missing \"dst\"");
      }
      bool any = false;
      for (auto [field, out] : {std::pair{"accept", &test.accept}, std::pair{"check", &test.check},
                                std::pair{"deny", &test.deny}}) {
        const JsonValue* list = Get(f, field);
        if (list == nullptr) continue;
        for (const JsonValue* login : Strings(*list, absl::StrCat(path, ".", field))) {
          if (login->text().empty()) {
            Issue(absl::StrCat(path, ".", field), login->position(), "empty user name");
          }
          out->push_back(login->text());
          any = true;
        }
      }
      if (!any) Issue(path, e.position(), "an ssh test needs accept, check or deny users");
      policy.ssh_tests.push_back(std::move(test));
    }
  }

  void ReadAutoApprovers(const JsonValue& v) {
    std::map<std::string, const JsonValue*> f;
    if (!Fields(v, "autoApprovers", {"routes", "exitnode"}, false, &f)) return;
    if (const JsonValue* routes = Get(f, "routes")) {
      if (Expect(*routes, JsonValue::Kind::kObject, "autoApprovers.routes")) {
        for (const auto& [prefix_text, owners] : routes->members()) {
          const std::string path = absl::StrCat("autoApprovers.routes.", prefix_text);
          absl::StatusOr<Prefix> prefix = ParsePrefix(prefix_text);
          if (!prefix.ok()) {
            Issue(path, owners.position(), std::string(prefix.status().message()));
            continue;
          }
          policy.auto_approvers.routes.emplace_back(
              *prefix, Selectors(owners, SelectorPlace::kOwner, path, false));
        }
      }
    }
    if (const JsonValue* exit = Get(f, "exitnode")) {
      policy.auto_approvers.exit_node =
          Selectors(*exit, SelectorPlace::kOwner, "autoApprovers.exitNode", false);
    }
  }

  std::vector<PolicyIssue>& issues_;
};

}  // namespace

absl::StatusOr<Policy> ParsePolicy(std::string_view hujson, std::vector<PolicyIssue>* issues) {
  std::vector<PolicyIssue> local;
  std::vector<PolicyIssue>& found = issues ? *issues : local;
  found.clear();
  absl::StatusOr<JsonValue> root = ParseHuJson(hujson);
  if (!root.ok()) {
    found.push_back({"", {}, std::string(root.status().message())});
    return absl::InvalidArgumentError(absl::StrCat("policy: ", root.status().message()));
  }
  PolicyReader reader(found);
  reader.Read(*root);
  if (!found.empty()) {
    std::string message = found.front().ToString();
    if (found.size() > 1) absl::StrAppend(&message, " (and ", found.size() - 1, " more)");
    return absl::InvalidArgumentError(message);
  }
  return std::move(reader.policy);
}

}  // namespace meshvpn::acl
