#include "meshvpn/holepunch/session.h"

#include <algorithm>

#include "meshvpn/base/status.h"
#include "meshvpn/stun/messages.h"
#include "meshvpn/x25519/x25519.h"

namespace meshvpn::holepunch {
namespace {

bool LooksLikeStun(ByteSpan d) {
  return d.size() >= stun::kHeaderSize && (d[0] & 0xC0) == 0 && d[4] == 0x21 && d[5] == 0x12 &&
         d[6] == 0xA4 && d[7] == 0x42;
}

bool IsReflexive(CandidateKind k) {
  return k == CandidateKind::kStun || k == CandidateKind::kRendezvous;
}

}  // namespace

std::string_view ToString(SessionState s) {
  switch (s) {
    case SessionState::kGathering:
      return "gathering";
    case SessionState::kRegistering:
      return "registering";
    case SessionState::kWaitingForPeer:
      return "waiting for peer";
    case SessionState::kPunching:
      return "punching";
    case SessionState::kDirect:
      return "direct";
    case SessionState::kRelay:
      return "relay";
    case SessionState::kFailed:
      return "failed";
  }
  return "unknown";
}

bool ReflexivePortsDiffer(const std::vector<Candidate>& candidates) {
  for (size_t i = 0; i < candidates.size(); ++i) {
    for (size_t j = i + 1; j < candidates.size(); ++j) {
      const Candidate& a = candidates[i];
      const Candidate& b = candidates[j];
      if (IsReflexive(a.kind) && IsReflexive(b.kind) &&
          a.endpoint.WithPort(0) == b.endpoint.WithPort(0) &&
          a.endpoint.port() != b.endpoint.port()) {
        return true;
      }
    }
  }
  return false;
}

absl::StatusOr<std::unique_ptr<Session>> Session::Create(SessionOptions options, MonoTime now) {
  if (!ValidName(options.name) || !ValidName(options.peer) || options.name == options.peer) {
    return absl::InvalidArgumentError(
        "names are 1 to 32 characters of a-z, 0-9, '.', '_' and '-', and must differ");
  }
  std::unique_ptr<Session> s(new Session(std::move(options)));
  if (s->options_.private_key) {
    s->private_key_ = *s->options_.private_key;
    s->options_.private_key.reset();
    MESHVPN_ASSIGN_OR_RETURN(s->public_key_, x25519::DerivePublicKey(s->private_key_));
  } else {
    MESHVPN_ASSIGN_OR_RETURN(x25519::KeyPair pair, x25519::GenerateKeyPair());
    s->private_key_ = std::move(pair.private_key);
    s->public_key_ = pair.public_key;
  }
  GatherOptions g;
  g.stun_servers = s->options_.stun_servers;
  g.local_addresses = s->options_.local_addresses;
  g.port = s->options_.port;
  g.policy = s->options_.stun_policy;
  MESHVPN_ASSIGN_OR_RETURN(s->gatherer_, CandidateGatherer::Create(std::move(g), now));
  s->Advance(now);
  return s;
}

SessionState Session::state() const {
  if (failed_) return SessionState::kFailed;
  if (punch_) {
    switch (punch_->state()) {
      case PunchState::kDirect:
        return SessionState::kDirect;
      case PunchState::kRelay:
        return SessionState::kRelay;
      case PunchState::kIdle:
      case PunchState::kPunching:
        return SessionState::kPunching;
    }
  }
  if (rendezvous_) {
    return rendezvous_->state() == RendezvousState::kRegistering ? SessionState::kRegistering
                                                                 : SessionState::kWaitingForPeer;
  }
  return SessionState::kGathering;
}

Core* Session::Active() const {
  if (failed_) return nullptr;
  if (punch_) return punch_.get();
  if (rendezvous_) return rendezvous_.get();
  return gatherer_.get();
}

std::optional<Outgoing> Session::NextSend(MonoTime now) {
  Core* c = Active();
  return c ? c->NextSend(now) : std::nullopt;
}

std::optional<MonoTime> Session::NextExpiry() const {
  Core* c = Active();
  return c ? c->NextExpiry() : std::nullopt;
}

void Session::HandleExpiry(MonoTime now) {
  if (Core* c = Active()) c->HandleExpiry(now);
  Advance(now);
}

void Session::OnDatagram(ByteSpan data, const udp::Endpoint& from, uint16_t slot, MonoTime now) {
  if (LooksLikeStun(data)) {
    if (!rendezvous_ && gatherer_) {
      gatherer_->OnDatagram(data, from, slot, now);
    } else {
      ++unexpected_;
    }
  } else if (HasMagic(data)) {
    const HeaderInfo h = PeekHeader(data);
    const bool rendezvous_type =
        h.ok() && (h.type == MessageType::kRegisterAck || h.type == MessageType::kPeerInfo ||
                   h.type == MessageType::kRegisterError);
    if (rendezvous_type && rendezvous_ && !punch_) {
      rendezvous_->OnDatagram(data, from, slot, now);
    } else if (!rendezvous_type && punch_) {
      punch_->OnDatagram(data, from, slot, now);
    } else {
      ++unexpected_;
    }
  } else {
    ++unexpected_;
  }
  Advance(now);
}

void Session::Advance(MonoTime now) {
  if (!rendezvous_ && gatherer_ && gatherer_->Done()) {
    for (const StunAnswer& a : gatherer_->result().answers) {
      Event e;
      e.type = EventType::kStunMapped;
      e.at = now;
      e.peer_endpoint = a.server;
      e.rtt = a.rtt;
      e.flag = a.mapped.has_value();
      if (a.mapped) e.endpoint = *a.mapped;
      e.text = std::string(stun::ToString(a.outcome));
      Emit(std::move(e));
    }
    hard_nat_ = gatherer_->result().mapping_varies;
    Event e;
    e.type = EventType::kCandidates;
    e.at = now;
    e.count = static_cast<int64_t>(gatherer_->result().candidates.size());
    e.flag = hard_nat_;
    Emit(std::move(e));
    StartRendezvous(now);
  }
  if (rendezvous_ && !punch_ && !failed_) {
    while (auto e = rendezvous_->NextEvent()) {
      if (e->type == EventType::kRegistered) {
        // A rendezvous server that sees another port than the STUN servers did: the mapping
        // depends on the destination.
        for (const Candidate& c : gatherer_->result().candidates) {
          if (c.kind == CandidateKind::kStun && c.endpoint.WithPort(0) == e->endpoint.WithPort(0) &&
              c.endpoint.port() != e->endpoint.port()) {
            hard_nat_ = true;
          }
        }
        e->flag = hard_nat_;
      }
      const EventType type = e->type;
      Emit(std::move(*e));
      if (type == EventType::kRendezvousUnreachable || type == EventType::kRegisterRejected ||
          type == EventType::kPeerTimeout) {
        failed_ = true;
      }
    }
    if (!failed_ && rendezvous_->state() == RendezvousState::kPaired) StartPunch(now);
  }
  if (punch_) {
    while (auto e = punch_->NextEvent()) Emit(std::move(*e));
  }
}

void Session::StartRendezvous(MonoTime now) {
  RendezvousClientOptions r;
  r.server = options_.rendezvous;
  r.name = options_.name;
  r.peer = options_.peer;
  r.key = public_key_;
  r.flags = hard_nat_ ? kFlagHardNat : 0;
  r.candidates = gatherer_->result().candidates;
  r.register_timeout = options_.register_timeout;
  r.peer_timeout = options_.peer_timeout;
  auto client = RendezvousClient::Create(std::move(r), now);
  if (!client.ok()) {
    Fail(EventType::kRegisterRejected, now, client.status().ToString());
    return;
  }
  rendezvous_ = std::move(*client);
}

void Session::StartPunch(MonoTime now) {
  peer_ = rendezvous_->peer_info();
  if (options_.expected_peer_key && !(*options_.expected_peer_key == peer_->key)) {
    Fail(EventType::kPeerKeyMismatch, now, peer_->key.ToBase64());
    return;
  }
  auto key = SessionKey::Derive(private_key_, public_key_, peer_->key);
  if (!key.ok()) {
    Fail(EventType::kPeerKeyMismatch, now, key.status().ToString());
    return;
  }
  peer_hard_nat_ = (peer_->flags & kFlagHardNat) != 0 || ReflexivePortsDiffer(peer_->candidates);
  role_ = BirthdayRole::kNone;
  if (options_.birthday && hard_nat_ != peer_hard_nat_) {
    role_ = hard_nat_ ? BirthdayRole::kHardSide : BirthdayRole::kEasySide;
  }
  PunchOptions po = options_.punch;
  po.birthday = role_;
  auto punch = Punch::Create(public_key_, *key, peer_->key, peer_->candidates, po);
  if (!punch.ok()) {
    Fail(EventType::kPeerKeyMismatch, now, punch.status().ToString());
    return;
  }
  punch_ = std::move(*punch);
  punch_->Start(now);
}

void Session::Fail(EventType type, MonoTime now, std::string text) {
  failed_ = true;
  Event e;
  e.type = type;
  e.at = now;
  e.text = std::move(text);
  Emit(std::move(e));
}

absl::Status Session::SendMessage(ByteSpan text, MonoTime now) {
  if (!punch_) return absl::FailedPreconditionError("not punching yet");
  return punch_->SendMessage(text, now);
}

void Session::Emit(Event e) {
  if (events_.size() >= kMaxQueuedEvents) events_.pop_front();
  events_.push_back(std::move(e));
}

std::optional<Event> Session::NextEvent() {
  if (events_.empty()) return std::nullopt;
  Event e = std::move(events_.front());
  events_.pop_front();
  return e;
}

}  // namespace meshvpn::holepunch
