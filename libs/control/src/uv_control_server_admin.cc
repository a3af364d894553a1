// ControlServer's admin operations: users, pre-auth keys, nodes (approve, expire, delete,
// rename) and API keys, each written to the store first and then to the maps as a delta.
#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "meshvpn/control/auth_keys.h"
#include "meshvpn/control/names.h"
#include "meshvpn/control/stored_node.h"
#include "meshvpn/control/uv_control_server.h"

namespace meshvpn::control {

absl::StatusOr<PolicyRecord> ControlServer::GetPolicy() const {
  if (policy_admin_ == nullptr) return ControlAdmin::GetPolicy();
  return policy_admin_->GetPolicy();
}

absl::Status ControlServer::SetPolicy(std::string_view text) {
  if (policy_admin_ == nullptr) return ControlAdmin::SetPolicy(text);
  return policy_admin_->SetPolicyText(text);
}
namespace {

// Headscale's user names: letters, digits and . _ @ + -, starting with a letter or digit.
absl::Status CheckUserName(std::string_view name) {
  bool ok = !name.empty() && name.size() <= 64 && absl::ascii_isalnum(name[0]);
  for (char c : name) {
    ok = ok && (absl::ascii_isalnum(c) || c == '.' || c == '_' || c == '@' || c == '+' || c == '-');
  }
  if (!ok) {
    return absl::InvalidArgumentError(
        "a user name is 1 to 64 letters, digits or . _ @ + -, starting with a letter or digit");
  }
  return absl::OkStatus();
}

absl::Status CheckTag(std::string_view tag) {
  const bool ok = tag.size() > 4 && tag.size() <= 68 && tag.substr(0, 4) == "tag:" &&
                  DnsLabelFromHostname(tag.substr(4)) == tag.substr(4);
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a tag: \"", std::string(tag.substr(0, 68)),
                     "\" (tags are tag:NAME, NAME lowercase letters, digits and hyphens)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<UserRecord> ControlServer::CreateUser(std::string_view name,
                                                     std::string_view display_name) {
  if (absl::Status s = CheckUserName(name); !s.ok()) return s;
  auto user = store_->CreateUser(name, display_name.substr(0, 256));
  if (!user.ok()) return user.status();
  users_[user->id] = *user;
  builder_.UpsertUser(UserToProto(*user));
  return user;
}

absl::StatusOr<std::vector<UserRecord>> ControlServer::ListUsers() { return store_->ListUsers(); }

absl::Status ControlServer::DeleteUser(std::string_view name) {
  auto user = store_->GetUserByName(name);
  if (!user.ok()) return user.status();
  if (absl::Status s = store_->DeleteUser(user->id); !s.ok()) return s;
  users_.erase(user->id);
  return absl::OkStatus();
}

absl::StatusOr<CreatedKey> ControlServer::CreatePreAuthKey(std::string_view user_name,
                                                           bool reusable, bool ephemeral,
                                                           std::chrono::milliseconds expiration,
                                                           const std::vector<std::string>& tags) {
  for (const std::string& t : tags) {
    if (absl::Status s = CheckTag(t); !s.ok()) return s;
  }
  if (expiration.count() < 0) return absl::InvalidArgumentError("a negative expiration");
  auto user = store_->GetUserByName(user_name);
  if (!user.ok()) return user.status();
  auto made = MakePreAuthKey();
  if (!made.ok()) return made.status();
  PreAuthKeyRecord record;
  record.user_id = user->id;
  record.prefix = made->prefix;
  record.key_hash = made->hash;
  record.reusable = reusable;
  record.ephemeral = ephemeral;
  record.expiration_ms = expiration.count() == 0 ? 0 : NowMs() + expiration.count();
  record.tags = tags;
  auto stored = store_->CreatePreAuthKey(record);
  if (!stored.ok()) return stored.status();
  CreatedKey out;
  out.key = std::move(made->key);
  out.pre_auth = *std::move(stored);
  return out;
}

absl::StatusOr<std::vector<PreAuthKeyRecord>> ControlServer::ListPreAuthKeys(
    std::string_view user_name) {
  auto user = store_->GetUserByName(user_name);
  if (!user.ok()) return user.status();
  return store_->ListPreAuthKeys(user->id);
}

absl::Status ControlServer::ExpirePreAuthKey(std::string_view prefix) {
  auto key = store_->FindPreAuthKeyByPrefix(prefix);
  if (!key.ok()) return key.status();
  return store_->ExpirePreAuthKey(key->id);
}

std::vector<NodeStatus> ControlServer::ListNodes() const {
  std::vector<NodeStatus> out;
  out.reserve(nodes_.size());
  for (const auto& [id, node] : nodes_) {
    absl::StatusOr<NodeStatus> s = GetNode(id);
    if (s.ok()) out.push_back(*std::move(s));
  }
  std::sort(out.begin(), out.end(),
            [](const NodeStatus& a, const NodeStatus& b) { return a.node.id < b.node.id; });
  return out;
}

absl::StatusOr<NodeStatus> ControlServer::GetNode(uint64_t id) const {
  auto it = nodes_.find(id);
  if (it == nodes_.end()) return absl::NotFoundError(absl::StrCat("no node with id ", id));
  NodeStatus s;
  s.node = it->second;
  if (auto u = users_.find(it->second.user_id); u != users_.end()) s.user_name = u->second.name;
  s.online = stream_channel_.contains(id);
  s.expired = NodeKeyExpired(it->second, NowMs());
  return s;
}

std::vector<PendingRegistration> ControlServer::ListPending() const {
  std::vector<PendingRegistration> out;
  for (const auto& [id, p] : pending_) out.push_back(p);
  std::sort(out.begin(), out.end(), [](const PendingRegistration& a, const PendingRegistration& b) {
    return a.created_ms < b.created_ms;
  });
  return out;
}

absl::StatusOr<NodeRecord> ControlServer::ApproveRegistration(std::string_view registration_id,
                                                              std::string_view user_name) {
  auto p = pending_.find(std::string(registration_id));
  if (p == pending_.end()) {
    return absl::NotFoundError(
        "no registration waits with that key (it may have expired: the client asks again)");
  }
  auto user = store_->GetUserByName(user_name);
  if (!user.ok()) return user.status();
  users_[user->id] = *user;
  const PendingRegistration pending = p->second;
  absl::StatusOr<NodeRecord> node;
  bool new_node = true;
  if (auto existing = nodes_.find(pending.existing_node_id);
      pending.existing_node_id != 0 && existing != nodes_.end()) {
    NodeRecord again = existing->second;
    again.node_key = pending.node_key;
    again.user_id = user->id;
    again.key_expiry_ms = FreshKeyExpiry(again.tags);
    node = SaveNode(again);
    new_node = false;
    if (node.ok()) ++stats_.reauthentications;
  } else {
    NodeRecord record;
    record.user_id = user->id;
    record.machine_key = pending.machine_key;
    record.node_key = pending.node_key;
    record.hostname = pending.hostname;
    record.os = pending.os;
    record.ephemeral = pending.ephemeral;
    record.key_expiry_ms = FreshKeyExpiry({});
    record.last_seen_ms = NowMs();
    node = CreateNode(std::move(record), std::nullopt);
    if (node.ok()) ++stats_.registrations;
  }
  if (!node.ok()) return node.status();
  pending_by_machine_.erase(pending.machine_key);
  pending_.erase(pending.id);
  if (auto c = channels_.find(pending.channel_id);
      pending.channel_id != 0 && c != channels_.end()) {
    c->second.pending_id.clear();
    c->second.node_id = node->id;
    SendAuthorized(*c->second.session, *node);
  }
  events_->OnRegistered(*node, *user, new_node);
  return node;
}

absl::StatusOr<NodeRecord> ControlServer::ExpireNode(uint64_t id) {
  auto it = nodes_.find(id);
  if (it == nodes_.end()) return absl::NotFoundError(absl::StrCat("no node with id ", id));
  NodeRecord node = it->second;
  node.key_expiry_ms = NowMs();
  node.expiry_disabled = false;
  auto saved = SaveNode(node);  // Publish marks it expired: gone from its peers' maps now
  if (!saved.ok()) return saved.status();
  events_->OnNodeExpired(*saved);
  return saved;
}

absl::Status ControlServer::DeleteNode(uint64_t id) {
  if (!nodes_.contains(id)) return absl::NotFoundError(absl::StrCat("no node with id ", id));
  if (absl::Status s = store_->DeleteNode(id); !s.ok() && !absl::IsNotFound(s)) return s;
  ForgetNode(id, "deleted by an admin");
  return absl::OkStatus();
}

absl::StatusOr<NodeRecord> ControlServer::RenameNode(uint64_t id, std::string_view new_name) {
  auto it = nodes_.find(id);
  if (it == nodes_.end()) return absl::NotFoundError(absl::StrCat("no node with id ", id));
  if (new_name.empty() || DnsLabelFromHostname(new_name) != new_name) {
    return absl::InvalidArgumentError(
        "a node name is a DNS label: lowercase letters, digits and hyphens, at most 63");
  }
  if (it->second.given_name == new_name) return it->second;
  if (names_.contains(std::string(new_name))) {
    return absl::AlreadyExistsError(
        absl::StrCat("another node is already called \"", std::string(new_name), "\""));
  }
  NodeRecord node = it->second;
  node.given_name = std::string(new_name);
  return SaveNode(node);
}

absl::StatusOr<CreatedKey> ControlServer::CreateApiKey(std::chrono::milliseconds expiration) {
  if (expiration.count() < 0) return absl::InvalidArgumentError("a negative expiration");
  auto made = MakeApiKey();
  if (!made.ok()) return made.status();
  ApiKeyRecord record;
  record.prefix = made->prefix;
  record.key_hash = made->hash;
  record.expiration_ms = expiration.count() == 0 ? 0 : NowMs() + expiration.count();
  auto stored = store_->CreateApiKey(record);
  if (!stored.ok()) return stored.status();
  CreatedKey out;
  out.key = std::move(made->key);
  out.api = *std::move(stored);
  return out;
}

absl::StatusOr<std::vector<ApiKeyRecord>> ControlServer::ListApiKeys() {
  return store_->ListApiKeys();
}

absl::Status ControlServer::ExpireApiKey(std::string_view prefix) {
  auto key = store_->FindApiKeyByPrefix(prefix);
  if (!key.ok()) return key.status();
  return store_->ExpireApiKey(key->id);
}

absl::Status ControlServer::AuthenticateApiKey(std::string_view key) {
  const absl::Status denied = absl::UnauthenticatedError("invalid or expired API key");
  absl::StatusOr<PresentedKey> presented = ParseApiKey(key);
  if (!presented.ok()) return denied;
  auto stored = store_->FindApiKeyByPrefix(presented->prefix);
  if (!stored.ok()) return absl::IsNotFound(stored.status()) ? denied : stored.status();
  if (!KeyHashesEqual(stored->key_hash, presented->hash)) return denied;
  const int64_t now = NowMs();
  if (stored->expiration_ms != 0 && stored->expiration_ms <= now) return denied;
  // Last use is kept to the minute: not a write per request.
  if (now - stored->last_used_ms > 60'000) (void)store_->TouchApiKey(stored->id, now);
  return absl::OkStatus();
}

}  // namespace meshvpn::control
