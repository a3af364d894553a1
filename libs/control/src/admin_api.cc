// The REST API: routing, API-key checks, JSON through protobuf's mapping, status codes.
#include "meshvpn/control/admin_api.h"

#include <google/protobuf/util/json_util.h>

#include <cctype>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "meshvpn/control/stored_node.h"
#include "meshvpn/http/json.h"

namespace meshvpn::control {
namespace {

namespace pbjson = google::protobuf::util;

int HttpStatusFor(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kResourceExhausted:
      return 503;
    default:
      return 500;
  }
}

http::Response Error(const absl::Status& s) {
  return http::JsonError(HttpStatusFor(s), std::string(s.message()));
}

http::Response Json(int status, const google::protobuf::Message& m) {
  pbjson::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  std::string body;
  if (!pbjson::MessageToJsonString(m, &body, options).ok()) {
    return http::JsonError(500, "could not encode the answer");
  }
  body += "\n";
  http::Response r = http::Response::Text(status, std::move(body), http::kJsonContentType);
  return r;
}

// The request body as `m` (an empty body is an empty message).
absl::Status ParseBody(const http::Request& request, google::protobuf::Message* m) {
  if (request.body.empty()) return absl::OkStatus();
  pbjson::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  if (!pbjson::JsonStringToMessage(request.body, m, options).ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the body is not a valid ", m->GetDescriptor()->name(), " (JSON)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> ParseId(std::string_view text) {
  uint64_t id = 0;
  if (!absl::SimpleAtoi(absl::string_view(text.data(), text.size()), &id) || id == 0) {
    return absl::InvalidArgumentError("a node id is a positive number");
  }
  return id;
}

// RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF.
bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    for (size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return false;
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

// Names, keys and bodies are text: anything that is not UTF-8 is refused before it is routed.
bool RequestIsText(const http::Request& request) {
  const std::optional<std::string> path = http::PercentDecode(request.path, false);
  const std::optional<std::string> query = http::PercentDecode(request.query, true);
  return path.has_value() && query.has_value() && IsValidUtf8(*path) && IsValidUtf8(*query) &&
         IsValidUtf8(request.body);
}

bool FromUnixSocket(const http::Request& request) { return request.from_unix_socket(); }

bool FromLoopback(const http::Request& request) {
  return absl::StartsWith(request.remote_address, "127.") ||
         absl::StartsWith(request.remote_address, "[::1]:");
}

}  // namespace

absl::StatusOr<std::chrono::milliseconds> ParseAdminDuration(std::string_view text) {
  if (text.empty() || text == "0") return std::chrono::milliseconds(0);
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = i;
    while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
    if (j == i || j == text.size() || j - i > 9) {
      return absl::InvalidArgumentError(absl::StrCat(
          "not a duration: \"", std::string(text.substr(0, 32)), "\" (say 90s, 15m, 24h, 7d)"));
    }
    const int64_t n = std::stoll(std::string(text.substr(i, j - i)));
    int64_t unit = 0;
    switch (text[j]) {
      case 's':
        unit = 1000;
        break;
      case 'm':
        unit = 60'000;
        break;
      case 'h':
        unit = 3'600'000;
        break;
      case 'd':
        unit = 86'400'000;
        break;
      default:
        return absl::InvalidArgumentError(absl::StrCat(
            "not a duration: \"", std::string(text.substr(0, 32)), "\" (units: s, m, h, d)"));
    }
    total += n * unit;
    if (total > int64_t{3650} * 86'400'000) {
      return absl::InvalidArgumentError("a duration longer than ten years");
    }
    i = j + 1;
  }
  return std::chrono::milliseconds(total);
}

std::string FormatUnixMs(int64_t ms) {
  if (ms == 0) return "";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixMillis(ms), absl::UTCTimeZone());
}

v1::ApiUser ToApi(const UserRecord& u) {
  v1::ApiUser out;
  out.set_id(u.id);
  out.set_name(u.name);
  out.set_display_name(u.display_name);
  out.set_created_at(FormatUnixMs(u.created_ms));
  return out;
}

v1::ApiNode ToApi(const NodeStatus& s, std::string_view base_domain) {
  const NodeRecord& n = s.node;
  v1::ApiNode out;
  out.set_id(n.id);
  out.set_name(n.given_name);
  out.set_hostname(n.hostname);
  out.set_user(s.user_name);
  if (!n.ipv4.empty()) out.add_ip_addresses(n.ipv4);
  if (!n.ipv6.empty()) out.add_ip_addresses(n.ipv6);
  out.set_online(s.online);
  out.set_last_seen(FormatUnixMs(n.last_seen_ms));
  out.set_expiry(n.expiry_disabled ? "" : FormatUnixMs(n.key_expiry_ms));
  out.set_expired(s.expired);
  for (const std::string& t : n.tags) out.add_tags(t);
  out.set_ephemeral(n.ephemeral);
  out.set_machine_key(MachineKeyText(n.machine_key));
  out.set_node_key(NodeKeyText(n.node_key));
  if (!n.disco_key.IsZero()) out.set_disco_key("discokey:" + n.disco_key.ToHex());
  for (const std::string& ep : n.endpoints) out.add_endpoints(ep);
  out.set_home_derp_region(n.home_derp_region);
  out.set_os(n.os);
  out.set_created_at(FormatUnixMs(n.created_ms));
  std::string fqdn = absl::StrCat(n.given_name, ".", std::string(base_domain));
  out.set_fqdn(fqdn);
  return out;
}

v1::ApiPreAuthKey ToApi(const PreAuthKeyRecord& k, std::string_view user_name) {
  v1::ApiPreAuthKey out;
  out.set_id(k.id);
  out.set_user(std::string(user_name));
  out.set_prefix(k.prefix);
  out.set_reusable(k.reusable);
  out.set_ephemeral(k.ephemeral);
  out.set_used(k.used);
  out.set_expiration(FormatUnixMs(k.expiration_ms));
  for (const std::string& t : k.tags) out.add_acl_tags(t);
  out.set_created_at(FormatUnixMs(k.created_ms));
  return out;
}

v1::ApiKey ToApi(const ApiKeyRecord& k) {
  v1::ApiKey out;
  out.set_id(k.id);
  out.set_prefix(k.prefix);
  out.set_expiration(FormatUnixMs(k.expiration_ms));
  out.set_created_at(FormatUnixMs(k.created_ms));
  out.set_last_seen(FormatUnixMs(k.last_used_ms));
  return out;
}

v1::ApiPendingRegistration ToApi(const PendingRegistration& p) {
  v1::ApiPendingRegistration out;
  out.set_key(p.id);
  out.set_hostname(p.hostname);
  out.set_os(p.os);
  out.set_machine_key(MachineKeyText(p.machine_key));
  out.set_created_at(FormatUnixMs(p.created_ms));
  return out;
}

void AdminApi::OnRequest(http::Request& request, http::ResponseWriter writer) {
  writer.Send(Handle(request));
}

http::Response AdminApi::Handle(http::Request& request) {
  ++stats_.requests;
  http::Response response = Route(request);
  if (response.status == 401) {
    ++stats_.unauthorized;
    response.headers.Set("WWW-Authenticate", "Bearer");
  } else if (response.status >= 400) {
    ++stats_.errors;
  }
  response.headers.Set("Cache-Control", "no-store");
  return response;
}

absl::Status AdminApi::Authorize(const http::Request& request, bool local_read_allowed) {
  if (FromUnixSocket(request)) return absl::OkStatus();
  if (local_read_allowed && FromLoopback(request)) return absl::OkStatus();
  std::optional<std::string_view> auth = request.headers.Get("Authorization");
  if (!auth.has_value() ||
      !absl::StartsWith(absl::string_view(auth->data(), auth->size()), "Bearer ")) {
    return absl::UnauthenticatedError("an API key is needed: Authorization: Bearer mapi_...");
  }
  return server_->AuthenticateApiKey(auth->substr(7));
}

http::Response AdminApi::Route(http::Request& request) {
  std::string_view path = request.path;
  if (path == "/api/machines") {
    // The seed's list: open to local clients (the lab's curl), a key from anywhere else. Who
    // asks is checked before what is asked: an unauthorized caller learns nothing but 401.
    if (absl::Status a = Authorize(request, /*local_read_allowed=*/true); !a.ok()) return Error(a);
    if (request.method != "GET") return http::JsonError(405, "GET only");
    return Machines();
  }
  if (absl::Status a = Authorize(request, false); !a.ok()) return Error(a);
  if (!RequestIsText(request)) {
    return http::JsonError(400, "the path, query and body must be UTF-8 text");
  }
  constexpr std::string_view kPrefix = "/api/v1/";
  if (!absl::StartsWith(absl::string_view(path.data(), path.size()), "/api/v1/")) {
    return http::JsonError(404, "no such API path");
  }
  path.remove_prefix(kPrefix.size());
  auto take = [&](std::string_view word) {
    if (path == word) {
      path = "";
      return true;
    }
    if (path.size() > word.size() && path.substr(0, word.size()) == word &&
        path[word.size()] == '/') {
      path.remove_prefix(word.size() + 1);
      return true;
    }
    return false;
  };
  if (take("user")) return Users(request, path);
  if (take("preauthkey")) return PreAuthKeys(request, path);
  if (take("node")) return Nodes(request, path);
  if (take("apikey")) return ApiKeys(request, path);
  if (take("policy")) return Policy(request, path);
  return http::JsonError(404, "no such API path");
}

http::Response AdminApi::Policy(http::Request& request, std::string_view rest) {
  if (!rest.empty()) return http::JsonError(404, "no such API path");
  if (request.method == "PUT" || request.method == "POST") {
    v1::SetPolicyRequest in;
    if (absl::Status s = ParseBody(request, &in); !s.ok()) return Error(s);
    if (absl::Status s = server_->SetPolicy(in.policy()); !s.ok()) return Error(s);
  } else if (request.method != "GET") {
    return http::JsonError(405, "GET or PUT");
  }
  absl::StatusOr<PolicyRecord> policy = server_->GetPolicy();
  if (!policy.ok()) return Error(policy.status());
  v1::PolicyResponse out;
  out.set_policy(policy->text);
  out.set_updated_at(FormatUnixMs(policy->updated_ms));
  return Json(200, out);
}

http::Response AdminApi::Users(http::Request& request, std::string_view rest) {
  if (rest.empty() && request.method == "GET") {
    auto users = server_->ListUsers();
    if (!users.ok()) return Error(users.status());
    v1::ListUsersResponse out;
    for (const UserRecord& u : *users) *out.add_users() = ToApi(u);
    return Json(200, out);
  }
  if (rest.empty() && request.method == "POST") {
    v1::CreateUserRequest in;
    if (absl::Status s = ParseBody(request, &in); !s.ok()) return Error(s);
    auto user = server_->CreateUser(in.name(), in.display_name());
    if (!user.ok()) return Error(user.status());
    v1::UserResponse out;
    *out.mutable_user() = ToApi(*user);
    return Json(200, out);
  }
  if (!rest.empty() && request.method == "DELETE") {
    auto name = http::PercentDecode(rest, false);
    if (!name.has_value()) return http::JsonError(400, "bad percent-encoding in the user name");
    if (absl::Status s = server_->DeleteUser(*name); !s.ok()) return Error(s);
    return http::JsonResponse(200, nlohmann::json::object());
  }
  return http::JsonError(405, "users: GET, POST, DELETE /api/v1/user/NAME");
}

http::Response AdminApi::PreAuthKeys(http::Request& request, std::string_view rest) {
  if (rest.empty() && request.method == "GET") {
    const std::string user = request.QueryParam("user").value_or("");
    auto keys = server_->ListPreAuthKeys(user);
    if (!keys.ok()) return Error(keys.status());
    v1::ListPreAuthKeysResponse out;
    for (const PreAuthKeyRecord& k : *keys) *out.add_pre_auth_keys() = ToApi(k, user);
    return Json(200, out);
  }
  if (rest.empty() && request.method == "POST") {
    v1::CreatePreAuthKeyRequest in;
    if (absl::Status s = ParseBody(request, &in); !s.ok()) return Error(s);
    auto expiration = ParseAdminDuration(in.expiration());
    if (!expiration.ok()) return Error(expiration.status());
    std::vector<std::string> tags(in.acl_tags().begin(), in.acl_tags().end());
    auto key =
        server_->CreatePreAuthKey(in.user(), in.reusable(), in.ephemeral(), *expiration, tags);
    if (!key.ok()) return Error(key.status());
    v1::PreAuthKeyResponse out;
    *out.mutable_pre_auth_key() = ToApi(key->pre_auth, in.user());
    out.mutable_pre_auth_key()->set_key(key->key);
    return Json(200, out);
  }
  if (rest == "expire" && request.method == "POST") {
    v1::ExpirePreAuthKeyRequest in;
    if (absl::Status s = ParseBody(request, &in); !s.ok()) return Error(s);
    // The whole key is accepted too: only its public prefix is looked at.
    std::string prefix = in.key();
    if (absl::StartsWith(prefix, "mpak_") && prefix.size() > 17) prefix.resize(17);
    if (absl::Status s = server_->ExpirePreAuthKey(prefix); !s.ok()) return Error(s);
    return http::JsonResponse(200, nlohmann::json::object());
  }
  return http::JsonError(405, "pre-auth keys: GET ?user=U, POST, POST /expire");
}

http::Response AdminApi::Nodes(http::Request& request, std::string_view rest) {
  const std::string_view base_domain = server_->base_domain();
  if (rest.empty() && request.method == "GET") {
    v1::ListNodesResponse out;
    for (const NodeStatus& n : server_->ListNodes()) *out.add_nodes() = ToApi(n, base_domain);
    return Json(200, out);
  }
  if (rest == "pending" && request.method == "GET") {
    v1::ListPendingResponse out;
    for (const PendingRegistration& p : server_->ListPending()) *out.add_pending() = ToApi(p);
    return Json(200, out);
  }
  if (rest == "register" && request.method == "POST") {
    const std::string user = request.QueryParam("user").value_or("");
    const std::string key = request.QueryParam("key").value_or("");
    auto node = server_->ApproveRegistration(key, user);
    if (!node.ok()) return Error(node.status());
    auto status = server_->GetNode(node->id);
    if (!status.ok()) return Error(status.status());
    v1::NodeResponse out;
    *out.mutable_node() = ToApi(*status, base_domain);
    return Json(200, out);
  }
  std::vector<std::string> parts = absl::StrSplit(absl::string_view(rest.data(), rest.size()), '/');
  auto id = ParseId(parts[0]);
  if (!id.ok()) return Error(id.status());
  absl::StatusOr<NodeRecord> changed;
  if (parts.size() == 1 && request.method == "GET") {
    auto status = server_->GetNode(*id);
    if (!status.ok()) return Error(status.status());
    v1::NodeResponse out;
    *out.mutable_node() = ToApi(*status, base_domain);
    return Json(200, out);
  }
  if (parts.size() == 1 && request.method == "DELETE") {
    if (absl::Status s = server_->DeleteNode(*id); !s.ok()) return Error(s);
    return http::JsonResponse(200, nlohmann::json::object());
  } else if (parts.size() == 2 && parts[1] == "expire" && request.method == "POST") {
    changed = server_->ExpireNode(*id);
  } else if (parts.size() == 3 && parts[1] == "rename" && request.method == "POST") {
    auto name = http::PercentDecode(parts[2], false);
    if (!name.has_value()) return http::JsonError(400, "bad percent-encoding in the name");
    changed = server_->RenameNode(*id, *name);
  } else {
    return http::JsonError(
        405, "nodes: GET, GET|DELETE /ID, POST /ID/expire, POST /ID/rename/NAME, POST /register");
  }
  if (!changed.ok()) return Error(changed.status());
  auto status = server_->GetNode(*id);
  if (!status.ok()) return Error(status.status());
  v1::NodeResponse out;
  *out.mutable_node() = ToApi(*status, base_domain);
  return Json(200, out);
}

http::Response AdminApi::ApiKeys(http::Request& request, std::string_view rest) {
  if (rest.empty() && request.method == "GET") {
    auto keys = server_->ListApiKeys();
    if (!keys.ok()) return Error(keys.status());
    v1::ListApiKeysResponse out;
    for (const ApiKeyRecord& k : *keys) *out.add_api_keys() = ToApi(k);
    return Json(200, out);
  }
  if (rest.empty() && request.method == "POST") {
    v1::CreateApiKeyRequest in;
    if (absl::Status s = ParseBody(request, &in); !s.ok()) return Error(s);
    auto expiration = in.expiration().empty()
                          ? absl::StatusOr<std::chrono::milliseconds>(std::chrono::hours(24 * 90))
                          : ParseAdminDuration(in.expiration());
    if (!expiration.ok()) return Error(expiration.status());
    auto key = server_->CreateApiKey(*expiration);
    if (!key.ok()) return Error(key.status());
    v1::ApiKeyResponse out;
    *out.mutable_api_key() = ToApi(key->api);
    out.mutable_api_key()->set_key(key->key);
    return Json(200, out);
  }
  if (rest == "expire" && request.method == "POST") {
    v1::ExpireApiKeyRequest in;
    if (absl::Status s = ParseBody(request, &in); !s.ok()) return Error(s);
    std::string prefix = in.prefix();
    if (absl::StartsWith(prefix, "mapi_") && prefix.size() > 17) prefix.resize(17);
    if (absl::Status s = server_->ExpireApiKey(prefix); !s.ok()) return Error(s);
    return http::JsonResponse(200, nlohmann::json::object());
  }
  return http::JsonError(405, "API keys: GET, POST, POST /expire");
}

http::Response AdminApi::Machines() {
  nlohmann::json list = nlohmann::json::array();
  for (const NodeStatus& n : server_->ListNodes()) {
    list.push_back({{"name", n.node.given_name}, {"ip", n.node.ipv4}, {"online", n.online}});
  }
  return http::JsonResponse(200, list);
}

}  // namespace meshvpn::control
