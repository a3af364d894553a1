#include "meshvpn/holepunch/punch.h"

#include <algorithm>
#include <cstring>

#include "meshvpn/base/secure.h"
#include "meshvpn/base/status.h"

namespace meshvpn::holepunch {
namespace {

constexpr Duration kSprayTick = std::chrono::milliseconds(10);

uint32_t CounterOf(const TxId& tx) {
  return (uint32_t{tx[8]} << 24) | (uint32_t{tx[9]} << 16) | (uint32_t{tx[10]} << 8) | tx[11];
}

bool IsPublicKind(CandidateKind k) {
  return k == CandidateKind::kStun || k == CandidateKind::kRendezvous;
}

}  // namespace

std::string_view ToString(BirthdayRole r) {
  switch (r) {
    case BirthdayRole::kNone:
      return "none";
    case BirthdayRole::kHardSide:
      return "hard side";
    case BirthdayRole::kEasySide:
      return "easy side";
  }
  return "unknown";
}

std::string_view ToString(PunchState s) {
  switch (s) {
    case PunchState::kIdle:
      return "idle";
    case PunchState::kPunching:
      return "punching";
    case PunchState::kDirect:
      return "direct";
    case PunchState::kRelay:
      return "relay";
  }
  return "unknown";
}

std::string_view ToString(PunchDrop d) {
  switch (d) {
    case PunchDrop::kNone:
      return "none";
    case PunchDrop::kMalformed:
      return "malformed";
    case PunchDrop::kNotForPunch:
      return "not for punch";
    case PunchDrop::kUnknownSender:
      return "unknown sender";
    case PunchDrop::kBadMac:
      return "bad MAC";
    case PunchDrop::kUnknownTransaction:
      return "unknown transaction";
    case PunchDrop::kDuplicatePong:
      return "duplicate pong";
    case PunchDrop::kPongFromUnexpectedAddress:
      return "pong from unexpected address";
    case PunchDrop::kPathLimit:
      return "path limit";
    case PunchDrop::kOutboxFull:
      return "outbox full";
    case PunchDrop::kCount:
      break;
  }
  return "unknown";
}

Punch::Punch(const x25519::PublicKey& me, const SessionKey& key, const x25519::PublicKey& peer,
             PunchOptions options)
    : me_(me), key_(key), peer_(peer), options_(options) {}

absl::StatusOr<std::unique_ptr<Punch>> Punch::Create(const x25519::PublicKey& me,
                                                     const SessionKey& key,
                                                     const x25519::PublicKey& peer,
                                                     const std::vector<Candidate>& candidates,
                                                     PunchOptions options) {
  if (options.first_interval <= Duration::zero() || options.max_interval < options.first_interval ||
      options.timeout <= Duration::zero() || options.keepalive_interval <= Duration::zero() ||
      options.path_timeout <= options.keepalive_interval ||
      options.message_retry <= Duration::zero() || options.message_max_sends < 1 ||
      options.max_paths < 1 || options.hard_side_sockets < 1 || options.spray_rate < 1 ||
      options.birthday_timeout <= Duration::zero()) {
    return absl::InvalidArgumentError(
        "punch options: intervals and timeouts must be positive, max_interval >= "
        "first_interval, path_timeout > keepalive_interval, counts at least 1");
  }
  std::unique_ptr<Punch> p(new Punch(me, key, peer, options));
  MESHVPN_RETURN_IF_ERROR(FillRandom(p->tx_prefix_));
  if (p->options_.seed == 0) {
    std::array<uint8_t, 8> seed{};
    MESHVPN_RETURN_IF_ERROR(FillRandom(seed));
    for (uint8_t b : seed) p->options_.seed = (p->options_.seed << 8) | b;
  }
  p->paths_.reserve(options.max_paths);
  for (const Candidate& c : candidates) {
    if (p->FindPath(0, c.endpoint) == nullptr) (void)p->AddPath(0, c);
    if (IsPublicKind(c.kind)) {
      const bool known = std::any_of(p->public_candidates_.begin(), p->public_candidates_.end(),
                                     [&](const Candidate& o) { return o.endpoint == c.endpoint; });
      if (!known) p->public_candidates_.push_back(c);
    }
  }
  p->transactions_.resize(kTransactions);
  p->outbox_.resize(kOutbox);
  return p;
}

void Punch::Start(MonoTime now) {
  if (state_ != PunchState::kIdle) return;
  state_ = PunchState::kPunching;
  started_ = now;
  round_started_ = now;
  deadline_ = now + options_.timeout;
  interval_ = options_.first_interval;
  Event e = MakeEvent(EventType::kPunchStarted, now);
  e.count = static_cast<int64_t>(paths_.size());
  e.flag = options_.birthday != BirthdayRole::kNone;
  Emit(std::move(e));
  Attempt(now);
}

uint16_t Punch::slot_count() const {
  // Once the hard side has opened its sockets it keeps them: a path found on one of them must
  // stay usable.
  if (options_.birthday == BirthdayRole::kHardSide &&
      (birthday_active_ || birthday_done_ || (current_ && paths_[*current_].slot > 0))) {
    return options_.hard_side_sockets;
  }
  return 1;
}

const Path* Punch::current_path() const {
  if (state_ != PunchState::kDirect || !current_) return nullptr;
  return &paths_[*current_];
}

Path* Punch::FindPath(uint16_t slot, const udp::Endpoint& remote) {
  for (Path& p : paths_) {
    if (p.slot == slot && p.remote.endpoint == remote) return &p;
  }
  return nullptr;
}

Path* Punch::AddPath(uint16_t slot, const Candidate& remote) {
  if (paths_.size() >= options_.max_paths) return nullptr;
  Path p;
  p.remote = remote;
  p.slot = slot;
  paths_.push_back(p);
  return &paths_.back();
}

bool Punch::Enqueue(ByteSpan bytes, const udp::Endpoint& to, uint16_t slot, bool message) {
  if (outbox_size_ == kOutbox) {
    (void)Drop(PunchDrop::kOutboxFull);
    return false;
  }
  Queued& q = outbox_[(outbox_head_ + outbox_size_) % kOutbox];
  q.message = message;
  q.slot = slot;
  q.to = to;
  if (!message) {
    std::memcpy(q.bytes.data(), bytes.data(), bytes.size());
    q.size = static_cast<uint16_t>(bytes.size());
  }
  ++outbox_size_;
  return true;
}

std::optional<Outgoing> Punch::NextSend(MonoTime) {
  if (outbox_size_ == 0) return std::nullopt;
  const Queued& q = outbox_[outbox_head_];
  outbox_head_ = (outbox_head_ + 1) % kOutbox;
  --outbox_size_;
  if (q.message) return Outgoing{ByteSpan(message_.wire.data(), message_.size), q.to, q.slot};
  return Outgoing{ByteSpan(q.bytes.data(), q.size), q.to, q.slot};
}

void Punch::SendPing(uint16_t slot, const Candidate& to, Purpose purpose, MonoTime now) {
  const uint32_t counter = ++tx_counter_;
  Transaction& t = transactions_[counter % kTransactions];
  t.counter = counter;
  t.used = true;
  t.answered = false;
  t.purpose = purpose;
  t.slot = slot;
  t.kind = to.kind;
  t.to = to.endpoint;
  t.sent = now;

  Ping ping;
  ping.sender = me_;
  std::copy(tx_prefix_.begin(), tx_prefix_.end(), ping.tx.begin());
  ping.tx[8] = static_cast<uint8_t>(counter >> 24);
  ping.tx[9] = static_cast<uint8_t>(counter >> 16);
  ping.tx[10] = static_cast<uint8_t>(counter >> 8);
  ping.tx[11] = static_cast<uint8_t>(counter);
  std::array<uint8_t, kPingSize> wire{};
  const size_t n = Encode(ping, key_, wire);
  if (n == 0 || !Enqueue(ByteSpan(wire.data(), n), to.endpoint, slot, false)) return;
  switch (purpose) {
    case Purpose::kOpener:
      ++stats_.opener_sent;
      return;
    case Purpose::kSpray:
      ++stats_.spray_sent;
      return;
    case Purpose::kProbe:
    case Purpose::kKeepalive:
      break;
  }
  ++stats_.pings_sent;
  if (Path* p = FindPath(slot, to.endpoint)) {
    ++p->pings_sent;
    p->last_ping = now;
  }
}

void Punch::Attempt(MonoTime now) {
  ++stats_.attempts;
  ++round_attempts_;
  int sent = 0;
  // Index loop: SendPing never adds paths, but keep it robust to reallocation anyway.
  for (size_t i = 0; i < paths_.size(); ++i) {
    const Candidate remote = paths_[i].remote;
    SendPing(paths_[i].slot, remote, Purpose::kProbe, now);
    ++sent;
  }
  if (birthday_active_ && options_.birthday == BirthdayRole::kHardSide) {
    // Every extra socket sends to the easy side's public endpoint(s): each gets its own public
    // port on our NAT and a hole through which the easy side's probe can come in.
    for (uint16_t slot = 1; slot < options_.hard_side_sockets; ++slot) {
      for (const Candidate& c : public_candidates_) SendPing(slot, c, Purpose::kOpener, now);
    }
  }
  if (state_ == PunchState::kPunching) {
    Event e = MakeEvent(EventType::kAttempt, now);
    e.count = round_attempts_;
    e.value = sent;
    Emit(std::move(e));
  }
  next_attempt_ = now + interval_;
  interval_ = std::min(interval_ * 2, options_.max_interval);
}

void Punch::Spray(MonoTime now) {
  next_spray_ = now + kSprayTick;
  if (!spray_ || spray_addresses_.empty()) return;
  const int per_tick = std::max(1, options_.spray_rate / 100);
  for (int i = 0; i < per_tick; ++i) {
    if (stats_.spray_sent >= static_cast<uint64_t>(options_.spray_max)) return;
    const std::optional<uint16_t> port = spray_->Next();
    if (!port) return;
    const udp::Endpoint& address = spray_addresses_[spray_target_++ % spray_addresses_.size()];
    SendPing(0, Candidate{address.WithPort(*port), CandidateKind::kPredicted}, Purpose::kSpray,
             now);
  }
}

void Punch::FallBack(MonoTime now) {
  state_ = PunchState::kRelay;
  Event e = MakeEvent(EventType::kRelayFallback, now);
  e.elapsed = now - round_started_;  // this round's: a re-punch after a lost path starts anew
  e.count = round_attempts_;
  e.value = static_cast<int64_t>(stats_.pings_sent);
  Emit(std::move(e));
  if (options_.birthday != BirthdayRole::kNone && !birthday_done_ && !birthday_active_) {
    StartBirthday(now);
  }
}

void Punch::StartBirthday(MonoTime now) {
  birthday_active_ = true;
  birthday_started_ = now;
  birthday_deadline_ = now + options_.birthday_timeout;
  Event e = MakeEvent(EventType::kBirthdayStarted, now);
  e.text = std::string(ToString(options_.birthday));
  if (options_.birthday == BirthdayRole::kEasySide) {
    spray_ = std::make_unique<PortSpray>(options_.seed);
    for (const Candidate& c : public_candidates_) {
      const bool known = std::any_of(
          spray_addresses_.begin(), spray_addresses_.end(),
          [&](const udp::Endpoint& a) { return a.WithPort(0) == c.endpoint.WithPort(0); });
      if (!known) spray_addresses_.push_back(c.endpoint.WithPort(0));
      spray_->Skip(c.endpoint.port());  // already pinged by every attempt
    }
    next_spray_ = now;
    e.count = options_.spray_rate;
  } else {
    e.count = options_.hard_side_sockets;
  }
  Emit(std::move(e));
  interval_ = options_.max_interval;
  Attempt(now);
}

void Punch::EndBirthday(MonoTime now) {
  birthday_active_ = false;
  birthday_done_ = true;
  Event e = MakeEvent(EventType::kBirthdayGaveUp, now);
  e.value = static_cast<int64_t>(options_.birthday == BirthdayRole::kEasySide ? stats_.spray_sent
                                                                              : stats_.opener_sent);
  e.elapsed = now - birthday_started_;
  Emit(std::move(e));
}

void Punch::HandleExpiry(MonoTime now) {
  switch (state_) {
    case PunchState::kIdle:
      return;
    case PunchState::kPunching:
      if (now >= deadline_) {
        FallBack(now);
      } else if (now >= next_attempt_) {
        Attempt(now);
      }
      break;
    case PunchState::kDirect: {
      Path& cur = paths_[*current_];
      if (now - cur.last_pong >= options_.path_timeout) {
        Emit(MakeEvent(EventType::kPathLost, now));
        state_ = PunchState::kPunching;
        current_.reset();
        for (Path& p : paths_) p.confirmed = false;
        deadline_ = now + options_.timeout;
        interval_ = options_.first_interval;
        round_attempts_ = 0;
        round_started_ = now;
        Attempt(now);
      } else if (now >= next_keepalive_) {
        const Candidate remote = cur.remote;
        SendPing(cur.slot, remote, Purpose::kKeepalive, now);
        next_keepalive_ = now + options_.keepalive_interval;
      }
      break;
    }
    case PunchState::kRelay:
      break;
  }
  if (birthday_active_) {
    if (now >= birthday_deadline_) {
      EndBirthday(now);
    } else {
      if (now >= next_attempt_) Attempt(now);
      if (options_.birthday == BirthdayRole::kEasySide && now >= next_spray_) Spray(now);
    }
  }
  if (message_.pending && now >= message_.next_send) {
    if (message_.sends >= options_.message_max_sends) {
      message_.pending = false;
      Emit(MakeEvent(EventType::kMessageFailed, now));
    } else {
      if (current_) Enqueue({}, paths_[*current_].remote.endpoint, paths_[*current_].slot, true);
      ++message_.sends;
      message_.next_send = now + options_.message_retry;
    }
  }
}

std::optional<MonoTime> Punch::NextExpiry() const {
  std::optional<MonoTime> next;
  auto consider = [&next](MonoTime t) {
    if (!next || t < *next) next = t;
  };
  switch (state_) {
    case PunchState::kIdle:
      return std::nullopt;
    case PunchState::kPunching:
      consider(deadline_);
      consider(next_attempt_);
      break;
    case PunchState::kDirect:
      consider(next_keepalive_);
      consider(paths_[*current_].last_pong + options_.path_timeout);
      break;
    case PunchState::kRelay:
      break;
  }
  if (birthday_active_) {
    consider(birthday_deadline_);
    consider(next_attempt_);
    if (options_.birthday == BirthdayRole::kEasySide) consider(next_spray_);
  }
  if (message_.pending) consider(message_.next_send);
  return next;
}

PunchDrop Punch::Receive(ByteSpan data, const udp::Endpoint& from, uint16_t slot, MonoTime now) {
  const HeaderInfo h = PeekHeader(data);
  if (!h.ok()) return Drop(PunchDrop::kMalformed);
  switch (h.type) {
    case MessageType::kPing: {
      Ping m;
      if (Decode(data, &m) != ParseError::kOk) return Drop(PunchDrop::kMalformed);
      if (m.sender != peer_) return Drop(PunchDrop::kUnknownSender);
      if (!VerifyMac(data, key_)) return Drop(PunchDrop::kBadMac);
      OnPing(m, from, slot, now);
      return PunchDrop::kNone;
    }
    case MessageType::kPong: {
      Pong m;
      if (Decode(data, &m) != ParseError::kOk) return Drop(PunchDrop::kMalformed);
      if (m.sender != peer_) return Drop(PunchDrop::kUnknownSender);
      if (!VerifyMac(data, key_)) return Drop(PunchDrop::kBadMac);
      return OnPong(m, from, slot, now);
    }
    case MessageType::kMessage: {
      Message m;
      if (Decode(data, &m) != ParseError::kOk) return Drop(PunchDrop::kMalformed);
      if (m.sender != peer_) return Drop(PunchDrop::kUnknownSender);
      if (!VerifyMac(data, key_)) return Drop(PunchDrop::kBadMac);
      OnMessage(m, from, slot, now);
      return PunchDrop::kNone;
    }
    case MessageType::kMessageAck: {
      MessageAck m;
      if (Decode(data, &m) != ParseError::kOk) return Drop(PunchDrop::kMalformed);
      if (m.sender != peer_) return Drop(PunchDrop::kUnknownSender);
      if (!VerifyMac(data, key_)) return Drop(PunchDrop::kBadMac);
      OnMessageAck(m, now);
      return PunchDrop::kNone;
    }
    default:
      return Drop(PunchDrop::kNotForPunch);
  }
}

void Punch::OnPing(const Ping& ping, const udp::Endpoint& from, uint16_t slot, MonoTime now) {
  ++stats_.pings_received;
  Pong pong;
  pong.sender = me_;
  pong.tx = ping.tx;
  pong.observed = from;
  std::array<uint8_t, kPongMaxSize> wire{};
  const size_t n = Encode(pong, key_, wire);
  if (n > 0 && Enqueue(ByteSpan(wire.data(), n), from, slot, false)) ++stats_.pongs_sent;
  if (state_ == PunchState::kIdle) return;

  Path* p = FindPath(slot, from);
  if (p == nullptr) {
    // Gave up and not probing any more: answer, but learn nothing.
    if (state_ == PunchState::kRelay && !birthday_active_) return;
    p = AddPath(slot, Candidate{from, CandidateKind::kPeerReflexive});
    if (p == nullptr) {
      (void)Drop(PunchDrop::kPathLimit);
      return;
    }
    Event e = MakeEvent(EventType::kPeerReflexive, now);
    e.candidate = p->remote;
    e.slot = slot;
    Emit(std::move(e));
  }
  // A ping from there shows the way in is open: ping back at once (ICE's "triggered check")
  // instead of waiting for the next attempt, at most once per half first_interval per path.
  if (state_ != PunchState::kDirect &&
      (p->pings_sent == 0 || now - p->last_ping >= options_.first_interval / 2)) {
    const Candidate remote = p->remote;
    SendPing(slot, remote, Purpose::kProbe, now);
  }
}

PunchDrop Punch::OnPong(const Pong& pong, const udp::Endpoint& from, uint16_t slot, MonoTime now) {
  if (!std::equal(tx_prefix_.begin(), tx_prefix_.end(), pong.tx.begin())) {
    return Drop(PunchDrop::kUnknownTransaction);
  }
  const uint32_t counter = CounterOf(pong.tx);
  Transaction& t = transactions_[counter % kTransactions];
  if (!t.used || t.counter != counter) return Drop(PunchDrop::kUnknownTransaction);
  if (t.answered) return Drop(PunchDrop::kDuplicatePong);
  if (t.slot != slot || !(t.to == from)) return Drop(PunchDrop::kPongFromUnexpectedAddress);
  t.answered = true;
  ++stats_.pongs_received;
  const Duration rtt = now - t.sent;

  Path* p = FindPath(slot, from);
  if (p == nullptr) p = AddPath(slot, Candidate{from, t.kind});
  if (p == nullptr) return Drop(PunchDrop::kPathLimit);
  ++p->pongs_received;
  p->last_pong = now;
  p->rtt = rtt;
  p->observed = pong.observed;
  if (t.purpose == Purpose::kKeepalive && current_ && &paths_[*current_] == p) {
    Event e = MakeEvent(EventType::kKeepalive, now);
    e.candidate = p->remote;
    e.slot = p->slot;
    e.rtt = rtt;
    Emit(std::move(e));
    return PunchDrop::kNone;
  }
  const bool by_birthday =
      t.purpose == Purpose::kSpray || t.purpose == Purpose::kOpener || birthday_active_;
  Confirm(p, rtt, pong.observed, by_birthday, now);
  return PunchDrop::kNone;
}

void Punch::Confirm(Path* path, Duration rtt, const udp::Endpoint& observed, bool by_birthday,
                    MonoTime now) {
  const size_t index = static_cast<size_t>(path - paths_.data());
  if (!path->confirmed) {
    path->confirmed = true;
    Event e = MakeEvent(EventType::kPathConfirmed, now);
    e.candidate = path->remote;
    e.slot = path->slot;
    e.rtt = rtt;
    e.endpoint = observed;
    Emit(std::move(e));
  }
  if (state_ != PunchState::kDirect) {
    state_ = PunchState::kDirect;
    current_ = index;
    next_keepalive_ = now + options_.keepalive_interval;
    if (birthday_active_) {
      birthday_active_ = false;
      birthday_done_ = true;
    }
    Event e = MakeEvent(EventType::kDirect, now);
    e.candidate = path->remote;
    e.slot = path->slot;
    e.rtt = rtt;
    e.endpoint = observed;
    e.flag = by_birthday;
    e.count = round_attempts_;
    Emit(std::move(e));
    return;
  }
  if (index == *current_) return;
  const Path& cur = paths_[*current_];
  const int rank = Rank(path->remote.kind);
  const int cur_rank = Rank(cur.remote.kind);
  const bool better = rank > cur_rank || (rank == cur_rank && rtt * 10 < cur.rtt * 7);
  if (!better) return;
  current_ = index;
  Event e = MakeEvent(EventType::kPathChanged, now);
  e.candidate = path->remote;
  e.slot = path->slot;
  e.rtt = rtt;
  e.endpoint = observed;
  Emit(std::move(e));
}

absl::Status Punch::SendMessage(ByteSpan text, MonoTime now) {
  if (state_ != PunchState::kDirect || !current_) {
    return absl::FailedPreconditionError("no direct path to send a message on");
  }
  if (message_.pending) return absl::FailedPreconditionError("a message is still unacked");
  if (text.size() > kMaxTextSize) {
    return absl::InvalidArgumentError("message longer than 1024 bytes");
  }
  Message m;
  m.sender = me_;
  m.id = ++message_counter_;
  m.text = text;
  message_.size = Encode(m, key_, message_.wire);
  if (message_.size == 0) return absl::InternalError("message encoding failed");
  message_.pending = true;
  message_.id = m.id;
  message_.sends = 1;
  message_.first_send = now;
  message_.next_send = now + options_.message_retry;
  Enqueue({}, paths_[*current_].remote.endpoint, paths_[*current_].slot, true);
  return absl::OkStatus();
}

void Punch::OnMessage(const Message& m, const udp::Endpoint& from, uint16_t slot, MonoTime now) {
  MessageAck ack;
  ack.sender = me_;
  ack.id = m.id;
  std::array<uint8_t, kMessageAckSize> wire{};
  const size_t n = Encode(ack, key_, wire);
  if (n > 0) (void)Enqueue(ByteSpan(wire.data(), n), from, slot, false);
  if (m.id == 0 ||
      std::find(seen_messages_.begin(), seen_messages_.end(), m.id) != seen_messages_.end()) {
    return;  // a resend whose ack was lost: acked again, delivered once
  }
  seen_messages_[seen_next_] = m.id;
  seen_next_ = (seen_next_ + 1) % seen_messages_.size();
  Event e = MakeEvent(EventType::kMessageReceived, now);
  e.text = meshvpn::ToString(m.text);
  e.candidate = Candidate{from, CandidateKind::kPeerReflexive};
  e.slot = slot;
  Emit(std::move(e));
}

void Punch::OnMessageAck(const MessageAck& m, MonoTime now) {
  if (!message_.pending || m.id != message_.id) return;
  message_.pending = false;
  Event e = MakeEvent(EventType::kMessageDelivered, now);
  e.rtt = now - message_.first_send;
  Emit(std::move(e));
}

std::optional<Event> Punch::NextEvent() {
  if (events_.empty()) return std::nullopt;
  Event e = std::move(events_.front());
  events_.pop_front();
  return e;
}

Event Punch::MakeEvent(EventType t, MonoTime now) const {
  Event e;
  e.type = t;
  e.at = now;
  e.elapsed = now - started_;
  return e;
}

void Punch::Emit(Event e) {
  if (events_.size() >= kMaxQueuedEvents) events_.pop_front();
  events_.push_back(std::move(e));
}

}  // namespace meshvpn::holepunch
