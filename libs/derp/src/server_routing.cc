// The DERP server core's routing: SendPacket to the destination's queue or a mesh link, drops by
// reason, PeerGone to senders and receivers, duplicates, rate limits, watchers and forwarders.
#include <algorithm>
#include <cstring>

#include "meshvpn/derp/server_core.h"
#include "server_conn.h"

namespace meshvpn::derp {

bool LooksLikeDisco(ByteSpan packet) {
  return packet.size() >= kDiscoMinLen &&
         std::memcmp(packet.data(), kDiscoMagic.data(), kDiscoMagic.size()) == 0;
}

QueuedPacket* QueuedPacket::Make(const PublicKey& src, ByteSpan packet, MonoTime now) {
  const size_t frame_len = kFrameHeaderLen + kKeyLen + packet.size();
  auto* p = static_cast<QueuedPacket*>(std::malloc(sizeof(QueuedPacket) + frame_len));
  if (p == nullptr) return nullptr;
  p->next = nullptr;
  p->enqueued = now;
  p->payload_len = static_cast<uint32_t>(packet.size());
  p->frame_len = static_cast<uint32_t>(frame_len);
  uint8_t* f = p->frame();
  const auto n = static_cast<uint32_t>(kKeyLen + packet.size());
  f[0] = static_cast<uint8_t>(FrameType::kRecvPacket);
  f[1] = static_cast<uint8_t>(n >> 24);
  f[2] = static_cast<uint8_t>(n >> 16);
  f[3] = static_cast<uint8_t>(n >> 8);
  f[4] = static_cast<uint8_t>(n);
  std::memcpy(f + kFrameHeaderLen, src.bytes().data(), kKeyLen);
  if (!packet.empty()) std::memcpy(f + kFrameHeaderLen + kKeyLen, packet.data(), packet.size());
  return p;
}

void PacketList::Push(QueuedPacket* p) {
  p->next = nullptr;
  if (tail_ != nullptr) {
    tail_->next = p;
  } else {
    head_ = p;
  }
  tail_ = p;
  ++size_;
}

QueuedPacket* PacketList::Pop() {
  QueuedPacket* p = head_;
  if (p == nullptr) return nullptr;
  head_ = p->next;
  if (head_ == nullptr) tail_ = nullptr;
  --size_;
  return p;
}

void PacketList::Clear() {
  while (auto* p = Pop()) QueuedPacket::Free(p);
}

bool TokenBucket::Take(MonoTime now, double rate, double burst, double n) {
  if (now > at) {
    tokens = std::min(burst, tokens + rate * std::chrono::duration<double>(now - at).count());
    at = now;
  }
  if (tokens < n) return false;
  tokens -= n;
  return true;
}

uint8_t ServerCore::PresentFlags(const Conn& c) {
  uint8_t flags = 0;
  if (c.info.is_prober) flags |= peer_present_flags::kIsProber;
  if (c.can_mesh) flags |= peer_present_flags::kIsMeshPeer;
  if (c.not_ideal) flags |= peer_present_flags::kNotIdeal;
  return flags == 0 ? peer_present_flags::kIsRegular : flags;
}

ServerCore::Conn* ServerCore::ActiveFor(const PublicKey& key) const {
  auto it = clients_.find(key);
  if (it == clients_.end() || it->second.conns.empty()) return nullptr;
  return it->second.conns.back();
}

void ServerCore::NoteActivity(Conn* c) {
  auto it = clients_.find(c->key);
  if (it == clients_.end()) return;
  auto& conns = it->second.conns;
  if (conns.size() < 2 || conns.back() == c) return;
  // derpserver.go lastWriterIsActive: the duplicate that spoke last gets the packets.
  conns.erase(std::remove(conns.begin(), conns.end(), c), conns.end());
  conns.push_back(c);
}

bool ServerCore::RateLimitAllows(Conn* c, size_t frame_bytes) {
  if (options_.rate_limit_bytes_per_second == 0 || c->can_mesh) return true;
  const double n = static_cast<double>(std::min<uint64_t>(frame_bytes, kMinRateLimitBurst));
  return c->rate.Take(clock_->Now(), static_cast<double>(options_.rate_limit_bytes_per_second),
                      static_cast<double>(options_.rate_limit_burst_bytes), n);
}

void ServerCore::SetPreferred(Conn* c, bool preferred) {
  if (c->preferred == preferred) return;
  c->preferred = preferred;
  if (preferred) {
    ++stats_.current_home_clients;
  } else {
    --stats_.current_home_clients;
  }
  // Moves are counted only after the first seconds (a client says it once as it connects).
  if (clock_->Now() - c->connected_at > kHomeMoveGrace) {
    ++(preferred ? stats_.home_moves_in : stats_.home_moves_out);
  }
}

void ServerCore::Drop(ByteSpan packet, DropReason reason) {
  const auto kind =
      static_cast<size_t>(LooksLikeDisco(packet) ? PacketKind::kDisco : PacketKind::kOther);
  ++stats_.packets_dropped[static_cast<size_t>(reason)][kind];
  stats_.bytes_dropped[static_cast<size_t>(reason)][kind] += packet.size();
}

void ServerCore::DiscardQueues(Conn* c) {
  for (PacketList* list : {&c->disco, &c->other}) {
    while (QueuedPacket* p = list->Pop()) {
      Drop(ByteSpan(p->frame() + kFrameHeaderLen + kKeyLen, p->payload_len),
           DropReason::kGoneDisconnected);
      QueuedPacket::Free(p);
    }
  }
}

void ServerCore::HandleSendPacket(Conn* c, ByteSpan payload) {
  if (payload.size() < kKeyLen) {
    Close(c, CloseReason::kBadFrame, "short send packet frame");
    return;
  }
  const ByteSpan packet = payload.subspan(kKeyLen);
  if (packet.size() > kMaxPacketSize) {
    Close(c, CloseReason::kBadFrame, "a packet longer than 64 KiB");
    return;
  }
  const PublicKey dst(x25519::KeySpan(payload.data(), kKeyLen));
  ++stats_.packets_received;
  stats_.bytes_received += packet.size();
  ++stats_.packets_received_by_kind[static_cast<size_t>(
      LooksLikeDisco(packet) ? PacketKind::kDisco : PacketKind::kOther)];
  if (!RateLimitAllows(c, kFrameHeaderLen + payload.size())) {
    Drop(packet, DropReason::kRateLimited);
    return;
  }
  if (Conn* to = ActiveFor(dst); to != nullptr) {
    Deliver(c->key, to, packet);
    if (observer_ != nullptr) observer_->OnPacketRelayed(c->key, dst, packet.size(), false);
    return;
  }
  if (auto f = forwarders_.find(dst); f != forwarders_.end() && !f->second.empty()) {
    if (f->second.front()->ForwardPacket(c->key, dst, packet)) {
      ++stats_.packets_forwarded_out;
      if (observer_ != nullptr) observer_->OnPacketRelayed(c->key, dst, packet.size(), true);
    } else {
      Drop(packet, DropReason::kWriteError);
    }
    return;
  }
  Drop(packet, DropReason::kUnknownDest);
  MaybeSendPeerNotHere(c, dst, packet);
}

void ServerCore::HandleForwardPacket(Conn* c, ByteSpan payload) {
  if (payload.size() < 2 * kKeyLen) {
    Close(c, CloseReason::kBadFrame, "short forward packet frame");
    return;
  }
  const ByteSpan packet = payload.subspan(2 * kKeyLen);
  if (packet.size() > kMaxPacketSize) {
    Close(c, CloseReason::kBadFrame, "a forwarded packet longer than 64 KiB");
    return;
  }
  const PublicKey src(x25519::KeySpan(payload.data(), kKeyLen));
  const PublicKey dst(x25519::KeySpan(payload.data() + kKeyLen, kKeyLen));
  ++stats_.packets_forwarded_in;
  Conn* to = ActiveFor(dst);
  if (to == nullptr) {
    Drop(packet, DropReason::kUnknownDestOnFwd);
    MaybeSendPeerNotHere(c, dst, packet);
    return;
  }
  Deliver(src, to, packet);
  if (observer_ != nullptr) observer_->OnPacketRelayed(src, dst, packet.size(), false);
}

void ServerCore::Deliver(const PublicKey& src, Conn* dst, ByteSpan packet) {
  PacketList& list = LooksLikeDisco(packet) ? dst->disco : dst->other;
  const MonoTime now = clock_->Now();
  if (list.size() >= options_.send_queue_depth) {
    // The queue is full: drop its oldest packet for the new one (derpserver.go sendPkt).
    QueuedPacket* old = list.Pop();
    if (old == nullptr) {  // a depth of 0 takes nothing
      Drop(packet, DropReason::kQueueTail);
      return;
    }
    Drop(ByteSpan(old->frame() + kFrameHeaderLen + kKeyLen, old->payload_len),
         DropReason::kQueueHead);
    QueuedPacket::Free(old);
  }
  QueuedPacket* p = QueuedPacket::Make(src, packet, now);
  if (p == nullptr) {
    Drop(packet, DropReason::kQueueTail);
    return;
  }
  const bool was_idle = dst->control.empty() && dst->disco.empty() && dst->other.empty();
  list.Push(p);
  NoteSentFrom(dst, src);
  if (was_idle || list.size() >= options_.send_queue_depth) transport_->WantWrite(dst->id);
}

void ServerCore::MaybeSendPeerNotHere(Conn* sender, const PublicKey& dst, ByteSpan packet) {
  // Only in reply to disco, and at most 3 then one a second (derpserver.go
  // requestPeerGoneWriteLimited): a client probing for a peer learns it is not here.
  if (!LooksLikeDisco(packet)) return;
  if (!sender->not_here.Take(clock_->Now(),
                             1.0 / static_cast<double>(kPeerGoneNotHereInterval.count()),
                             kPeerGoneNotHereBurst, 1.0)) {
    return;
  }
  std::string frame;
  AppendPeerGone(dst, PeerGoneReason::kNotHere, &frame);
  QueueControl(sender, frame);
  ++stats_.peer_gone_not_here_frames;
}

void ServerCore::NoteSentFrom(Conn* dst, const PublicKey& src) {
  if (dst->saw_src.insert(src).second) peer_gone_watchers_[src].insert(dst->id);
}

void ServerCore::PeerGoneFromRegion(const PublicKey& key) {
  auto it = peer_gone_watchers_.find(key);
  if (it == peer_gone_watchers_.end()) return;
  const absl::flat_hash_set<ConnId> watchers = std::move(it->second);
  peer_gone_watchers_.erase(it);
  std::string frame;
  AppendPeerGone(key, PeerGoneReason::kDisconnected, &frame);
  for (ConnId id : watchers) {
    Conn* c = Find(id);
    if (c == nullptr || c->closed) continue;
    c->saw_src.erase(key);
    QueueControl(c, frame);
    ++stats_.peer_gone_disconnected_frames;
  }
}

void ServerCore::BroadcastPresence(const PublicKey& key, const PeerEndpoint& endpoint,
                                   uint8_t flags, bool present) {
  if (watchers_.empty()) return;
  std::string frame;
  if (present) {
    AppendPeerPresent(key, endpoint, flags, &frame);
  } else {
    AppendPeerGone(key, PeerGoneReason::kDisconnected, &frame);
  }
  for (ConnId id : watchers_) {
    Conn* w = Find(id);
    if (w == nullptr || w->closed) continue;
    QueueControl(w, frame);
    ++(present ? stats_.peer_present_frames : stats_.peer_gone_disconnected_frames);
  }
}

void ServerCore::HandleWatchConns(Conn* c) {
  if (c->key == public_key_) return;  // this server connected to itself (a mesh of one)
  if (!c->watcher) {
    c->watcher = true;
    watchers_.insert(c->id);
    ++stats_.current_watchers;
  }
  // Everyone connected now, then every change as it happens.
  std::string frames;
  for (const auto& [key, set] : clients_) {
    if (set.conns.empty()) continue;
    const Conn* active = set.conns.back();
    AppendPeerPresent(key, active->remote, PresentFlags(*active), &frames);
    ++stats_.peer_present_frames;
  }
  QueueControl(c, frames);
}

void ServerCore::HandleClosePeer(Conn* c, ByteSpan payload) {
  const PublicKey target(x25519::KeySpan(payload.data(), kKeyLen));
  auto it = clients_.find(target);
  if (it == clients_.end()) return;
  const auto victims = it->second.conns;  // a copy: closing edits the set
  for (Conn* v : victims) {
    if (v == c) continue;  // a mesh peer does not close itself this way
    Close(v, CloseReason::kClosedByMeshPeer, "closed by a mesh peer");
  }
}

void ServerCore::AddPacketForwarder(const PublicKey& dst, PacketForwarder* forwarder) {
  auto& list = forwarders_[dst];
  if (std::find(list.begin(), list.end(), forwarder) == list.end()) list.push_back(forwarder);
}

void ServerCore::RemovePacketForwarder(const PublicKey& dst, PacketForwarder* forwarder) {
  auto it = forwarders_.find(dst);
  if (it == forwarders_.end()) return;
  auto& list = it->second;
  list.erase(std::remove(list.begin(), list.end(), forwarder), list.end());
  if (!list.empty()) return;
  forwarders_.erase(it);
  if (!clients_.contains(dst)) PeerGoneFromRegion(dst);
}

void ServerCore::RemoveForwarder(PacketForwarder* forwarder) {
  std::vector<PublicKey> keys;
  for (const auto& [key, list] : forwarders_) {
    if (std::find(list.begin(), list.end(), forwarder) != list.end()) keys.push_back(key);
  }
  for (const PublicKey& key : keys) RemovePacketForwarder(key, forwarder);
}

}  // namespace meshvpn::derp
