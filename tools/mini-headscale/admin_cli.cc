// Admin commands: one HTTP request each, answered by a table or the JSON.
#include "admin_cli.h"

#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/host_port.h"
#include "meshvpn/base/uv_loop.h"
#include "meshvpn/http/tls_context.h"
#include "meshvpn/http/uv_client.h"
#include "nlohmann/json.hpp"
#include "settings.h"

namespace meshvpn::tools {
namespace {

using nlohmann::json;

struct Reply {
  int status = 0;
  std::string body;
};

std::string PercentEncode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '@') {
      out += static_cast<char>(c);
    } else {
      out += absl::StrCat("%", absl::Hex(c, absl::kZeroPad2));
    }
  }
  return out;
}

absl::StatusOr<Reply> Call(const AdminOptions& o, const std::string& method,
                           const std::string& target, const json& body = nullptr) {
  http::UvClientOptions client_options;
  std::string where;
  if (o.server.empty()) {
    const std::string dir = o.state_dir.empty() ? DefaultStateDir() : o.state_dir;
    client_options.unix_socket = dir + "/mini-headscale.sock";
    client_options.host = "localhost";
    where = client_options.unix_socket;
  } else {
    auto url = ParseHttpUrl(o.server);
    if (!url.ok()) {
      return absl::InvalidArgumentError("--server is a URL: http://HOST:PORT or https://HOST");
    }
    client_options.host = url->host;
    client_options.port = url->port;
    if (url->tls) {
      http::TlsClientOptions tls_options;
      tls_options.alpn = {"http/1.1"};
      auto context = http::TlsContext::NewClient(tls_options);
      if (!context.ok()) return context.status();
      client_options.tls = *std::move(context);
    }
    where = o.server;
  }
  UvLoop loop;
  std::optional<absl::StatusOr<http::Response>> result;
  {
    http::UvClient client(loop.get(), client_options);
    http::Request request;
    request.method = method;
    request.target = target;
    request.headers.Add("Accept", "application/json");
    if (!o.api_key.empty()) request.headers.Add("Authorization", "Bearer " + o.api_key);
    if (!body.is_null()) {
      request.body = body.dump();
      request.headers.Add("Content-Type", "application/json");
    }
    client.Fetch(std::move(request), [&](absl::StatusOr<http::Response> r) {
      result = std::move(r);
      uv_stop(loop.get());
    });
    loop.Run();
  }
  loop.Close();
  if (!result.has_value()) return absl::UnavailableError("no answer");
  if (!result->ok()) {
    return absl::UnavailableError(absl::StrCat("cannot reach the server at ", where, ": ",
                                               std::string(result->status().message()),
                                               o.server.empty() ? " (is mini-headscale serve "
                                                                  "running with this --state-dir?)"
                                                                : ""));
  }
  return Reply{(*result)->status, (*result)->body};
}

void PrintTable(const std::vector<std::string>& head,
                const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(head.size());
  for (size_t i = 0; i < head.size(); ++i) width[i] = head[i].size();
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size() && i < width.size(); ++i) {
      width[i] = std::max(width[i], row[i].size());
    }
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (size_t i = 0; i < cells.size(); ++i) {
      out += cells[i];
      if (i + 1 < cells.size()) out += std::string(width[i] - cells[i].size() + 2, ' ');
    }
    std::printf("%s\n", out.c_str());
  };
  line(head);
  for (const auto& row : rows) line(row);
}

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_boolean()) return it->get<bool>() ? "yes" : "no";
  if (it->is_array()) {
    std::vector<std::string> parts;
    for (const json& e : *it) parts.push_back(e.is_string() ? e.get<std::string>() : e.dump());
    return absl::StrJoin(parts, ", ");
  }
  return it->dump();
}

// The answer's one field (a list or an object): what -o json prints and tables read.
json Payload(const json& j) {
  if (j.is_object() && j.size() == 1) return j.begin().value();
  return j;
}

int Usage(const std::string& text) {
  std::fprintf(stderr, "mini-headscale: %s (see mini-headscale --help)\n", text.c_str());
  return 2;
}

class Command {
 public:
  explicit Command(const AdminOptions& o) : o_(o) {}

  // Sends, reports errors, prints -o json; returns the payload for a table when there is one.
  std::optional<json> Run(const std::string& method, const std::string& target,
                          const json& body = nullptr) {
    auto reply = Call(o_, method, target, body);
    if (!reply.ok()) {
      std::fprintf(stderr, "mini-headscale: %s\n", std::string(reply.status().message()).c_str());
      rc_ = 1;
      return std::nullopt;
    }
    json parsed = json::parse(reply->body, nullptr, /*allow_exceptions=*/false);
    if (reply->status != 200) {
      std::string message =
          parsed.is_object() && parsed.contains("error") && parsed["error"].is_string()
              ? parsed["error"].get<std::string>()
              : reply->body.substr(0, 200);
      std::fprintf(stderr, "mini-headscale: the server refused (%d): %s\n", reply->status,
                   message.c_str());
      rc_ = 1;
      return std::nullopt;
    }
    if (parsed.is_discarded()) {
      std::fprintf(stderr, "mini-headscale: the server's answer is not JSON\n");
      rc_ = 1;
      return std::nullopt;
    }
    json payload = Payload(parsed);
    if (o_.output == "json") {
      std::printf("%s\n", payload.dump(2).c_str());
      return std::nullopt;
    }
    return payload;
  }
  int rc() const { return rc_; }

 private:
  const AdminOptions& o_;
  int rc_ = 0;
};

int Users(const std::vector<std::string>& args, const AdminOptions& o) {
  Command c(o);
  const std::string verb = args.size() > 1 ? args[1] : "";
  if (verb == "list") {
    if (auto users = c.Run("GET", "/api/v1/user")) {
      std::vector<std::vector<std::string>> rows;
      for (const json& u : *users) {
        rows.push_back({Str(u, "id"), Str(u, "name"), Str(u, "displayName"), Str(u, "createdAt")});
      }
      PrintTable({"ID", "Name", "Display name", "Created"}, rows);
    }
  } else if (verb == "create") {
    if (args.size() != 3) return Usage("users create NAME");
    if (auto u = c.Run("POST", "/api/v1/user",
                       json{{"name", args[2]}, {"displayName", o.display_name}})) {
      std::printf("User created: %s (id %s)\n", Str(*u, "name").c_str(), Str(*u, "id").c_str());
    }
  } else if (verb == "delete") {
    if (args.size() != 3) return Usage("users delete NAME");
    if (c.Run("DELETE", "/api/v1/user/" + PercentEncode(args[2]))) {
      std::printf("User deleted: %s\n", args[2].c_str());
    }
  } else {
    return Usage("users create|list|delete");
  }
  return c.rc();
}

int PreAuthKeys(const std::vector<std::string>& args, const AdminOptions& o) {
  Command c(o);
  const std::string verb = args.size() > 1 ? args[1] : "";
  if (o.user.empty()) return Usage("preauthkeys needs --user");
  if (verb == "create") {
    json body = {{"user", o.user},
                 {"reusable", o.reusable},
                 {"ephemeral", o.ephemeral},
                 {"expiration", o.expiration.empty() ? "1h" : o.expiration},
                 {"aclTags", o.tags}};
    if (auto k = c.Run("POST", "/api/v1/preauthkey", body)) {
      // The key alone on stdout, for KEY=$(mini-headscale preauthkeys create ...).
      std::printf("%s\n", Str(*k, "key").c_str());
    }
  } else if (verb == "list") {
    if (auto keys = c.Run("GET", "/api/v1/preauthkey?user=" + PercentEncode(o.user))) {
      std::vector<std::vector<std::string>> rows;
      for (const json& k : *keys) {
        rows.push_back({Str(k, "id"), Str(k, "prefix"), Str(k, "reusable"), Str(k, "ephemeral"),
                        Str(k, "used"), Str(k, "expiration"), Str(k, "aclTags")});
      }
      PrintTable({"ID", "Key prefix", "Reusable", "Ephemeral", "Used", "Expiration", "Tags"}, rows);
    }
  } else if (verb == "expire") {
    const std::string key = args.size() == 3 ? args[2] : o.key;
    if (key.empty()) return Usage("preauthkeys expire --user U KEY (or its prefix)");
    if (c.Run("POST", "/api/v1/preauthkey/expire", json{{"key", key}})) {
      std::printf("Pre-auth key expired\n");
    }
  } else {
    return Usage("preauthkeys create|list|expire");
  }
  return c.rc();
}

std::vector<std::string> NodeRow(const json& n) {
  return {Str(n, "id"),
          Str(n, "name"),
          Str(n, "hostname"),
          Str(n, "user"),
          Str(n, "ipAddresses"),
          Str(n, "online") == "yes" ? "online" : "offline",
          Str(n, "expired") == "yes" ? "expired"
                                     : (Str(n, "expiry").empty() ? "never" : Str(n, "expiry")),
          Str(n, "lastSeen")};
}
const std::vector<std::string> kNodeHead = {"ID",           "Name",   "Hostname", "User",
                                            "IP addresses", "Status", "Expiry",   "Last seen"};

int Nodes(const std::vector<std::string>& args, const AdminOptions& o) {
  Command c(o);
  const std::string verb = args.size() > 1 ? args[1] : "";
  auto one = [&](const std::optional<json>& n, const char* what) {
    if (!n) return;
    std::printf("%s: %s (id %s, %s)\n", what, Str(*n, "name").c_str(), Str(*n, "id").c_str(),
                Str(*n, "ipAddresses").c_str());
  };
  if (verb == "list") {
    if (auto nodes = c.Run("GET", "/api/v1/node")) {
      std::vector<std::vector<std::string>> rows;
      for (const json& n : *nodes) rows.push_back(NodeRow(n));
      PrintTable(kNodeHead, rows);
    }
  } else if (verb == "pending") {
    if (auto pending = c.Run("GET", "/api/v1/node/pending")) {
      std::vector<std::vector<std::string>> rows;
      for (const json& p : *pending) {
        rows.push_back({Str(p, "key"), Str(p, "hostname"), Str(p, "os"), Str(p, "createdAt")});
      }
      PrintTable({"Key", "Hostname", "OS", "Asked at"}, rows);
    }
  } else if (verb == "register") {
    if (o.user.empty() || o.key.empty()) return Usage("nodes register --user U --key ID");
    one(c.Run("POST", absl::StrCat("/api/v1/node/register?user=", PercentEncode(o.user),
                                   "&key=", PercentEncode(o.key))),
        "Node registered");
  } else if (verb == "expire" || verb == "delete" || verb == "rename") {
    uint64_t id = 0;
    if (!absl::SimpleAtoi(o.identifier, &id) || id == 0) {
      return Usage(absl::StrCat("nodes ", verb, " --identifier ID (the node's id)"));
    }
    const std::string base = absl::StrCat("/api/v1/node/", id);
    if (verb == "expire") {
      one(c.Run("POST", base + "/expire"), "Node expired");
    } else if (verb == "delete") {
      if (c.Run("DELETE", base))
        std::printf("Node deleted: %llu\n", static_cast<unsigned long long>(id));
    } else {
      if (args.size() != 3) return Usage("nodes rename --identifier ID NEWNAME");
      one(c.Run("POST", base + "/rename/" + PercentEncode(args[2])), "Node renamed");
    }
  } else {
    return Usage("nodes list|pending|register|expire|delete|rename");
  }
  return c.rc();
}

int ApiKeys(const std::vector<std::string>& args, const AdminOptions& o) {
  Command c(o);
  const std::string verb = args.size() > 1 ? args[1] : "";
  if (verb == "create") {
    if (auto k = c.Run("POST", "/api/v1/apikey", json{{"expiration", o.expiration}})) {
      std::printf("%s\n", Str(*k, "key").c_str());
    }
  } else if (verb == "list") {
    if (auto keys = c.Run("GET", "/api/v1/apikey")) {
      std::vector<std::vector<std::string>> rows;
      for (const json& k : *keys) {
        rows.push_back({Str(k, "id"), Str(k, "prefix"), Str(k, "expiration"), Str(k, "createdAt"),
                        Str(k, "lastSeen")});
      }
      PrintTable({"ID", "Prefix", "Expiration", "Created", "Last used"}, rows);
    }
  } else if (verb == "expire") {
    const std::string prefix = args.size() == 3 ? args[2] : o.prefix;
    if (prefix.empty()) return Usage("apikeys expire --prefix PREFIX");
    if (c.Run("POST", "/api/v1/apikey/expire", json{{"prefix", prefix}})) {
      std::printf("API key expired\n");
    }
  } else {
    return Usage("apikeys create|list|expire");
  }
  return c.rc();
}

// policy get: prints the file in force; policy set FILE: replaces it (checked first).
int Policy(const std::vector<std::string>& args, const AdminOptions& o) {
  Command c(o);
  const std::string verb = args.size() > 1 ? args[1] : "";
  if (verb == "get" && args.size() == 2) {
    if (auto p = c.Run("GET", "/api/v1/policy")) {
      if (o.output == "json") return c.rc();
      std::printf("%s", Str(*p, "policy").c_str());
    }
  } else if (verb == "set" && args.size() == 3) {
    std::ifstream in(args[2], std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) {
      std::fprintf(stderr, "mini-headscale policy set: cannot read %s\n", args[2].c_str());
      return 2;
    }
    if (auto p = c.Run("PUT", "/api/v1/policy", json{{"policy", text.str()}})) {
      if (o.output != "json")
        std::printf("Policy set (%s); every node gets the change\n", Str(*p, "updatedAt").c_str());
    }
  } else {
    return Usage("policy get | policy set FILE | policy check FILE");
  }
  return c.rc();
}

}  // namespace

int RunAdmin(const std::vector<std::string>& args, const AdminOptions& o) {
  if (o.output != "table" && o.output != "json") return Usage("-o is table or json");
  if (!o.server.empty() && o.api_key.empty()) return Usage("--server needs --api-key");
  const std::string& what = args[0];
  if (what == "users") return Users(args, o);
  if (what == "preauthkeys") return PreAuthKeys(args, o);
  if (what == "nodes") return Nodes(args, o);
  if (what == "apikeys") return ApiKeys(args, o);
  if (what == "policy") return Policy(args, o);
  return Usage(absl::StrCat("unknown command \"", what, "\""));
}

}  // namespace meshvpn::tools
