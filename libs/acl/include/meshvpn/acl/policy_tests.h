// Running a policy's `tests` and `sshTests`: every assertion with its outcome, so that a policy
// whose tests fail can be refused with the reason.
#pragma once

#include <string>
#include <vector>

#include "meshvpn/acl/evaluator.h"

namespace meshvpn::acl {

struct TestOutcome {
  std::string section;  // "tests[0]" or "sshTests[1]"
  SourcePosition at;
  std::string src;  // "alice@example.com"
  std::string dst;  // "tag:prod:80", or "tag:server as root"
  bool expect_allow = true;
  bool passed = false;
  std::string detail;  // "allowed by rule 1", "no rule allows it", "denied, but expected ..."
};

// `inventory` gives users and tags their nodes' addresses (so IP rules apply to them); it may be
// empty, and the tests are then decided on identities alone, as Tailscale's are.
std::vector<TestOutcome> RunPolicyTests(const Policy& policy, const Inventory& inventory);

// The failed outcomes as one error ("tests[0]: alice@example.com -> tag:prod:80: ..."), or OK.
absl::Status CheckPolicyTests(const Policy& policy, const Inventory& inventory);

}  // namespace meshvpn::acl
