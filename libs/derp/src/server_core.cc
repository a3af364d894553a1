// The DERP server core's connection lifecycle: greeting, ClientInfo, registration (duplicates
// included), frame dispatch, timers (handshake timeout, keepalives), closing.
#include "meshvpn/derp/server_core.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "meshvpn/x25519/x25519.h"
#include "server_conn.h"

namespace meshvpn::derp {

std::string_view ToString(DropReason reason) {
  switch (reason) {
    case DropReason::kUnknownDest:
      return "unknown_dest";
    case DropReason::kUnknownDestOnFwd:
      return "unknown_dest_on_fwd";
    case DropReason::kGoneDisconnected:
      return "gone_disconnected";
    case DropReason::kQueueHead:
      return "queue_head";
    case DropReason::kQueueTail:
      return "queue_tail";
    case DropReason::kWriteError:
      return "write_error";
    case DropReason::kDupClient:
      return "dup_client";
    case DropReason::kRateLimited:
      return "rate_limited";
    case DropReason::kCount:
      break;
  }
  return "unknown";
}

std::string_view ToString(CloseReason reason) {
  switch (reason) {
    case CloseReason::kHandshakeTimeout:
      return "handshake_timeout";
    case CloseReason::kBadClientInfo:
      return "bad_client_info";
    case CloseReason::kFrameTooLarge:
      return "frame_too_large";
    case CloseReason::kBadFrame:
      return "bad_frame";
    case CloseReason::kNotPermitted:
      return "not_permitted";
    case CloseReason::kClosedByMeshPeer:
      return "closed_by_mesh_peer";
    case CloseReason::kSlowReader:
      return "slow_reader";
    case CloseReason::kCount:
      break;
  }
  return "unknown";
}

ServerCore::ServerCore(ServerOptions options, ServerTransport* transport, const Clock* clock)
    : options_(std::move(options)),
      transport_(transport),
      clock_(clock),
      jitter_rng_(std::random_device{}()) {
  auto pub = x25519::DerivePublicKey(options_.private_key);
  if (pub.ok()) public_key_ = *pub;
  server_key_frame_ = MakeServerKeyFrame(public_key_);
  options_.rate_limit_burst_bytes = std::max(options_.rate_limit_burst_bytes, kMinRateLimitBurst);
}

ServerCore::~ServerCore() = default;

ServerCore::Conn* ServerCore::Find(ConnId conn) const {
  auto it = conns_.find(conn);
  return it == conns_.end() ? nullptr : it->second.get();
}

void ServerCore::OnConnectionOpened(ConnId id, const PeerEndpoint& remote, bool not_ideal) {
  if (conns_.contains(id)) return;
  auto conn = std::make_unique<Conn>();
  Conn* c = conn.get();
  c->id = id;
  c->remote = remote;
  c->not_ideal = not_ideal;
  c->connected_at = clock_->Now();
  conns_.emplace(id, std::move(conn));
  ++stats_.accepts;
  c->control = server_key_frame_;
  Arm(c, c->connected_at + options_.handshake_timeout);
  transport_->WantWrite(id);
}

void ServerCore::OnData(ConnId id, ByteSpan data) {
  Conn* c = Find(id);
  if (c == nullptr || data.empty()) return;
  processing_ = c;
  c->reader.Consume(data, [this, c](const FrameView& frame) { return HandleOneFrame(c, frame); });
  if (!c->closed && c->reader.failed()) {
    Close(c, CloseReason::kFrameTooLarge, "a frame longer than the server accepts");
  }
  processing_ = nullptr;
  closed_while_processing_.reset();
}

bool ServerCore::HandleOneFrame(Conn* c, const FrameView& frame) {
  if (c->state == Conn::State::kHandshake) {
    if (frame.type != static_cast<uint8_t>(FrameType::kClientInfo)) {
      Close(c, CloseReason::kBadClientInfo,
            absl::StrCat("expected client info, got frame type ", frame.type));
      return false;
    }
    return HandleClientInfo(c, frame.payload);
  }
  HandleFrame(c, frame.type, frame.payload);
  return !c->closed;
}

bool ServerCore::HandleClientInfo(Conn* c, ByteSpan payload) {
  auto opened = OpenClientInfo(options_.private_key, payload);
  if (!opened.ok()) {
    Close(c, CloseReason::kBadClientInfo, std::string(opened.status().message()));
    return false;
  }
  c->key = opened->client;
  c->info = std::move(opened->info);
  c->can_mesh =
      !options_.mesh_key.IsZero() && c->info.mesh_key.ConstantTimeEquals(options_.mesh_key);
  c->info.mesh_key = MeshKey();  // kept only as the can_mesh verdict
  c->state = Conn::State::kActive;
  c->reader.set_max_frame_len(kMaxFrameLen);
  ++stats_.handshakes;
  const MonoTime now = clock_->Now();
  c->rate.tokens = static_cast<double>(options_.rate_limit_burst_bytes);
  c->rate.at = now;
  c->not_here.tokens = kPeerGoneNotHereBurst;
  c->not_here.at = now;
  Register(c);
  ServerInfo info;
  info.version = kProtocolVersion;
  QueueControl(c, MakeServerInfoFrame(options_.private_key, c->key, info));
  const auto jitter_ns = options_.keepalive_jitter.count() > 0
                             ? std::uniform_int_distribution<int64_t>(
                                   0, options_.keepalive_jitter.count())(jitter_rng_)
                             : 0;
  c->keepalive_period = options_.keepalive + Duration(jitter_ns);
  Arm(c, now + c->keepalive_period);
  return true;
}

void ServerCore::HandleFrame(Conn* c, uint8_t type, ByteSpan payload) {
  NoteActivity(c);
  switch (static_cast<FrameType>(type)) {
    case FrameType::kNotePreferred:
      if (payload.size() != kNotePreferredFrameLen) {
        Close(c, CloseReason::kBadFrame, "NotePreferred of the wrong size");
        return;
      }
      SetPreferred(c, payload[0] != 0);
      return;
    case FrameType::kSendPacket:
      HandleSendPacket(c, payload);
      return;
    case FrameType::kForwardPacket:
      if (!c->can_mesh) {
        Close(c, CloseReason::kNotPermitted, "ForwardPacket without the mesh key");
        return;
      }
      HandleForwardPacket(c, payload);
      return;
    case FrameType::kWatchConns:
      if (!payload.empty()) {
        Close(c, CloseReason::kBadFrame, "WatchConns with a payload");
        return;
      }
      if (!c->can_mesh) {
        Close(c, CloseReason::kNotPermitted, "WatchConns without the mesh key");
        return;
      }
      HandleWatchConns(c);
      return;
    case FrameType::kClosePeer:
      if (payload.size() != kClosePeerFrameLen) {
        Close(c, CloseReason::kBadFrame, "ClosePeer of the wrong size");
        return;
      }
      if (!c->can_mesh) {
        Close(c, CloseReason::kNotPermitted, "ClosePeer without the mesh key");
        return;
      }
      HandleClosePeer(c, payload);
      return;
    case FrameType::kPing: {
      if (payload.size() < kPingLen || payload.size() > kMaxPingFrameLen) {
        Close(c, CloseReason::kBadFrame, "Ping of the wrong size");
        return;
      }
      ++stats_.pings_received;
      if (c->pong_pending) return;  // one answer outstanding is enough (as derpserver.go)
      PingData data{};
      std::copy_n(payload.begin(), kPingLen, data.begin());
      std::string pong;
      AppendPong(data, &pong);
      QueueControl(c, pong);
      c->pong_pending = true;
      ++stats_.pongs_sent;
      return;
    }
    default:
      ++stats_.unknown_frames;  // skipped, as derpserver.go handleUnknownFrame
      return;
  }
}

void ServerCore::Register(Conn* c) {
  auto [it, inserted] = clients_.try_emplace(c->key);
  ClientSet& set = it->second;
  if (inserted) {
    ++stats_.current_keys;
  } else {
    if (set.conns.size() == 1) ++stats_.current_dup_keys;
    ++stats_.dup_connections_total;
  }
  set.conns.push_back(c);  // the newest connection is the active one (last writer wins)
  ++stats_.current_clients;
  BroadcastPresence(c->key, c->remote, PresentFlags(*c), true);
  if (observer_ != nullptr)
    observer_->OnClientConnected(c->id, c->key, c->remote, c->info, c->can_mesh);
}

void ServerCore::Unregister(Conn* c) {
  DiscardQueues(c);
  for (const PublicKey& src : c->saw_src) {
    auto w = peer_gone_watchers_.find(src);
    if (w == peer_gone_watchers_.end()) continue;
    w->second.erase(c->id);
    if (w->second.empty()) peer_gone_watchers_.erase(w);
  }
  c->saw_src.clear();
  if (c->watcher) {
    watchers_.erase(c->id);
    --stats_.current_watchers;
    c->watcher = false;
  }
  if (c->preferred) --stats_.current_home_clients;
  --stats_.current_clients;
  auto it = clients_.find(c->key);
  if (it == clients_.end()) return;
  auto& conns = it->second.conns;
  conns.erase(std::remove(conns.begin(), conns.end(), c), conns.end());
  if (conns.size() == 1) --stats_.current_dup_keys;
  if (conns.empty()) {
    const PublicKey key = c->key;
    clients_.erase(it);
    --stats_.current_keys;
    BroadcastPresence(key, PeerEndpoint{}, 0, false);
    if (!forwarders_.contains(key)) PeerGoneFromRegion(key);
  }
}

void ServerCore::Close(Conn* c, CloseReason reason, std::string_view detail) {
  if (c->closed) return;
  ++stats_.closed[static_cast<size_t>(reason)];
  if (observer_ != nullptr) observer_->OnConnectionRejected(c->id, c->remote, reason, detail);
  transport_->CloseConnection(c->id);
  if (c->state == Conn::State::kActive) {
    Unregister(c);
    if (observer_ != nullptr) observer_->OnClientDisconnected(c->id, c->key, ToString(reason));
  }
  Forget(c);
}

void ServerCore::OnConnectionClosed(ConnId id) {
  Conn* c = Find(id);
  if (c == nullptr || c->closed) return;
  if (c->state == Conn::State::kActive) {
    Unregister(c);
    if (observer_ != nullptr) observer_->OnClientDisconnected(c->id, c->key, "connection closed");
  }
  Forget(c);
}

void ServerCore::Forget(Conn* c) {
  c->closed = true;
  auto it = conns_.find(c->id);
  if (it == conns_.end()) return;
  if (c == processing_) {
    closed_while_processing_ = std::move(it->second);  // freed when OnData returns
  }
  conns_.erase(it);
}

void ServerCore::Arm(Conn* c, MonoTime when) {
  ++c->timer_generation;
  timers_.push_back(Timer{when, c->id, c->timer_generation});
  std::push_heap(timers_.begin(), timers_.end(), std::greater<>());
}

MonoTime ServerCore::NextExpiry() const {
  return timers_.empty() ? MonoTime::max() : timers_.front().when;
}

void ServerCore::HandleExpiry(MonoTime now) {
  while (!timers_.empty() && timers_.front().when <= now) {
    std::pop_heap(timers_.begin(), timers_.end(), std::greater<>());
    const Timer t = timers_.back();
    timers_.pop_back();
    Conn* c = Find(t.conn);
    if (c == nullptr || c->timer_generation != t.generation) continue;  // stale
    if (c->slow_reader) {
      Close(c, CloseReason::kSlowReader, "left too many control frames unread");
    } else if (c->state == Conn::State::kHandshake) {
      Close(c, CloseReason::kHandshakeTimeout, "no client info within the handshake timeout");
    } else {
      std::string keepalive;
      AppendKeepAlive(&keepalive);
      QueueControl(c, keepalive);
      ++stats_.keepalives_sent;
      if (!c->slow_reader) Arm(c, now + c->keepalive_period);
    }
  }
  // Keep the heap from holding mostly stale entries (each re-arm leaves one behind).
  if (timers_.size() > 4 * conns_.size() + 64) {
    std::erase_if(timers_, [&](const Timer& t) {
      Conn* c = Find(t.conn);
      return c == nullptr || c->timer_generation != t.generation;
    });
    std::make_heap(timers_.begin(), timers_.end(), std::greater<>());
  }
}

void ServerCore::QueueControl(Conn* c, const std::string& frame) {
  if (c->closed || c->slow_reader) return;
  if (!c->can_mesh && c->control.size() + frame.size() > options_.max_control_bytes) {
    // Closing here could disturb the caller's iteration; close at the next expiry instead.
    c->slow_reader = true;
    Arm(c, clock_->Now());
    return;
  }
  const bool was_idle = c->control.empty() && c->disco.empty() && c->other.empty();
  c->control += frame;
  if (was_idle) transport_->WantWrite(c->id);
}

bool ServerCore::TakeOutput(ConnId id, std::string* out, size_t budget) {
  Conn* c = Find(id);
  if (c == nullptr) return false;
  if (!c->control.empty()) {
    out->append(c->control);
    c->control.clear();
    if (c->control.capacity() > 4096) std::string().swap(c->control);
    c->pong_pending = false;
  }
  const MonoTime now = clock_->Now();
  while (out->size() < budget && (!c->disco.empty() || !c->other.empty())) {
    QueuedPacket* p = !c->disco.empty() ? c->disco.Pop() : c->other.Pop();
    out->append(reinterpret_cast<const char*>(p->frame()), p->frame_len);
    ++stats_.packets_sent;
    stats_.bytes_sent += p->payload_len;
    ++stats_.queue_time_samples;
    stats_.queue_time_total_us += static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(now - p->enqueued).count());
    QueuedPacket::Free(p);
  }
  return !c->disco.empty() || !c->other.empty();
}

void ServerCore::AnnounceRestart(std::chrono::milliseconds reconnect_in,
                                 std::chrono::milliseconds try_for) {
  std::string frame;
  AppendRestarting(reconnect_in, try_for, &frame);
  for (auto& [id, conn] : conns_) {
    if (conn->state == Conn::State::kActive) QueueControl(conn.get(), frame);
  }
}

void ServerCore::AnnounceHealth(std::string_view problem) {
  std::string frame;
  AppendHealth(problem, &frame);
  for (auto& [id, conn] : conns_) {
    if (conn->state == Conn::State::kActive) QueueControl(conn.get(), frame);
  }
}

}  // namespace meshvpn::derp
