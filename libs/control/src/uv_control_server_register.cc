// ControlServer's registration: a RegisterRequest from an authenticated machine becomes a node
// (pre-auth key), a pending registration with an auth URL (interactive), a key rotation, a
// re-authentication of a known node, or a refusal that stores nothing.
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "meshvpn/base/secure.h"
#include "meshvpn/control/auth_keys.h"
#include "meshvpn/control/names.h"
#include "meshvpn/control/protocol.h"
#include "meshvpn/control/stored_node.h"
#include "meshvpn/control/uv_control_server.h"

namespace meshvpn::control {
namespace {

constexpr int kNameAttempts = 5;

std::string RegistrationId() {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  uint8_t random[24];
  if (!FillRandom(MutableByteSpan(random)).ok()) return "";
  std::string id;
  for (uint8_t b : random) id += kAlphabet[b % 36];  // 36 does not divide 256: a slight bias only
  return id;
}

}  // namespace

int64_t ControlServer::FreshKeyExpiry(const std::vector<std::string>& tags) const {
  if (config_.node_key_expiry.count() <= 0 || !tags.empty()) return 0;
  return NowMs() + config_.node_key_expiry.count();
}

void ControlServer::HandleRegister(Channel& channel, const v1::RegisterRequest& request) {
  ChannelSession& session = *channel.session;
  events_->OnRegistrationRequest(session.machine_key(), request);
  if (absl::StatusOr<uint32_t> v = NegotiateVersion(request.version()); !v.ok()) {
    ++stats_.registrations_refused;
    v1::Envelope e;
    e.mutable_error()->set_code("version");
    e.mutable_error()->set_message(std::string(v.status().message()));
    session.Send(e);
    CloseChannel(session, "version");
    return;
  }
  absl::StatusOr<x25519::PublicKey> node_key = KeyFromBytes(request.node_key(), "node_key");
  if (!node_key.ok() || node_key->IsZero()) {
    Refuse(channel, "the node key must be 32 bytes and not all zeros");
    return;
  }
  if (auto known = by_machine_key_.find(session.machine_key()); known != by_machine_key_.end()) {
    HandleKnownMachine(channel, request, *node_key, nodes_[known->second]);
  } else if (!request.auth_key().empty()) {
    RegisterWithAuthKey(channel, request, *node_key, nullptr);
  } else {
    StartInteractive(channel, request, *node_key, nullptr);
  }
}

void ControlServer::HandleKnownMachine(Channel& channel, const v1::RegisterRequest& request,
                                       const x25519::PublicKey& node_key, NodeRecord& node) {
  if (request.logout()) {
    NodeRecord out = node;
    out.key_expiry_ms = NowMs();
    out.expiry_disabled = false;
    auto saved = SaveNode(out);
    if (!saved.ok()) return FailTransient(channel, saved.status());
    v1::Envelope e;
    e.mutable_register_response()->set_version(kCapabilityVersion);
    e.mutable_register_response()->set_node_key_expired(true);
    channel.session->Send(e);
    events_->OnNodeExpired(*saved);
    return;
  }
  const bool expired = NodeKeyExpired(node, NowMs());
  if (!expired && node.node_key == node_key) {
    if (request.auth_key().empty()) {
      channel.node_id = node.id;
      SendAuthorized(*channel.session, node);
      return;
    }
    // A key given anyway: a re-authentication (fresh expiry, the key's user and tags).
    RegisterWithAuthKey(channel, request, node_key, &node);
    return;
  }
  if (!expired && KeyToBytes(node.node_key) == request.old_node_key()) {
    // Rotation: the machine proves itself with its machine key and names the key it replaces.
    NodeRecord rotated = node;
    rotated.node_key = node_key;
    auto saved = SaveNode(rotated);
    if (!saved.ok()) {
      if (absl::IsAlreadyExists(saved.status())) {
        Refuse(channel, "that node key is already used by another node");
      } else {
        FailTransient(channel, saved.status());
      }
      return;
    }
    ++stats_.key_rotations;
    channel.node_id = saved->id;
    SendAuthorized(*channel.session, *saved);
    events_->OnRegistered(*saved, users_[saved->user_id], /*new_node=*/false);
    return;
  }
  // Expired, or a new node key without the old one: the machine must authenticate again.
  if (!request.auth_key().empty()) {
    RegisterWithAuthKey(channel, request, node_key, &node);
  } else {
    StartInteractive(channel, request, node_key, &node);
  }
}

void ControlServer::RegisterWithAuthKey(Channel& channel, const v1::RegisterRequest& request,
                                        const x25519::PublicKey& node_key,
                                        const NodeRecord* existing) {
  absl::StatusOr<PresentedKey> presented = ParsePreAuthKey(request.auth_key());
  if (!presented.ok()) return Refuse(channel, std::string(presented.status().message()));
  absl::StatusOr<PreAuthKeyRecord> key = store_->FindPreAuthKeyByPrefix(presented->prefix);
  if (!key.ok() && !absl::IsNotFound(key.status())) return FailTransient(channel, key.status());
  if (!key.ok() || !KeyHashesEqual(key->key_hash, presented->hash)) {
    return Refuse(channel, "unknown pre-auth key");
  }
  const int64_t now = NowMs();
  if (key->expiration_ms != 0 && key->expiration_ms <= now) {
    return Refuse(channel, absl::StrCat("pre-auth key ", key->prefix, " has expired"));
  }
  if (!key->reusable && key->used) {
    return Refuse(channel, absl::StrCat("pre-auth key ", key->prefix, " has already been used"));
  }
  auto user = users_.find(key->user_id);
  if (user == users_.end()) return Refuse(channel, "the pre-auth key's user no longer exists");

  if (existing != nullptr) {
    if (!key->reusable) {
      if (absl::Status used = store_->UsePreAuthKey(key->id); !used.ok()) {
        if (absl::IsFailedPrecondition(used) || absl::IsNotFound(used)) {
          return Refuse(channel, std::string(used.message()));
        }
        return FailTransient(channel, used);
      }
    }
    NodeRecord node = *existing;
    node.node_key = node_key;
    node.user_id = key->user_id;
    node.tags = key->tags;
    node.key_expiry_ms = FreshKeyExpiry(node.tags);
    node.auth_key_id = key->id;
    auto saved = SaveNode(node);
    if (!saved.ok()) {
      if (absl::IsAlreadyExists(saved.status())) {
        return Refuse(channel, "that node key is already used by another node");
      }
      return FailTransient(channel, saved.status());
    }
    ++stats_.reauthentications;
    channel.node_id = saved->id;
    SendAuthorized(*channel.session, *saved);
    events_->OnRegistered(*saved, user->second, /*new_node=*/false);
    return;
  }

  NodeRecord node;
  node.user_id = key->user_id;
  node.machine_key = channel.session->machine_key();
  node.node_key = node_key;
  node.hostname = request.hostinfo().hostname().substr(0, 255);
  node.os = request.hostinfo().os().substr(0, 64);
  node.ephemeral = key->ephemeral || request.ephemeral();
  node.tags = key->tags;
  node.auth_key_id = key->id;
  node.key_expiry_ms = FreshKeyExpiry(node.tags);
  node.last_seen_ms = now;
  auto created =
      CreateNode(std::move(node), key->reusable ? std::nullopt : std::optional<uint64_t>(key->id));
  if (!created.ok()) {
    const absl::Status& s = created.status();
    if (absl::IsFailedPrecondition(s) || absl::IsResourceExhausted(s) || absl::IsAlreadyExists(s)) {
      return Refuse(channel, absl::IsAlreadyExists(s)
                                 ? "that node key is already used by another node"
                                 : std::string(s.message()));
    }
    return FailTransient(channel, s);
  }
  ++stats_.registrations;
  channel.node_id = created->id;
  SendAuthorized(*channel.session, *created);
  events_->OnRegistered(*created, user->second, /*new_node=*/true);
}

absl::StatusOr<NodeRecord> ControlServer::CreateNode(NodeRecord record,
                                                     std::optional<uint64_t> single_use_key) {
  absl::flat_hash_set<std::string> taken_elsewhere;  // names another server process holds
  for (int attempt = 0; attempt < kNameAttempts; ++attempt) {
    const std::string label = DnsLabelFromHostname(record.hostname);
    record.given_name = UniqueDnsLabel(label, [&](std::string_view c) {
      return names_.contains(std::string(c)) || taken_elsewhere.contains(std::string(c));
    });
    absl::StatusOr<NodeRecord> created = store_->RegisterNode(record, single_use_key);
    if (created.ok()) {
      Publish(*created);
      return created;
    }
    if (!absl::IsAlreadyExists(created.status()) ||
        !absl::StrContains(created.status().message(), "given_name")) {
      return created.status();
    }
    taken_elsewhere.insert(record.given_name);
  }
  return absl::AbortedError("no free MagicDNS name found for this hostname; try again");
}

void ControlServer::StartInteractive(Channel& channel, const v1::RegisterRequest& request,
                                     const x25519::PublicKey& node_key,
                                     const NodeRecord* existing) {
  const x25519::PublicKey& machine = channel.session->machine_key();
  PendingRegistration* pending = nullptr;
  if (auto p = pending_by_machine_.find(machine); p != pending_by_machine_.end()) {
    pending = &pending_[p->second];
  } else {
    if (pending_.size() >= config_.max_pending_registrations) {
      ++stats_.registrations_refused;
      v1::Envelope e;
      e.mutable_error()->set_code("busy");
      e.mutable_error()->set_message("too many registrations wait for approval; try again later");
      channel.session->Send(e);
      CloseChannel(*channel.session, "busy");
      return;
    }
    std::string id = RegistrationId();
    if (id.empty()) return FailTransient(channel, absl::InternalError("no randomness"));
    pending = &pending_[id];
    pending->id = id;
    pending->machine_key = machine;
    pending->created_ms = NowMs();
    pending_by_machine_[machine] = id;
    ++stats_.interactive_started;
  }
  pending->node_key = node_key;
  pending->hostname = request.hostinfo().hostname().substr(0, 255);
  pending->os = request.hostinfo().os().substr(0, 64);
  pending->ephemeral = request.ephemeral();
  pending->existing_node_id = existing != nullptr ? existing->id : 0;
  // A client that reconnects while it waits takes the answer on its new channel.
  if (pending->channel_id != 0 && pending->channel_id != channel.session->id()) {
    if (auto old = channels_.find(pending->channel_id); old != channels_.end()) {
      old->second.pending_id.clear();
    }
  }
  pending->channel_id = channel.session->id();
  channel.pending_id = pending->id;
  const std::string url = absl::StrCat(config_.server_url, "/auth/", pending->id);
  v1::Envelope e;
  e.mutable_register_response()->set_version(kCapabilityVersion);
  e.mutable_register_response()->set_auth_url(url);
  channel.session->Send(e);
  events_->OnAuthUrl(*pending, url);
}

void ControlServer::SendAuthorized(ChannelSession& session, const NodeRecord& node) {
  v1::Envelope e;
  v1::RegisterResponse* r = e.mutable_register_response();
  r->set_version(kCapabilityVersion);
  r->set_machine_authorized(true);
  if (auto u = users_.find(node.user_id); u != users_.end()) {
    *r->mutable_user() = UserToProto(u->second);
  }
  *r->mutable_node() = NodeToProto(node, config_.base_domain, NowMs());
  session.Send(e);
}

void ControlServer::Refuse(Channel& channel, const std::string& reason) {
  ++stats_.registrations_refused;
  events_->OnRegistrationRefused(channel.session->machine_key(), reason);
  v1::Envelope e;
  e.mutable_register_response()->set_version(kCapabilityVersion);
  e.mutable_register_response()->set_error(reason);
  channel.session->Send(e);
  CloseChannel(*channel.session, "registration refused");
}

}  // namespace meshvpn::control
