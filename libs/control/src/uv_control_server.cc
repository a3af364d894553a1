// ControlServer: loading, channels, map requests, the node cache and the periodic tick (expiry,
// ephemeral deletion, pending registrations, batched persistence). Registration is in
// control_server_register.cc, the admin operations in control_server_admin.cc.
#include "meshvpn/control/uv_control_server.h"

#include "absl/strings/str_cat.h"
#include "meshvpn/control/names.h"
#include "meshvpn/control/protocol.h"
#include "meshvpn/control/stored_node.h"

namespace meshvpn::control {
namespace {

constexpr uint64_t kTickMs = 250;

void SendError(ChannelSession& session, std::string_view code, std::string_view message) {
  v1::Envelope e;
  e.mutable_error()->set_code(std::string(code));
  e.mutable_error()->set_message(std::string(message));
  session.Send(e);
}

}  // namespace

absl::StatusOr<std::unique_ptr<ControlServer>> ControlServer::Create(uv_loop_t* loop, Store* store,
                                                                     const MapPolicy* policy,
                                                                     ControlServerConfig config,
                                                                     ControlServerEvents* events,
                                                                     const Clock* clock) {
  if (store == nullptr || policy == nullptr) {
    return absl::InvalidArgumentError("ControlServer needs a store and a policy");
  }
  if (!IsValidBaseDomain(config.base_domain)) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a valid base domain: \"", config.base_domain, "\""));
  }
  std::unique_ptr<ControlServer> s(new ControlServer(loop, store, policy, std::move(config), events,
                                                     clock ? clock : &RealClock::Instance()));
  auto streamer = UvMapStreamer::Create(loop, &s->builder_, s->clock_, s->config_.keepalive);
  if (!streamer.ok()) return streamer.status();
  s->streamer_ = std::move(*streamer);
  if (absl::Status st = s->Load(); !st.ok()) return st;
  auto tick = UvTimer::Create(loop, uv_timer_init);
  if (!tick.ok()) return tick.status();
  s->tick_ = std::move(*tick);
  s->tick_.set_owner(s.get());
  uv_timer_start(s->tick_.get(), &ControlServer::OnTimer, kTickMs, kTickMs);
  uv_unref(s->tick_.base());
  return s;
}

ControlServer::ControlServer(uv_loop_t* loop, Store* store, const MapPolicy* policy,
                             ControlServerConfig config, ControlServerEvents* events,
                             const Clock* clock)
    : loop_(loop),
      store_(store),
      config_(std::move(config)),
      events_(events != nullptr ? events : &quiet_),
      clock_(clock),
      builder_(policy),
      last_persist_(clock->Now()) {}

ControlServer::~ControlServer() { PersistNow(); }

int64_t ControlServer::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_->WallNow().time_since_epoch())
      .count();
}

absl::Status ControlServer::Load() {
  config_.dns.set_base_domain(config_.base_domain);
  config_.dns.set_magic_dns(true);
  builder_.set_naive_full_maps(config_.naive_full_maps);
  builder_.SetDomain(config_.base_domain);
  builder_.SetDerpMap(config_.derp_map);
  builder_.SetDnsConfig(config_.dns);
  auto users = store_->ListUsers();
  if (!users.ok()) return users.status();
  for (UserRecord& u : *users) {
    builder_.UpsertUser(UserToProto(u));
    users_[u.id] = std::move(u);
  }
  auto nodes = store_->ListNodes();
  if (!nodes.ok()) return nodes.status();
  const int64_t now = NowMs();
  for (NodeRecord& n : *nodes) {
    if (n.ephemeral) {
      // Offline since the server went down: it gets the usual grace to come back.
      ephemeral_deadline_[n.id] = now + config_.ephemeral_inactivity_timeout.count();
    }
    Publish(n);
  }
  return absl::OkStatus();
}

absl::flat_hash_map<uint64_t, std::string> ControlServer::UserNames() const {
  absl::flat_hash_map<uint64_t, std::string> out;
  for (const auto& [id, user] : users_) out.emplace(id, user.name);
  return out;
}

namespace {
// What a policy's inventory holds of a node.
bool SameIdentity(const v1::Node& a, const v1::Node& b) {
  auto same = [](const auto& x, const auto& y) {
    return std::equal(x.begin(), x.end(), y.begin(), y.end());
  };
  return a.name() == b.name() && a.user_id() == b.user_id() && same(a.tags(), b.tags()) &&
         same(a.addresses(), b.addresses()) && same(a.allowed_ips(), b.allowed_ips());
}
}  // namespace

void ControlServer::Publish(const NodeRecord& node) {
  if (auto old = nodes_.find(node.id); old != nodes_.end()) {
    expiries_.erase({old->second.key_expiry_ms, node.id});
    names_.erase(old->second.given_name);
    if (old->second.machine_key != node.machine_key) by_machine_key_.erase(old->second.machine_key);
  }
  nodes_.insert_or_assign(node.id, node);
  by_machine_key_[node.machine_key] = node.id;
  names_.insert(node.given_name);
  v1::Node proto = NodeToProto(node, config_.base_domain, NowMs());
  proto.set_online(stream_channel_.contains(node.id));
  const v1::Node* before = builder_.node(node.id);
  const bool inventory_changed = before == nullptr || !SameIdentity(*before, proto);
  builder_.UpsertNode(proto);
  (void)builder_.SetExpired(node.id, NodeKeyExpired(node, NowMs()));
  if (!node.expiry_disabled && node.key_expiry_ms != 0 && node.key_expiry_ms > NowMs()) {
    expiries_.emplace(node.key_expiry_ms, node.id);
  }
  if (inventory_changed) events_->OnInventoryChanged();
}

void ControlServer::Unpublish(uint64_t id) {
  auto it = nodes_.find(id);
  if (it == nodes_.end()) return;
  by_machine_key_.erase(it->second.machine_key);
  names_.erase(it->second.given_name);
  expiries_.erase({it->second.key_expiry_ms, id});
  ephemeral_deadline_.erase(id);
  dirty_.erase(id);
  builder_.RemoveNode(id);
  if (auto s = stream_channel_.find(id); s != stream_channel_.end()) {
    streamer_->Closed(id);
    if (auto c = channels_.find(s->second); c != channels_.end()) c->second.node_id = 0;
    stream_channel_.erase(s);
  }
  nodes_.erase(it);
  events_->OnInventoryChanged();
}

absl::StatusOr<NodeRecord> ControlServer::SaveNode(const NodeRecord& node) {
  auto saved = store_->UpdateNode(node);
  if (!saved.ok()) return saved.status();
  dirty_.erase(saved->id);
  Publish(*saved);
  return saved;
}

void ControlServer::ForgetNode(uint64_t id, std::string_view why) {
  auto it = nodes_.find(id);
  if (it == nodes_.end()) return;
  const NodeRecord gone = it->second;
  Unpublish(id);
  events_->OnNodeDeleted(gone, why);
}

void ControlServer::OnChannelOpen(ChannelSession& session) {
  channels_[session.id()].session = &session;
}

void ControlServer::OnEnvelope(ChannelSession& session, v1::Envelope envelope) {
  Channel& channel = channels_[session.id()];
  channel.session = &session;
  switch (envelope.body_case()) {
    case v1::Envelope::kRegisterRequest:
      HandleRegister(channel, envelope.register_request());
      break;
    case v1::Envelope::kMapRequest:
      HandleMapRequest(channel, envelope.map_request());
      break;
    default:
      SendError(session, "bad_request", "a client sends RegisterRequest or MapRequest only");
      CloseChannel(session, "bad request");
      break;
  }
}

void ControlServer::OnChannelClosed(ChannelSession& session, const absl::Status& /*why*/) {
  DropChannel(session.id());
}

void ControlServer::CloseChannel(ChannelSession& session, std::string_view reason) {
  const uint64_t id = session.id();
  session.Close(reason);  // no OnChannelClosed follows
  DropChannel(id);
}

void ControlServer::DropChannel(uint64_t channel_id) {
  auto it = channels_.find(channel_id);
  if (it == channels_.end()) return;
  const Channel channel = it->second;
  channels_.erase(it);
  if (!channel.pending_id.empty()) {
    if (auto p = pending_.find(channel.pending_id); p != pending_.end()) p->second.channel_id = 0;
  }
  if (channel.node_id == 0) return;
  auto s = stream_channel_.find(channel.node_id);
  // A node that opened a newer stream on another channel keeps it.
  if (s == stream_channel_.end() || s->second != channel_id) return;
  stream_channel_.erase(s);
  streamer_->Closed(channel.node_id);
  auto n = nodes_.find(channel.node_id);
  if (n == nodes_.end()) return;
  n->second.last_seen_ms = NowMs();
  dirty_.insert(n->first);
  if (n->second.ephemeral) {
    ephemeral_deadline_[n->first] = NowMs() + config_.ephemeral_inactivity_timeout.count();
  }
  events_->OnStreamClosed(n->second);
}

void ControlServer::HandleMapRequest(Channel& channel, const v1::MapRequest& request) {
  ChannelSession& session = *channel.session;
  ++stats_.map_requests;
  if (absl::StatusOr<uint32_t> v = NegotiateVersion(request.version()); !v.ok()) {
    SendError(session, "version", std::string(v.status().message()));
    CloseChannel(session, "version");
    return;
  }
  auto known = by_machine_key_.find(session.machine_key());
  if (known == by_machine_key_.end()) {
    SendError(session, "unauthorized", "this machine is not registered: register first");
    CloseChannel(session, "unauthorized");
    return;
  }
  NodeRecord& node = nodes_[known->second];
  if (KeyToBytes(node.node_key) != request.node_key()) {
    SendError(session, "unauthorized", "the node key does not match this machine's");
    CloseChannel(session, "unauthorized");
    return;
  }
  if (NodeKeyExpired(node, NowMs())) {
    SendError(session, "expired", "the node key has expired: log in again");
    CloseChannel(session, "expired");
    return;
  }
  channel.node_id = node.id;
  events_->OnMapRequest(node, request);

  // What the node reports about itself goes to its peers as a patch.
  v1::PeerChange patch;
  patch.set_node_id(node.id);
  bool changed = false;
  std::vector<std::string> endpoints(request.endpoints().begin(), request.endpoints().end());
  if (endpoints.size() > 64) endpoints.resize(64);  // a lying client does not bloat every map
  if (endpoints != node.endpoints) {
    node.endpoints = endpoints;
    for (const std::string& ep : endpoints) patch.mutable_endpoints()->add_endpoints(ep);
    if (endpoints.empty()) patch.mutable_endpoints();
    changed = true;
  }
  if (request.home_derp_region() != node.home_derp_region) {
    node.home_derp_region = request.home_derp_region();
    patch.set_home_derp_region(node.home_derp_region);
    changed = true;
  }
  if (!request.disco_key().empty()) {
    if (auto disco = KeyFromBytes(request.disco_key(), "disco_key");
        disco.ok() && *disco != node.disco_key) {
      node.disco_key = *disco;
      patch.set_disco_key(request.disco_key());
      changed = true;
    }
  }
  node.last_seen_ms = NowMs();
  if (changed) {
    (void)builder_.PatchNode(patch);
    dirty_.insert(node.id);
  }
  if (request.has_hostinfo() &&
      (request.hostinfo().hostname() != node.hostname || request.hostinfo().os() != node.os)) {
    // The hostname as reported; the MagicDNS name stays (a rename is the admin's).
    node.hostname = request.hostinfo().hostname().substr(0, 255);
    node.os = request.hostinfo().os().substr(0, 64);
    dirty_.insert(node.id);
  }
  if (request.stream()) {
    if (auto old = stream_channel_.find(node.id);
        old != stream_channel_.end() && old->second != session.id()) {
      // The node came back on a new channel: the old stream is dropped.
      if (auto c = channels_.find(old->second); c != channels_.end()) {
        c->second.node_id = 0;  // so that dropping it leaves the node's state alone
        CloseChannel(*c->second.session, "replaced by a newer stream");
      }
    }
    ephemeral_deadline_.erase(node.id);
    stream_channel_[node.id] = session.id();
    if (!streamer_->Open(node.id, &session)) {
      stream_channel_.erase(node.id);
      FailTransient(channel, absl::InternalError("the node's map could not be built"));
      return;
    }
    events_->OnStreamOpened(node);
  }
}

void ControlServer::FailTransient(Channel& channel, const absl::Status& error) {
  ++stats_.store_errors;
  events_->OnStoreError(error);
  SendError(*channel.session, "internal", "the server could not do that now: try again later");
  CloseChannel(*channel.session, "internal error");
}

void ControlServer::PersistNow() {
  if (dirty_.empty()) return;
  std::vector<uint64_t> ids(dirty_.begin(), dirty_.end());
  dirty_.clear();
  for (const uint64_t id : ids) {
    auto it = nodes_.find(id);
    if (it == nodes_.end()) continue;
    auto saved = store_->UpdateNode(it->second);
    if (!saved.ok()) {
      if (absl::IsNotFound(saved.status())) continue;  // deleted by another server process
      ++stats_.store_errors;
      events_->OnStoreError(saved.status());
      dirty_.insert(id);  // the next batch tries again
      continue;
    }
    ++stats_.persisted;
  }
  last_persist_ = clock_->Now();
}

void ControlServer::OnTimer(uv_timer_t* timer) {
  static_cast<ControlServer*>(timer->data)->OnTick();
}

void ControlServer::OnTick() {
  const int64_t now = NowMs();
  // Keys that ran out: hidden from every peer at once.
  while (!expiries_.empty() && expiries_.begin()->first <= now) {
    const uint64_t id = expiries_.begin()->second;
    expiries_.erase(expiries_.begin());
    auto it = nodes_.find(id);
    if (it == nodes_.end() || !NodeKeyExpired(it->second, now)) continue;
    ++stats_.expired;
    (void)builder_.SetExpired(id, true);
    events_->OnNodeExpired(it->second);
  }
  // Ephemeral nodes gone long enough.
  std::vector<uint64_t> doomed;
  for (const auto& [id, deadline] : ephemeral_deadline_) {
    if (deadline <= now && !stream_channel_.contains(id)) doomed.push_back(id);
  }
  for (const uint64_t id : doomed) {
    if (absl::Status s = store_->DeleteNode(id); !s.ok() && !absl::IsNotFound(s)) {
      ++stats_.store_errors;
      events_->OnStoreError(s);
      continue;
    }
    ++stats_.ephemeral_deleted;
    ForgetNode(id, "ephemeral node offline");
  }
  // Registrations nobody approved.
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (now - it->second.created_ms > config_.pending_registration_ttl.count()) {
      pending_by_machine_.erase(it->second.machine_key);
      pending_.erase(it++);
    } else {
      ++it;
    }
  }
  if (clock_->Now() - last_persist_ >= config_.persist_interval) PersistNow();
}

}  // namespace meshvpn::control
