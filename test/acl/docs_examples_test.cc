// Tailscale's documented examples (and captures of Tailscale's own behaviour), table-driven from
// testdata/tailscale_docs.json: each case's policy is refused or accepted as Tailscale does, its
// queries decide as Tailscale says, and its peers are the ones Tailscale shows. See
// testdata/SEMANTICS.md for the sources.
#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "meshvpn/acl/compiled_policy.h"
#include "meshvpn/acl/hujson.h"
#include "meshvpn/acl/policy.h"
#include "meshvpn/acl/policy_tests.h"
#include "meshvpn/acl/query.h"
#include "meshvpn/acl/route_approval.h"

namespace meshvpn::acl {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

const JsonValue& Cases() {
  static const JsonValue* root = [] {
    auto parsed = ParseHuJson(ReadFile(MESHVPN_ACL_TESTDATA "/tailscale_docs.json"));
    REQUIRE(parsed.ok());
    return new JsonValue(std::move(*parsed));
  }();
  return *root->Find("cases");
}

// The case's nodes, with routes its autoApprovers approve added to the approved ones.
Inventory CaseInventory(const JsonValue& c, const Policy* policy) {
  const JsonValue* nodes = c.Find("nodes");
  absl::StatusOr<Inventory> inventory = ParseInventory(nodes ? ToJson(*nodes) : "[]");
  REQUIRE(inventory.ok());
  if (policy == nullptr) return *inventory;
  std::vector<InventoryNode> list = inventory->nodes();
  for (InventoryNode& n : list) {
    for (const Prefix& p : AutoApprovedRoutes(*policy, n)) n.routes.push_back(p);
  }
  return Inventory(std::move(list));
}

}  // namespace

TEST_CASE("every documented example decides as Tailscale does", "[acl][docs]") {
  const JsonValue& cases = Cases();
  REQUIRE(cases.elements().size() >= 30);
  size_t queries = 0, refused = 0;
  for (const JsonValue& c : cases.elements()) {
    const std::string name = c.Find("name")->text();
    INFO("case " << name << " (" << c.Find("source")->text() << ")");
    std::vector<PolicyIssue> issues;
    absl::StatusOr<Policy> policy = ParsePolicy(c.Find("policy")->text(), &issues);
    if (const JsonValue* invalid = c.Find("invalid")) {
      INFO("expected refusal: " << invalid->text());
      bool refused_here = !policy.ok();
      if (policy.ok()) {
        const Inventory inventory = CaseInventory(c, nullptr);
        refused_here = !CheckPolicyTests(*policy, inventory).ok();
      }
      CHECK(refused_here);
      ++refused;
      continue;
    }
    INFO("parse: " << (policy.ok() ? "ok" : std::string(policy.status().message())));
    REQUIRE(policy.ok());
    const Inventory inventory = CaseInventory(c, &*policy);
    {
      absl::Status tests = CheckPolicyTests(*policy, inventory);
      INFO("tests: " << tests.message());
      CHECK(tests.ok());
    }
    if (const JsonValue* approved = c.Find("expect_approved")) {
      for (const auto& [node_name, routes] : approved->members()) {
        const int i = inventory.FindByName(node_name);
        REQUIRE(i >= 0);
        std::vector<std::string> got, want;
        for (const Prefix& p : AutoApprovedRoutes(*policy, inventory.nodes()[i])) {
          got.push_back(p.ToString());
        }
        for (const JsonValue& r : routes.elements()) want.push_back(r.text());
        INFO("approved routes of " << node_name);
        CHECK(got == want);
      }
    }
    const Evaluator evaluator(*policy, inventory);
    if (const JsonValue* qs = c.Find("queries")) {
      for (const JsonValue& q : qs->elements()) {
        INFO("query " << q.Find("query")->text() << " want " << q.Find("expect")->text() << ": "
                      << q.Find("why")->text());
        absl::StatusOr<Query> query = ParseQuery(q.Find("query")->text());
        REQUIRE(query.ok());
        absl::StatusOr<QueryAnswer> answer = Answer(*query, evaluator, inventory);
        REQUIRE(answer.ok());
        CHECK(answer->allowed == (q.Find("expect")->text() == "allow"));
        ++queries;
      }
    }
    if (const JsonValue* peers = c.Find("peers")) {
      const CompiledPolicy compiled = CompiledPolicy::Compile(*policy, inventory);
      for (const auto& [node_name, want_list] : peers->members()) {
        const int i = inventory.FindByName(node_name);
        REQUIRE(i >= 0);
        std::vector<std::string> want, got, reference;
        for (const JsonValue& p : want_list.elements()) want.push_back(p.text());
        for (int j : compiled.VisiblePeers(i)) got.push_back(inventory.nodes()[j].name);
        for (const InventoryNode& other : inventory.nodes()) {
          if (evaluator.CanSee(inventory.nodes()[i], other)) reference.push_back(other.name);
        }
        std::sort(want.begin(), want.end());
        std::sort(got.begin(), got.end());
        std::sort(reference.begin(), reference.end());
        INFO("peers of " << node_name);
        CHECK(got == want);
        CHECK(reference == want);
      }
    }
  }
  CHECK(queries >= 100);
  CHECK(refused >= 20);
}

}  // namespace meshvpn::acl
