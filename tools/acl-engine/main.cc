// acl-engine: reads a tailnet policy file (HuJSON, Tailscale's syntax) and a node list, then
// decides each --query with the rules that allowed it (or, with --explain, the rules that came
// closest to it), and runs the policy's own tests with --test. Exit status: 0 when every query
// is allowed and every test passes, 1 when a query is denied, 2 on a bad policy, node list or
// query, or a failing policy test (the control server would refuse such a policy).
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/repeated_flag.h"
#include "common/tool_init.h"
#include "meshvpn/acl/policy.h"
#include "meshvpn/acl/policy_tests.h"
#include "meshvpn/acl/query.h"
#include "meshvpn/acl/route_approval.h"
#include "nlohmann/json.hpp"

ABSL_FLAG(std::string, policy, "",
          "the policy file (HuJSON: JSON with comments and trailing commas)");
ABSL_FLAG(std::string, nodes, "",
          "the node list, a JSON list of {\"name\", \"user\", \"tags\", \"ips\", \"routes\", "
          "\"advertised\", \"id\"} "
          "(optional: without it, users and tags are judged by identity alone)");
ABSL_FLAG(std::string, query, "",
          "a question \"SRC -> DST:PORT[/PROTO]\" (repeat the flag for several): SRC a login, a "
          "node name or an IP; DST a node name or an IP; PROTO tcp (default), udp, icmp, ...");
ABSL_FLAG(bool, test, false,
          "run the policy's tests and sshTests sections, printing each assertion");
ABSL_FLAG(bool, explain, false,
          "for a denial, print the rules that came closest and what each lacked");
ABSL_FLAG(std::string, o, "text", "output: text, or json for scripts");

namespace {

using namespace meshvpn::acl;

constexpr char kUsage[] =
    "decide who may reach what under a tailnet policy file.\n\n"
    "  acl-engine --policy policy.hujson --nodes nodes.json \\\n"
    "             --query \"alice@example.com -> dev-server-1:22\" [--query ...] [--explain]\n"
    "  acl-engine --policy policy.hujson [--nodes nodes.json] --test\n\n"
    "The policy uses Tailscale's syntax (groups, tagOwners, hosts, acls, grants, ssh, tests,\n"
    "autoApprovers); rules only accept, and whatever no rule accepts is denied.\n"
    "Exit status: 0 all allowed, 1 a query denied, 2 a bad policy/nodes/query or a failing test.";

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream s;
  s << in.rdbuf();
  *out = s.str();
  return true;
}

int Fail(const std::string& what) {
  std::fprintf(stderr, "acl-engine: %s\n", what.c_str());
  return 2;
}

std::string Arrowed(const Query& q) {
  const bool v6 = q.dst.find(':') != std::string::npos;
  std::string text = absl::StrCat(q.src, " → ", v6 ? "[" : "", q.dst, v6 ? "]" : "", ":", q.port);
  if (q.protocol != ProtocolSet::kTcp) {
    absl::StrAppend(&text, "/", ProtocolSet::Of({q.protocol}).ToString());
  }
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> queries = meshvpn::tools::RepeatedFlag(argc, argv, "query");
  meshvpn::tools::InitTool(argc, argv, kUsage);
  const bool json = absl::GetFlag(FLAGS_o) == "json";
  if (absl::GetFlag(FLAGS_o) != "text" && !json) return Fail("-o takes text or json");
  if (absl::GetFlag(FLAGS_policy).empty()) return Fail("--policy FILE is required (see --help)");

  std::string policy_text, nodes_text = "[]";
  if (!ReadFile(absl::GetFlag(FLAGS_policy), &policy_text)) {
    return Fail(absl::StrCat("cannot read ", absl::GetFlag(FLAGS_policy)));
  }
  std::vector<PolicyIssue> issues;
  absl::StatusOr<Policy> policy = ParsePolicy(policy_text, &issues);
  if (!policy.ok()) {
    std::fprintf(stderr, "acl-engine: %s: the policy is refused:\n",
                 absl::GetFlag(FLAGS_policy).c_str());
    for (const PolicyIssue& i : issues) std::fprintf(stderr, "  %s\n", i.ToString().c_str());
    return 2;
  }
  for (const PolicyIssue& w : policy->warnings) {
    std::fprintf(stderr, "acl-engine: warning: %s\n", w.ToString().c_str());
  }
  if (!absl::GetFlag(FLAGS_nodes).empty() && !ReadFile(absl::GetFlag(FLAGS_nodes), &nodes_text)) {
    return Fail(absl::StrCat("cannot read ", absl::GetFlag(FLAGS_nodes)));
  }
  absl::StatusOr<Inventory> parsed_nodes = ParseInventory(nodes_text);
  if (!parsed_nodes.ok()) return Fail(std::string(parsed_nodes.status().message()));
  // Routes the policy's autoApprovers approve count as approved.
  std::vector<InventoryNode> node_list = parsed_nodes->nodes();
  for (InventoryNode& n : node_list) {
    for (const Prefix& p : AutoApprovedRoutes(*policy, n)) n.routes.push_back(p);
  }
  const Inventory inventory(std::move(node_list));
  const Evaluator evaluator(*policy, inventory);

  int status = 0;
  nlohmann::json out = {{"queries", nlohmann::json::array()}};
  bool first = true;
  for (const std::string& text : queries) {
    absl::StatusOr<Query> query = ParseQuery(text);
    if (!query.ok()) return Fail(std::string(query.status().message()));
    absl::StatusOr<QueryAnswer> answer = Answer(*query, evaluator, inventory);
    if (!answer.ok()) return Fail(std::string(answer.status().message()));
    if (!answer->allowed) status = 1;
    nlohmann::json j = {{"query", query->text},
                        {"decision", answer->allowed ? "allow" : "deny"},
                        {"matches", nlohmann::json::array()}};
    if (!json) {
      if (!first) std::printf("\n");
      std::printf("Evaluating: %s\n", Arrowed(*query).c_str());
    }
    first = false;
    if (answer->allowed) {
      const Flow& flow = answer->flows[answer->decided_flow];
      for (const RuleMatch& m : answer->decision.matches) {
        j["matches"].push_back(
            {{"rule", m.rule->Label()}, {"summary", m.rule->Summary()}, {"from", flow.src.label}});
        if (!json) {
          std::printf("✓ Matches %s: %s\n", m.rule->Label().c_str(), m.rule->Summary().c_str());
        }
      }
      if (!json && answer->flows.size() > 1) std::printf("  (from %s)\n", flow.src.label.c_str());
    } else {
      if (!json) {
        std::printf("✗ No matching rule%s\n",
                    answer->note.empty() ? "" : absl::StrCat(" (", answer->note, ")").c_str());
      }
      if (!answer->note.empty()) j["note"] = answer->note;
      if (absl::GetFlag(FLAGS_explain) && !answer->flows.empty()) {
        j["closest"] = nlohmann::json::array();
        for (const NearMiss& miss : evaluator.Explain(answer->flows.front(), 3)) {
          j["closest"].push_back({{"rule", miss.rule->Label()},
                                  {"summary", miss.rule->Summary()},
                                  {"lacks", miss.lacks}});
          if (!json) {
            std::printf("  closest: %s: %s\n", miss.rule->Label().c_str(),
                        miss.rule->Summary().c_str());
            for (const std::string& l : miss.lacks) std::printf("    lacks: %s\n", l.c_str());
          }
        }
        if (!json && j["closest"].empty())
          std::printf("  closest: no rule matches any part of it\n");
      }
    }
    if (!json) std::printf("Decision: %s\n", answer->allowed ? "ALLOW" : "DENY");
    out["queries"].push_back(std::move(j));
  }

  if (absl::GetFlag(FLAGS_test)) {
    const std::vector<TestOutcome> outcomes = RunPolicyTests(*policy, inventory);
    int passed = 0;
    out["tests"] = nlohmann::json::array();
    if (!json && !first) std::printf("\n");
    if (!json) std::printf("Running %zu policy test assertions\n", outcomes.size());
    for (const TestOutcome& o : outcomes) {
      passed += o.passed;
      out["tests"].push_back({{"section", o.section},
                              {"line", o.at.line},
                              {"src", o.src},
                              {"dst", o.dst},
                              {"expect", o.expect_allow ? "accept" : "deny"},
                              {"passed", o.passed},
                              {"detail", o.detail}});
      if (!json) {
        std::printf("%s %s (line %d): %s → %s %s: %s\n", o.passed ? "✓" : "✗", o.section.c_str(),
                    o.at.line, o.src.c_str(), o.dst.c_str(), o.expect_allow ? "accepted" : "denied",
                    o.detail.c_str());
      }
    }
    if (!json) std::printf("Tests: %d passed, %zu failed\n", passed, outcomes.size() - passed);
    if (static_cast<size_t>(passed) != outcomes.size()) status = 2;
  }

  if (queries.empty() && !absl::GetFlag(FLAGS_test) && !json) {
    std::printf("Policy OK: %zu rules, %zu groups, %zu tags, %zu hosts, %zu tests, %zu ssh rules\n",
                policy->rules.size(), policy->groups.size(), policy->tag_owners.size(),
                policy->hosts.size(), policy->tests.size() + policy->ssh_tests.size(),
                policy->ssh.size());
  }
  if (json) std::cout << out.dump(2) << "\n";
  return status;
}
