// The tailnet policy file's model (Tailscale's syntax: groups, tagOwners, hosts, acls, grants,
// autoApprovers, ssh, tests) and ParsePolicy, which reads HuJSON text into it and validates it.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "meshvpn/acl/address.h"
#include "meshvpn/acl/hujson.h"

namespace meshvpn::acl {

// One entry of a rule's src or dst (without its ports), of tagOwners or of autoApprovers.
struct Selector {
  enum class Kind : uint8_t {
    kAny,                // "*": as a source, the tailnet's addresses and approved subnet
                         // routes; as a destination, any address
    kAllAddresses,       // "autogroup:danger-all" (source only): any address at all
    kUser,               // "alice@example.com"; "alice@" (Headscale) names the login "alice"
    kGroup,              // "group:devs"
    kTag,                // "tag:prod"
    kHost,               // a name from `hosts`, resolved to `prefix`
    kPrefix,             // "100.64.0.5", "10.0.0.0/8"
    kAutogroupMember,    // every untagged node (a user's device)
    kAutogroupTagged,    // every tagged node
    kAutogroupSelf,      // dst only: the source user's own untagged nodes
    kAutogroupInternet,  // dst only: the internet, through an exit node
    kAutogroupRole,      // autogroup:admin, autogroup:owner, ...: roles, which meshvpn has not
  };
  Kind kind = Kind::kAny;
  std::string text;  // as written: "group:devs", "my-host", "10.0.0.0/8"
  Prefix prefix;     // kHost and kPrefix
  SourcePosition at;
};

// Whether `selector` (a kUser's text) names the user whose login is `login`.
bool UserMatches(std::string_view selector, std::string_view login);

struct PortRange {
  uint16_t first = 0;
  uint16_t last = 65535;
  bool all() const { return first == 0 && last == 65535; }
  bool Contains(uint16_t port) const { return first <= port && port <= last; }
  friend bool operator==(const PortRange&, const PortRange&) = default;
};

// IP protocol numbers (IANA). Without "proto" a rule covers TCP, UDP, ICMP and ICMPv6, as in
// Tailscale. Only TCP, UDP and SCTP have ports; for the others a rule's ports are not checked.
class ProtocolSet {
 public:
  static constexpr uint8_t kIcmp = 1, kTcp = 6, kUdp = 17, kIcmpV6 = 58, kSctp = 132;
  static ProtocolSet Default();
  static ProtocolSet All();
  static ProtocolSet Of(std::initializer_list<uint8_t> protocols);
  static bool HasPorts(uint8_t protocol) {
    return protocol == kTcp || protocol == kUdp || protocol == kSctp;
  }

  void Add(uint8_t protocol) { bits_[protocol >> 6] |= uint64_t{1} << (protocol & 63); }
  bool Has(uint8_t protocol) const { return (bits_[protocol >> 6] >> (protocol & 63)) & 1; }
  bool empty() const { return (bits_[0] | bits_[1] | bits_[2] | bits_[3]) == 0; }
  bool AnyWithPorts() const { return Has(kTcp) || Has(kUdp) || Has(kSctp); }
  // The numbers in ascending order.
  std::vector<uint8_t> ToVector() const;
  // "icmp, tcp, udp, ipv6-icmp" (ascending numbers) by name where one is known, else the
  // number; "any" for All().
  std::string ToString() const;

  friend bool operator==(const ProtocolSet&, const ProtocolSet&) = default;

 private:
  std::array<uint64_t, 4> bits_{};
};

// "tcp", "udp", "icmp", "ipv6-icmp", "sctp", ... (Tailscale's names) or "0".."255".
absl::StatusOr<uint8_t> ParseProtocol(std::string_view text);

// What a rule lets through to the nodes `selector` names: these ports over these protocols.
struct Target {
  Selector selector;
  std::vector<PortRange> ports;
  ProtocolSet protocols;
  std::string text;  // "tag:dev-servers:*", or a grant's "tag:x" with "tcp:443"
};

// One accept rule: any source may reach any target. An `acls` entry becomes one Rule; a grant
// becomes one Rule whose targets are its dst × its ip entries.
struct Rule {
  enum class Origin : uint8_t { kAcl, kGrant };
  Origin origin = Origin::kAcl;
  int number = 0;  // 1-based within its section: "rule 1", "grant 2"
  std::vector<Selector> src;
  std::vector<Target> targets;
  // A grant with only "app": it lets nothing through, but its peers still see each other.
  std::vector<Selector> visibility_only;
  SourcePosition at;

  std::string Label() const;    // "rule 1" / "grant 2"
  std::string Summary() const;  // "group:devs → tag:dev-servers:*"
};

// One `tests` entry: from src, these destinations must be accepted and these denied.
struct PolicyTest {
  struct Destination {
    std::string text;  // "tag:prod:80"
    Selector host;
    uint16_t port = 0;
    SourcePosition at;
  };
  Selector src;
  std::optional<uint8_t> protocol;  // "proto"; absent: TCP or UDP must be allowed (accept), or
                                    // neither (deny)
  std::vector<Destination> accept;
  std::vector<Destination> deny;
  SourcePosition at;
};

// One `sshTests` entry: from src to each dst, these logins must be accepted, checked or denied.
struct SshTest {
  Selector src;
  std::vector<Selector> dst;
  std::vector<std::string> accept;
  std::vector<std::string> check;
  std::vector<std::string> deny;
  SourcePosition at;
};

// One `ssh` entry (parsed and validated; enforced by an SSH server, which meshvpn does not have).
struct SshRule {
  std::string action;  // "accept" or "check"
  std::vector<Selector> src;
  std::vector<Selector> dst;
  std::vector<std::string> users;  // "root", "autogroup:nonroot", "alice", ...
  std::string check_period;        // "12h", "always", or empty
  std::vector<std::string> accept_env;
  SourcePosition at;
};

// Who may advertise a subnet route or an exit node and have it approved without an admin.
struct AutoApprovers {
  std::vector<std::pair<Prefix, std::vector<Selector>>> routes;
  std::vector<Selector> exit_node;
};

// A problem found in a policy: where (a JSON path and a position) and what.
struct PolicyIssue {
  std::string path;  // "acls[0].src[1]"
  SourcePosition at;
  std::string message;
  std::string ToString() const;  // "acls[0].src[1] (line 5, column 12): undefined group ..."
};

struct Policy {
  std::map<std::string, std::vector<std::string>> groups;   // group:x -> logins
  std::map<std::string, std::vector<Selector>> tag_owners;  // tag:x -> owners
  std::map<std::string, Prefix> hosts;                      // name -> prefix
  std::vector<Rule> rules;                                  // acls first, then grants
  std::vector<SshRule> ssh;
  std::vector<PolicyTest> tests;
  std::vector<SshTest> ssh_tests;
  // Neither "acls" nor "grants" was given: Tailscale then allows everything, and `rules` holds
  // that one implicit rule.
  bool implicit_allow_all = false;
  AutoApprovers auto_approvers;
  // Sections Tailscale has that meshvpn reads but does not act on (nodeAttrs, derpMap, ...).
  std::vector<PolicyIssue> warnings;

  // The members of a group (empty if unknown).
  const std::vector<std::string>& GroupMembers(std::string_view group) const;
};

// Parses and validates a policy file. Every problem is collected into `issues` (when given);
// the status names the first and how many more. The policy's own `tests` are not run here
// (RunPolicyTests does that).
absl::StatusOr<Policy> ParsePolicy(std::string_view hujson,
                                   std::vector<PolicyIssue>* issues = nullptr);

}  // namespace meshvpn::acl
