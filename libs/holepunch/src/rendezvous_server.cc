#include "meshvpn/holepunch/rendezvous_server.h"

#include <algorithm>

namespace meshvpn::holepunch {

std::string_view ToString(ServerDrop d) {
  switch (d) {
    case ServerDrop::kNone:
      return "none";
    case ServerDrop::kMalformed:
      return "malformed";
    case ServerDrop::kNotRequest:
      return "not a register";
    case ServerDrop::kOutboxFull:
      return "outbox full";
    case ServerDrop::kCount:
      break;
  }
  return "unknown";
}

RendezvousServer::RendezvousServer(RendezvousServerOptions options) : options_(options) {
  outbox_.resize(kOutbox);
}

bool RendezvousServer::Queue(ByteSpan bytes, const udp::Endpoint& to) {
  if (bytes.empty()) return false;
  if (size_ == kOutbox) {
    (void)Drop(ServerDrop::kOutboxFull);
    return false;
  }
  Queued& q = outbox_[(head_ + size_) % kOutbox];
  std::copy(bytes.begin(), bytes.end(), q.bytes.begin());
  q.size = static_cast<uint16_t>(bytes.size());
  q.to = to;
  ++size_;
  return true;
}

std::optional<Outgoing> RendezvousServer::NextSend(MonoTime) {
  if (size_ == 0) return std::nullopt;
  const Queued& q = outbox_[head_];
  head_ = (head_ + 1) % kOutbox;
  --size_;
  return Outgoing{ByteSpan(q.bytes.data(), q.size), q.to, 0};
}

void RendezvousServer::SendPeerInfo(const Entry& to, const std::string& about_name,
                                    const Entry& about) {
  PeerInfo info;
  info.nonce = to.nonce;
  info.key = about.key;
  info.flags = about.flags;
  info.name = about_name;
  info.candidates = about.candidates;
  // Where we saw the peer is a candidate too: for a NAT that maps per destination it differs
  // from what a STUN server saw, and it is the only public address a peer without STUN has.
  const bool known = std::any_of(info.candidates.begin(), info.candidates.end(),
                                 [&](const Candidate& c) { return c.endpoint == about.from; });
  if (!known && info.candidates.size() < kMaxCandidates) {
    info.candidates.push_back(Candidate{about.from, CandidateKind::kRendezvous});
  }
  std::array<uint8_t, 512> wire{};
  if (Queue(ByteSpan(wire.data(), Encode(info, wire)), to.from)) ++stats_.peer_infos;
}

ServerDrop RendezvousServer::HandleDatagram(ByteSpan data, const udp::Endpoint& from,
                                            MonoTime now) {
  const HeaderInfo h = PeekHeader(data);
  if (!h.ok()) return Drop(ServerDrop::kMalformed);
  if (h.type != MessageType::kRegister) return Drop(ServerDrop::kNotRequest);
  Register reg;
  if (Decode(data, &reg) != ParseError::kOk) return Drop(ServerDrop::kMalformed);
  ++stats_.registers;
  std::array<uint8_t, 512> wire{};

  auto reject = [&](RegisterErrorCode code) {
    RegisterError err;
    err.nonce = reg.nonce;
    err.code = code;
    if (Queue(ByteSpan(wire.data(), Encode(err, wire)), from)) ++stats_.errors;
    ServerEvent e;
    e.type = ServerEvent::Type::kRejected;
    e.name = reg.name;
    e.peer = reg.peer;
    e.from = from;
    e.code = code;
    Emit(std::move(e));
    return ServerDrop::kNone;
  };
  if (reg.name == reg.peer) return reject(RegisterErrorCode::kBadRequest);

  auto it = peers_.find(reg.name);
  if (it != peers_.end() && now >= it->second.expires) {
    peers_.erase(it);
    it = peers_.end();
  }
  if (it != peers_.end() && it->second.key != reg.key) {
    return reject(RegisterErrorCode::kNameTaken);
  }
  if (it == peers_.end() && peers_.size() >= options_.max_peers) {
    return reject(RegisterErrorCode::kServerFull);
  }
  const bool refresh = it != peers_.end() && it->second.nonce == reg.nonce &&
                       it->second.from == from && it->second.peer == reg.peer;
  if (it == peers_.end()) it = peers_.emplace(reg.name, Entry{}).first;
  Entry& entry = it->second;
  if (!refresh) entry.paired = false;
  entry.key = reg.key;
  entry.nonce = reg.nonce;
  entry.flags = reg.flags;
  entry.from = from;
  entry.peer = reg.peer;
  entry.candidates = std::move(reg.candidates);
  entry.expires = now + options_.lease;

  RegisterAck ack;
  ack.nonce = reg.nonce;
  ack.observed = from;
  ack.lease_seconds = static_cast<uint16_t>(std::min<int64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(options_.lease).count(), 65535));
  if (Queue(ByteSpan(wire.data(), Encode(ack, wire)), from)) ++stats_.acks;
  ServerEvent e;
  e.type = ServerEvent::Type::kRegistered;
  e.name = reg.name;
  e.peer = entry.peer;
  e.from = from;
  e.candidates = entry.candidates.size();
  e.refresh = refresh;
  Emit(std::move(e));

  // Both want each other: tell both now, so that they start punching at the same moment. A
  // peer that registers again (its PeerInfo was lost) gets it again, and so does the other.
  auto other = peers_.find(entry.peer);
  if (other == peers_.end() || now >= other->second.expires || other->second.peer != reg.name) {
    return ServerDrop::kNone;
  }
  const bool first_time = !entry.paired || !other->second.paired;
  SendPeerInfo(entry, other->first, other->second);
  SendPeerInfo(other->second, it->first, entry);
  entry.paired = true;
  other->second.paired = true;
  if (first_time) {
    ++stats_.pairs;
    ServerEvent p;
    p.type = ServerEvent::Type::kPaired;
    p.name = it->first;
    p.peer = other->first;
    p.from = from;
    p.candidates = entry.candidates.size() + other->second.candidates.size();
    Emit(std::move(p));
  }
  return ServerDrop::kNone;
}

std::optional<MonoTime> RendezvousServer::NextExpiry() const {
  std::optional<MonoTime> next;
  for (const auto& [name, entry] : peers_) {
    if (!next || entry.expires < *next) next = entry.expires;
  }
  return next;
}

void RendezvousServer::HandleExpiry(MonoTime now) {
  for (auto it = peers_.begin(); it != peers_.end();) {
    if (now < it->second.expires) {
      ++it;
      continue;
    }
    ++stats_.expired;
    ServerEvent e;
    e.type = ServerEvent::Type::kExpired;
    e.name = it->first;
    e.from = it->second.from;
    Emit(std::move(e));
    peers_.erase(it++);
  }
}

void RendezvousServer::Emit(ServerEvent e) {
  if (events_.size() >= kMaxQueuedEvents) events_.pop_front();
  events_.push_back(std::move(e));
}

std::optional<ServerEvent> RendezvousServer::NextEvent() {
  if (events_.empty()) return std::nullopt;
  ServerEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

}  // namespace meshvpn::holepunch
