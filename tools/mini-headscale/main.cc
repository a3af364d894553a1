// mini-headscale: a coordination server for meshvpn (learning project 8 of the Tailscale deep
// dive), in Headscale's shape: `serve`, and the admin commands that talk to it.
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "admin_cli.h"
#include "common/tool_init.h"
#include "meshvpn/control/admin_api.h"
#include "policy_keeper.h"
#include "serve.h"
#include "settings.h"

ABSL_FLAG(std::string, config, "",
          "serve: a settings file (\"name: value\" lines, the flags' names)");
ABSL_FLAG(std::string, listen, "",
          "serve: ADDR:PORT for clients, DERP and the API (127.0.0.1:8080)");
ABSL_FLAG(std::string, server_url, "",
          "serve: the URL clients are told (auth URLs, the embedded DERP region); default "
          "http(s)://LISTEN");
ABSL_FLAG(std::string, state_dir, "",
          "the server's directory: keys, the SQLite database, the admin socket (default "
          "/var/lib/meshvpn/mini-headscale as root, ~/.local/state/meshvpn/mini-headscale else)");
ABSL_FLAG(std::string, db, "",
          "serve: sqlite:PATH or postgres://USER@HOST/DB (default sqlite:STATE_DIR/db.sqlite)");
ABSL_FLAG(std::string, prefix_v4, "", "serve: the tailnet's IPv4 prefix (100.64.0.0/10)");
ABSL_FLAG(std::string, prefix_v6, "", "serve: the tailnet's IPv6 prefix (fd7a:115c:a1e0::/48)");
ABSL_FLAG(std::string, derp_map, "",
          "serve: a DERP map file (Tailscale's JSON): these relays instead of the embedded one");
ABSL_FLAG(std::string, tls_cert, "", "serve: TLS certificate (PEM); without it, plain HTTP");
ABSL_FLAG(std::string, tls_key, "", "serve: the private key of --tls-cert (PEM)");
ABSL_FLAG(std::string, base_domain, "", "serve: the MagicDNS domain (mesh.internal)");
ABSL_FLAG(std::string, node_key_expiry, "", "serve: how long a login lasts (180d; 0: forever)");
ABSL_FLAG(std::string, ephemeral_timeout, "",
          "serve: an ephemeral node is deleted this long after it went offline (30m)");
ABSL_FLAG(int32_t, stun_port, -1, "serve: UDP port of the embedded STUN server (3478; 0: none)");
ABSL_FLAG(std::string, metrics_listen, "", "serve: Prometheus metrics at http://ADDR:PORT/metrics");
ABSL_FLAG(std::string, policy, "",
          "serve: the tailnet policy file (HuJSON, Tailscale's syntax; reloaded on SIGHUP). "
          "Without it every node sees every node");
ABSL_FLAG(bool, quiet, false, "serve: print registrations and errors only (benchmarks)");

ABSL_FLAG(std::string, server, "", "admin: a remote server's URL (needs --api-key)");
ABSL_FLAG(std::string, api_key, "", "admin: an API key (mini-headscale apikeys create)");
ABSL_FLAG(std::string, o, "table", "admin: output, table or json");
ABSL_FLAG(std::string, user, "", "admin: the user (preauthkeys, nodes register)");
ABSL_FLAG(std::string, display_name, "", "admin: users create: a display name");
ABSL_FLAG(bool, reusable, false, "admin: preauthkeys create: the key registers many nodes");
ABSL_FLAG(bool, ephemeral, false,
          "admin: preauthkeys create: its nodes are deleted when they go offline");
ABSL_FLAG(std::string, expiration, "",
          "admin: how long a new key is valid (preauthkeys: 1h; apikeys: 90d; 0: forever)");
ABSL_FLAG(std::vector<std::string>, tags, {}, "admin: preauthkeys create: tags, tag:a,tag:b");
ABSL_FLAG(std::string, key, "", "admin: nodes register: the key from the auth URL");
ABSL_FLAG(std::string, identifier, "", "admin: nodes expire|delete|rename: the node's id");
ABSL_FLAG(std::string, prefix, "", "admin: apikeys expire: the key's prefix");

namespace meshvpn::tools {
namespace {

constexpr const char* kUsage =
    R"(the coordination server of a meshvpn tailnet, in the shape of Headscale.

Machines log in with a pre-auth key or through a URL an admin approves; the
server gives each an address (100.64.0.0/10, fd7a:115c:a1e0::/48), and streams
every node its network map: its peers' WireGuard keys, addresses, endpoints and
DERP region, first in full and then as deltas when something changes.

  mini-headscale serve                  127.0.0.1:8080, SQLite in the state dir,
                                        an embedded DERP relay and STUN
  mini-headscale users create alice
  mini-headscale preauthkeys create --user alice [--reusable] [--ephemeral]
                                    [--expiration 24h] [--tags tag:server]
  mini-headscale preauthkeys list|expire --user alice [KEY]
  mini-headscale nodes list|pending
  mini-headscale nodes register --user alice --key ID   approve an auth URL
  mini-headscale nodes expire|delete --identifier N
  mini-headscale nodes rename --identifier N NEWNAME
  mini-headscale apikeys create|list|expire [--prefix P]
  mini-headscale policy check FILE      validate a policy file and run its tests
  mini-headscale serve --policy FILE    enforce it (kill -HUP reloads the file)
  curl http://127.0.0.1:8080/api/machines

The admin commands reach a local server through the socket in --state-dir, or a
remote one with --server URL --api-key KEY. -o json prints the API's JSON.
Exit status: 0 done, 1 refused or unreachable, 2 bad usage.

Flags:)";

int Main(int argc, char** argv) {
  std::vector<std::string> args = InitTool(argc, argv, kUsage);
  if (args.empty()) {
    std::fprintf(stderr,
                 "mini-headscale: say what to do: serve, users, preauthkeys, nodes, "
                 "apikeys (see --help)\n");
    return 2;
  }
  if (args[0] == "serve") {
    if (args.size() != 1) {
      std::fprintf(stderr, "mini-headscale serve: takes flags only\n");
      return 2;
    }
    ServeSettings s;
    if (const std::string file = absl::GetFlag(FLAGS_config); !file.empty()) {
      if (absl::Status st = ApplyConfigFile(file, &s); !st.ok()) {
        std::fprintf(stderr, "mini-headscale serve: --config: %s\n",
                     std::string(st.message()).c_str());
        return 2;
      }
    }
    auto set = [](const std::string& flag, std::string* out) {
      if (!flag.empty()) *out = flag;
    };
    set(absl::GetFlag(FLAGS_listen), &s.listen);
    set(absl::GetFlag(FLAGS_server_url), &s.server_url);
    set(absl::GetFlag(FLAGS_state_dir), &s.state_dir);
    set(absl::GetFlag(FLAGS_db), &s.db);
    set(absl::GetFlag(FLAGS_prefix_v4), &s.prefix_v4);
    set(absl::GetFlag(FLAGS_prefix_v6), &s.prefix_v6);
    set(absl::GetFlag(FLAGS_derp_map), &s.derp_map);
    set(absl::GetFlag(FLAGS_tls_cert), &s.tls_cert);
    set(absl::GetFlag(FLAGS_tls_key), &s.tls_key);
    set(absl::GetFlag(FLAGS_base_domain), &s.base_domain);
    set(absl::GetFlag(FLAGS_metrics_listen), &s.metrics_listen);
    set(absl::GetFlag(FLAGS_policy), &s.policy);
    for (auto [flag, out] :
         {std::pair{absl::GetFlag(FLAGS_node_key_expiry), &s.node_key_expiry},
          std::pair{absl::GetFlag(FLAGS_ephemeral_timeout), &s.ephemeral_timeout}}) {
      if (flag.empty()) continue;
      auto d = control::ParseAdminDuration(flag);
      if (!d.ok()) {
        std::fprintf(stderr, "mini-headscale serve: %s\n",
                     std::string(d.status().message()).c_str());
        return 2;
      }
      *out = *d;
    }
    if (const int port = absl::GetFlag(FLAGS_stun_port); port >= 0) s.stun_port = port;
    return Serve(std::move(s), absl::GetFlag(FLAGS_quiet));
  }
  if (args[0] == "policy" && args.size() == 3 && args[1] == "check") {
    // Offline: parse, validate and run the file's tests, as serve and SIGHUP would.
    std::ifstream in(args[2], std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) {
      std::fprintf(stderr, "mini-headscale policy check: cannot read %s\n", args[2].c_str());
      return 2;
    }
    auto policy = CheckPolicyText(text.str());
    if (!policy.ok()) {
      std::fprintf(stderr, "%s: refused:\n%s\n", args[2].c_str(),
                   std::string(policy.status().message()).c_str());
      return 1;
    }
    std::printf("%s: policy OK: %zu rules, %zu groups, %zu tags, %zu tests passed\n",
                args[2].c_str(), (*policy)->rules.size(), (*policy)->groups.size(),
                (*policy)->tag_owners.size(),
                (*policy)->tests.size() + (*policy)->ssh_tests.size());
    for (const acl::PolicyIssue& w : (*policy)->warnings) {
      std::printf("warning: %s\n", w.ToString().c_str());
    }
    return 0;
  }
  AdminOptions o;
  o.state_dir = absl::GetFlag(FLAGS_state_dir);
  o.server = absl::GetFlag(FLAGS_server);
  o.api_key = absl::GetFlag(FLAGS_api_key);
  o.output = absl::GetFlag(FLAGS_o);
  o.user = absl::GetFlag(FLAGS_user);
  o.display_name = absl::GetFlag(FLAGS_display_name);
  o.reusable = absl::GetFlag(FLAGS_reusable);
  o.ephemeral = absl::GetFlag(FLAGS_ephemeral);
  o.expiration = absl::GetFlag(FLAGS_expiration);
  o.tags = absl::GetFlag(FLAGS_tags);
  o.key = absl::GetFlag(FLAGS_key);
  o.identifier = absl::GetFlag(FLAGS_identifier);
  o.prefix = absl::GetFlag(FLAGS_prefix);
  return RunAdmin(args, o);
}

}  // namespace
}  // namespace meshvpn::tools

int main(int argc, char** argv) { return meshvpn::tools::Main(argc, argv); }
