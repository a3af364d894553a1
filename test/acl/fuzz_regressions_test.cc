// What fuzzing the policy library (test/fuzz/acl_policy) turned up, one case each: a grant with
// only "app" to autogroup:self, which the compiled visibility missed; node ids in nodes.json
// that were cast from out-of-range doubles or collided; and policy tests between two groups,
// whose cost grew with members × members × rules (a 3 KB policy kept its checker busy for
// minutes).
#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "meshvpn/acl/compiled_policy.h"
#include "meshvpn/acl/evaluator.h"
#include "meshvpn/acl/inventory.h"
#include "meshvpn/acl/policy.h"
#include "meshvpn/acl/policy_tests.h"

namespace meshvpn::acl {
namespace {

InventoryNode Node(uint64_t id, std::string name, std::string user, std::vector<std::string> tags,
                   std::string ip) {
  InventoryNode n;
  n.id = id;
  n.name = std::move(name);
  n.user = std::move(user);
  n.tags = std::move(tags);
  n.ips = {*ParseAddress(ip)};
  return n;
}

}  // namespace

TEST_CASE("a grant with only app to autogroup:self lets each user's devices see each other",
          "[acl][fuzz]") {
  absl::StatusOr<Policy> policy = ParsePolicy(R"({
    "tagOwners": {"tag:server": ["odin@example.com"]},
    "grants": [{"src": ["odin@example.com"], "dst": ["autogroup:self"],
                "app": {"example.com/cap/web": [{}]}}],
  })");
  REQUIRE(policy.ok());
  const Inventory inventory({Node(1, "laptop", "odin@example.com", {}, "100.64.0.1"),
                             Node(2, "phone", "odin@example.com", {}, "100.64.0.2"),
                             Node(3, "thor", "thor@example.org", {}, "100.64.0.3"),
                             Node(4, "server", "odin@example.com", {"tag:server"}, "100.64.0.4")});
  const CompiledPolicy compiled = CompiledPolicy::Compile(*policy, inventory);
  const Evaluator reference(*policy, inventory);
  const auto& nodes = inventory.nodes();
  for (int v = 0; v < 4; ++v) {
    for (int p = 0; p < 4; ++p) {
      INFO(nodes[v].name << " sees " << nodes[p].name);
      CHECK(compiled.CanSee(v, p) == reference.CanSee(nodes[v], nodes[p]));
    }
  }
  CHECK(compiled.CanSee(0, 1));
  CHECK(compiled.CanSee(1, 0));
  CHECK_FALSE(compiled.CanSee(0, 2));  // another user
  CHECK_FALSE(compiled.CanSee(0, 3));  // odin's, but tagged
  CHECK(compiled.VisiblePeers(0) == std::vector<int>{1});
  // It lets no packet through.
  CHECK(compiled.filter(1).empty());
}

TEST_CASE("a grant with only app to autogroup:self takes the sources an ip grant takes",
          "[acl][fuzz]") {
  std::vector<PolicyIssue> issues;
  absl::StatusOr<Policy> policy = ParsePolicy(R"({
    "tagOwners": {"tag:server": ["odin@example.com"]},
    "grants": [{"src": ["tag:server"], "dst": ["autogroup:self"], "app": {"example.com/cap": [{}]}}],
  })",
                                              &issues);
  REQUIRE_FALSE(policy.ok());
  REQUIRE(issues.size() == 1);
  CHECK(issues[0].path == "grants[0].src");
  CHECK_THAT(issues[0].message, Catch::Contains("autogroup:self can only be used with users"));
}

TEST_CASE("nodes.json ids are whole numbers in range, and no two nodes share one", "[acl][fuzz]") {
  auto parse = [](const std::string& ids) {
    return ParseInventory(
        absl::StrCat(R"([{"name": "a", "user": "u@x", "ips": ["100.64.0.1"])", ids,
                     R"(}, {"name": "b", "user": "u@x", "ips": ["100.64.0.2"]}])"));
  };
  // 1e300 was cast to uint64_t (undefined behaviour), 1.5 was taken as 1.
  for (const char* bad : {R"(, "id": 1e300)", R"(, "id": 1.5)", R"(, "id": 18446744073709551616)",
                          R"(, "id": 0)", R"(, "id": -3)", R"(, "id": "7")"}) {
    INFO(bad);
    absl::StatusOr<Inventory> inventory = parse(bad);
    REQUIRE_FALSE(inventory.ok());
    CHECK(inventory.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(inventory.status().message()),
               Catch::Contains("nodes[0]") && Catch::Contains("id: want a positive integer"));
  }
  // Node b has id 2, its position: node a may not take it too (FindById would miss one).
  absl::StatusOr<Inventory> taken = parse(R"(, "id": 2)");
  REQUIRE_FALSE(taken.ok());
  CHECK_THAT(std::string(taken.status().message()),
             Catch::Contains("nodes[1]") && Catch::Contains("two nodes have id 2"));

  absl::StatusOr<Inventory> big = parse(R"(, "id": 18446744073709551615)");
  REQUIRE(big.ok());
  CHECK(big->nodes()[0].id == 18446744073709551615u);
  CHECK(big->FindById(18446744073709551615u) == 0);
  CHECK(big->FindById(2) == 1);

  absl::StatusOr<Inventory> no_ips = ParseInventory(R"([{"name": "a", "user": "u@x"}])");
  REQUIRE_FALSE(no_ips.ok());
  CHECK_THAT(std::string(no_ips.status().message()), Catch::Contains("missing \"ips\""));
}

TEST_CASE("policy tests between two big groups are checked in time linear in their members",
          "[acl][fuzz]") {
  // 300 members and 60 destinations naming the group: 3.5 KB. Flow by flow, that was
  // 60 × 300 sources × 300 destinations × 2 protocols decisions, each walking the 300 members
  // (about 20 s in a release build); now each destination's rules are resolved once.
  std::vector<std::string> members, dsts;
  for (int i = 0; i < 300; ++i) members.push_back(absl::StrCat("\"u", i, "@\""));
  for (int i = 0; i < 60; ++i) dsts.push_back(absl::StrCat("\"group:g:", 1000 + i, "\""));
  const std::string text = absl::StrCat(
      R"({"groups": {"group:g": [)", absl::StrJoin(members, ", "),
      R"(]}, "tagOwners": {"tag:db": []}, "acls": [{"action": "accept", "src": ["group:g"], )",
      R"("dst": ["group:g:1000-1029"]}], "tests": [{"src": "group:g", "accept": [)",
      absl::StrJoin(dsts, ", "), R"(]}, {"src": "group:g", "deny": ["tag:db:1000"]}]})");
  absl::StatusOr<Policy> policy = ParsePolicy(text);
  REQUIRE(policy.ok());
  // Before the fix this took about 20 s in a release build (ctest's timeout is the guard; no
  // timing is asserted here).
  const std::vector<TestOutcome> outcomes = RunPolicyTests(*policy, Inventory());
  REQUIRE(outcomes.size() == 61);
  for (size_t i = 0; i < 60; ++i) {
    INFO(outcomes[i].dst);
    CHECK(outcomes[i].passed == (i < 30));  // ports 1000-1029 are allowed, 1030-1059 not
  }
  CHECK(outcomes[0].detail == "allowed by rule 1");
  CHECK(outcomes[59].detail == "expected allowed, but no rule allows it");
  CHECK(outcomes[60].passed);
}

}  // namespace meshvpn::acl
