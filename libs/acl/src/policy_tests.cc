// RunPolicyTests: a policy's `tests` (network access) and `sshTests` (logins), decided by the
// reference evaluator on identities, with the inventory's addresses when it has them.
#include "meshvpn/acl/policy_tests.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace meshvpn::acl {
namespace {

using K = Selector::Kind;

std::vector<Address> UserAddresses(const Inventory& inventory, const std::string& login) {
  std::vector<Address> out;
  for (const InventoryNode& n : inventory.nodes()) {
    if (!n.tagged() && UserMatches(login, n.user))
      out.insert(out.end(), n.ips.begin(), n.ips.end());
  }
  return out;
}

std::vector<Address> TagAddresses(const Inventory& inventory, const std::string& tag) {
  std::vector<Address> out;
  for (const InventoryNode& n : inventory.nodes()) {
    if (n.HasTag(tag)) out.insert(out.end(), n.ips.begin(), n.ips.end());
  }
  return out;
}

// The principals a test's selector stands for; a group stands for each of its members.
std::vector<Principal> Principals(const Selector& s, const Policy& policy,
                                  const Inventory& inventory, bool as_destination) {
  std::vector<Principal> out;
  // With an inventory, a user with no node names nobody (Tailscale's tests fail then).
  const bool known = inventory.size() > 0;
  switch (s.kind) {
    case K::kUser:
      if (!known || !UserAddresses(inventory, s.text).empty() ||
          std::any_of(
              inventory.nodes().begin(), inventory.nodes().end(),
              [&](const InventoryNode& n) { return !n.tagged() && UserMatches(s.text, n.user); })) {
        out.push_back(Principal::OfUser(s.text, UserAddresses(inventory, s.text)));
      }
      break;
    case K::kGroup:
      for (const std::string& m : policy.GroupMembers(s.text)) {
        out.push_back(Principal::OfUser(m, UserAddresses(inventory, m)));
      }
      break;
    case K::kTag:
      out.push_back(Principal::OfTag(s.text, TagAddresses(inventory, s.text)));
      break;
    case K::kHost:
    case K::kPrefix: {
      const Address a = s.prefix.address;
      if (int i = inventory.FindByAddress(a); i >= 0) {
        out.push_back(Principal::OfNodeAddress(inventory.nodes()[i], a));
      } else {
        out.push_back(Principal::OfAddress(a, as_destination && !TailnetAddresses().Contains(a)));
      }
      break;
    }
    case K::kAutogroupMember:
      out.push_back(Principal::OfUser("autogroup:member"));
      break;
    case K::kAutogroupTagged:
      out.push_back(Principal::OfTag("autogroup:tagged"));
      break;
    default:
      break;
  }
  for (Principal& p : out) p.label = s.text;
  return out;
}

// One test destination's question asked of each source in turn: which rules let the source reach
// any of `dsts` on `port` over any of `protocols` (what Evaluator::Decide answers flow by flow).
// Whether a target that is not autogroup:self holds one of the destinations does not depend on
// the source, so it is found once here: a test between two groups then costs members + members
// rule walks rather than members × members (a 3 KB policy of such tests took minutes).
class Reach {
 public:
  Reach(const Policy& policy, const Evaluator& evaluator, std::vector<Principal> dsts,
        const std::vector<uint8_t>& protocols, uint16_t port)
      : policy_(policy), evaluator_(evaluator), dsts_(std::move(dsts)) {
    const Principal nobody;  // non-self destinations do not look at the source
    for (const Rule& rule : policy.rules) {
      RuleReach r;
      for (const Target& t : rule.targets) {
        const bool admits = std::any_of(protocols.begin(), protocols.end(),
                                        [&](uint8_t p) { return Evaluator::Admits(t, p, port); });
        if (!admits) continue;
        if (t.selector.kind == K::kAutogroupSelf) {
          r.self = true;
        } else if (!r.any) {
          r.any = std::any_of(dsts_.begin(), dsts_.end(), [&](const Principal& d) {
            return evaluator.DestinationMatches(t.selector, nobody, d);
          });
        }
      }
      rules_.push_back(r);
    }
  }

  // The rules (their labels, in policy order) that let `src` reach one of the destinations.
  std::vector<std::string> RulesFor(const Principal& src) const {
    std::vector<std::string> out;
    Selector self;
    self.kind = K::kAutogroupSelf;
    for (size_t i = 0; i < rules_.size(); ++i) {
      const RuleReach& r = rules_[i];
      if (!r.any && !r.self) continue;
      const Rule& rule = policy_.rules[i];
      if (std::none_of(rule.src.begin(), rule.src.end(),
                       [&](const Selector& s) { return evaluator_.SourceMatches(s, src); })) {
        continue;
      }
      if (r.any || std::any_of(dsts_.begin(), dsts_.end(), [&](const Principal& d) {
            return evaluator_.DestinationMatches(self, src, d);
          })) {
        out.push_back(rule.Label());
      }
    }
    return out;
  }

 private:
  struct RuleReach {
    bool any = false;   // a target (not autogroup:self) admits and holds a destination
    bool self = false;  // an autogroup:self target admits
  };
  const Policy& policy_;
  const Evaluator& evaluator_;
  std::vector<Principal> dsts_;
  std::vector<RuleReach> rules_;
};

bool SshUserAllowed(const SshRule& rule, const std::string& login, const Principal& src) {
  for (const std::string& u : rule.users) {
    if (u == login) return true;
    if (u == "autogroup:nonroot" && login != "root") return true;
    if (u.rfind("localpart:*@", 0) == 0 && !src.user.empty()) {
      const std::string domain = u.substr(std::string("localpart:*").size());  // "@example.com"
      const size_t at = src.user.find('@');
      if (at != std::string::npos && src.user.substr(at) == domain &&
          src.user.substr(0, at) == login) {
        return true;
      }
    }
  }
  return false;
}

}  // namespace

std::vector<TestOutcome> RunPolicyTests(const Policy& policy, const Inventory& inventory) {
  const Evaluator evaluator(policy, inventory);
  std::vector<TestOutcome> out;
  for (size_t i = 0; i < policy.tests.size(); ++i) {
    const PolicyTest& test = policy.tests[i];
    const std::vector<Principal> sources = Principals(test.src, policy, inventory, false);
    for (int pass = 0; pass < 2; ++pass) {
      const bool expect_allow = pass == 0;
      for (const PolicyTest::Destination& d : expect_allow ? test.accept : test.deny) {
        TestOutcome o{
            absl::StrCat("tests[", i, "]"), d.at, test.src.text, d.text, expect_allow, false, ""};
        if (sources.empty()) {
          o.detail = absl::StrCat("source ", test.src.text, " names nobody");
          out.push_back(std::move(o));
          continue;
        }
        // Tests without "proto" ask about TCP or UDP.
        std::vector<uint8_t> protocols = {ProtocolSet::kTcp, ProtocolSet::kUdp};
        if (test.protocol) protocols = {*test.protocol};
        bool all_allowed = true, none_allowed = true;
        std::string why;
        // autogroup:self stands for each source's own user, so its question differs per source.
        const bool per_source = d.host.kind == K::kAutogroupSelf;
        std::optional<Reach> shared;
        if (!per_source) {
          shared.emplace(policy, evaluator, Principals(d.host, policy, inventory, true), protocols,
                         d.port);
        }
        for (const Principal& src : sources) {
          std::optional<Reach> own;
          if (per_source) {
            std::vector<Principal> dsts;
            if (!src.tagged() && !src.user.empty()) dsts.push_back(Principal::OfUser(src.user));
            own.emplace(policy, evaluator, std::move(dsts), protocols, d.port);
          }
          const std::vector<std::string> rules = (per_source ? *own : *shared).RulesFor(src);
          const bool allowed = !rules.empty();
          if (allowed) why = absl::StrCat("allowed by ", absl::StrJoin(rules, ", "));
          all_allowed &= allowed;
          none_allowed &= !allowed;
        }
        o.passed = expect_allow ? all_allowed : none_allowed;
        if (why.empty()) why = "no rule allows it";
        o.detail = o.passed ? why
                            : absl::StrCat(
                                  expect_allow ? "expected allowed, but " : "expected denied, but ",
                                  expect_allow ? "no rule allows it" : why);
        out.push_back(std::move(o));
      }
    }
  }

  for (size_t i = 0; i < policy.ssh_tests.size(); ++i) {
    const SshTest& test = policy.ssh_tests[i];
    const std::vector<Principal> sources = Principals(test.src, policy, inventory, false);
    for (const Selector& dst_selector : test.dst) {
      // Which ssh rules give each source the destination, for any login: found once per source
      // (not once per login and source), and the destinations a rule names other than through
      // autogroup:self once for all sources.
      const bool self_dst = dst_selector.kind == K::kAutogroupSelf;
      const std::vector<Principal> shared_dsts =
          self_dst ? std::vector<Principal>{} : Principals(dst_selector, policy, inventory, false);
      const Principal nobody;
      std::vector<bool> shared_reach;  // per ssh rule: a non-self dst holds a shared destination
      for (const SshRule& rule : policy.ssh) {
        shared_reach.push_back(
            std::any_of(shared_dsts.begin(), shared_dsts.end(), [&](const Principal& d) {
              return std::any_of(rule.dst.begin(), rule.dst.end(), [&](const Selector& s) {
                return s.kind != K::kAutogroupSelf && evaluator.DestinationMatches(s, nobody, d);
              });
            }));
      }
      std::vector<std::vector<bool>> gives(sources.size());  // [source][ssh rule]
      for (size_t k = 0; k < sources.size(); ++k) {
        const Principal& src = sources[k];
        const std::vector<Principal> own_dsts =
            self_dst ? std::vector<Principal>{Principal::OfUser(src.user)}
                     : std::vector<Principal>{};
        const std::vector<Principal>& dsts = self_dst ? own_dsts : shared_dsts;
        for (size_t r = 0; r < policy.ssh.size(); ++r) {
          const SshRule& rule = policy.ssh[r];
          const bool src_ok = std::any_of(rule.src.begin(), rule.src.end(), [&](const Selector& s) {
            return evaluator.SourceMatches(s, src);
          });
          const bool dst_ok =
              src_ok &&
              ((!self_dst && shared_reach[r]) ||
               std::any_of(dsts.begin(), dsts.end(), [&](const Principal& d) {
                 return std::any_of(rule.dst.begin(), rule.dst.end(), [&](const Selector& s) {
                   return (self_dst || s.kind == K::kAutogroupSelf) &&
                          evaluator.DestinationMatches(s, src, d);
                 });
               }));
          gives[k].push_back(dst_ok);
        }
      }
      for (const auto& [logins, want] :
           {std::pair{&test.accept, "accept"}, std::pair{&test.check, "check"},
            std::pair{&test.deny, "deny"}}) {
        for (const std::string& login : *logins) {
          TestOutcome o{absl::StrCat("sshTests[", i, "]"),
                        test.at,
                        test.src.text,
                        absl::StrCat(dst_selector.text, " as ", login),
                        std::string(want) != "deny",
                        false,
                        ""};
          bool all = !sources.empty(), none = true;
          for (size_t k = 0; k < sources.size(); ++k) {
            const Principal& src = sources[k];
            bool accepted = false, checked = false;
            for (size_t r = 0; r < policy.ssh.size(); ++r) {
              const SshRule& rule = policy.ssh[r];
              if (!gives[k][r] || !SshUserAllowed(rule, login, src)) continue;
              (rule.action == "check" ? checked : accepted) = true;
            }
            const bool ok = std::string(want) == "check" ? checked : (accepted || checked);
            all &= ok;
            none &= !(accepted || checked);
          }
          o.passed = std::string(want) == "deny" ? none : all;
          o.detail = o.passed ? "as expected"
                              : absl::StrCat("expected ", want, ", but ",
                                             std::string(want) == "deny" ? "an ssh rule allows it"
                                                                         : "no ssh rule gives it");
          out.push_back(std::move(o));
        }
      }
    }
  }
  return out;
}

absl::Status CheckPolicyTests(const Policy& policy, const Inventory& inventory) {
  std::vector<std::string> failures;
  for (const TestOutcome& o : RunPolicyTests(policy, inventory)) {
    if (!o.passed) {
      failures.push_back(absl::StrCat(o.section, " (line ", o.at.line, "): ", o.src, " -> ", o.dst,
                                      ": ", o.detail));
    }
  }
  if (failures.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("policy test failed: ", absl::StrJoin(failures, "; ")));
}

}  // namespace meshvpn::acl
