#include "meshvpn/holepunch/rendezvous_client.h"

#include <algorithm>

#include "meshvpn/base/secure.h"
#include "meshvpn/base/status.h"

namespace meshvpn::holepunch {

std::string_view ToString(RendezvousState s) {
  switch (s) {
    case RendezvousState::kRegistering:
      return "registering";
    case RendezvousState::kWaiting:
      return "waiting for peer";
    case RendezvousState::kPaired:
      return "paired";
    case RendezvousState::kFailed:
      return "failed";
  }
  return "unknown";
}

absl::StatusOr<std::unique_ptr<RendezvousClient>> RendezvousClient::Create(
    RendezvousClientOptions options, MonoTime now) {
  if (!ValidName(options.name) || !ValidName(options.peer)) {
    return absl::InvalidArgumentError(
        "rendezvous names are 1 to 32 characters of a-z, 0-9, '.', '_' and '-'");
  }
  if (options.name == options.peer) {
    return absl::InvalidArgumentError("a peer cannot rendezvous with itself");
  }
  if (options.first_retry <= Duration::zero() || options.max_retry < options.first_retry ||
      options.register_timeout <= Duration::zero() || options.peer_timeout <= Duration::zero()) {
    return absl::InvalidArgumentError("rendezvous timings must be positive");
  }
  if (options.candidates.size() > kMaxCandidates - 1) options.candidates.resize(kMaxCandidates - 1);
  if (options.nonce == 0) {
    std::array<uint8_t, 8> b{};
    MESHVPN_RETURN_IF_ERROR(FillRandom(b));
    for (uint8_t x : b) options.nonce = (options.nonce << 8) | x;
    if (options.nonce == 0) options.nonce = 1;
  }
  std::unique_ptr<RendezvousClient> c(new RendezvousClient(std::move(options)));
  Register r;
  r.nonce = c->options_.nonce;
  r.key = c->options_.key;
  r.flags = c->options_.flags;
  r.name = c->options_.name;
  r.peer = c->options_.peer;
  r.candidates = c->options_.candidates;
  c->wire_.resize(1024);
  const size_t n = Encode(r, c->wire_);
  if (n == 0) return absl::InternalError("could not encode the Register message");
  c->wire_.resize(n);
  c->started_ = now;
  c->next_send_ = now;
  c->retry_ = c->options_.first_retry;
  return c;
}

std::optional<Outgoing> RendezvousClient::NextSend(MonoTime now) {
  if (!send_due_) return std::nullopt;
  send_due_ = false;
  ++sends_;
  next_send_ = now + retry_;
  retry_ = std::min(retry_ * 2, options_.max_retry);
  return Outgoing{wire_, options_.server, 0};
}

std::optional<MonoTime> RendezvousClient::NextExpiry() const {
  switch (state_) {
    case RendezvousState::kRegistering:
      return std::min(next_send_, started_ + options_.register_timeout);
    case RendezvousState::kWaiting:
      return std::min(next_send_, registered_at_ + options_.peer_timeout);
    case RendezvousState::kPaired:
    case RendezvousState::kFailed:
      break;
  }
  return std::nullopt;
}

void RendezvousClient::HandleExpiry(MonoTime now) {
  if (state_ == RendezvousState::kRegistering && now >= started_ + options_.register_timeout) {
    Fail(EventType::kRendezvousUnreachable, now);
    return;
  }
  if (state_ == RendezvousState::kWaiting && now >= registered_at_ + options_.peer_timeout) {
    Fail(EventType::kPeerTimeout, now);
    return;
  }
  if ((state_ == RendezvousState::kRegistering || state_ == RendezvousState::kWaiting) &&
      now >= next_send_) {
    send_due_ = true;
  }
}

void RendezvousClient::OnDatagram(ByteSpan data, const udp::Endpoint& from, uint16_t,
                                  MonoTime now) {
  if (!(from == options_.server)) return;
  if (state_ == RendezvousState::kPaired || state_ == RendezvousState::kFailed) return;
  const HeaderInfo h = PeekHeader(data);
  if (!h.ok()) return;
  switch (h.type) {
    case MessageType::kRegisterAck: {
      RegisterAck ack;
      if (Decode(data, &ack) != ParseError::kOk || ack.nonce != options_.nonce) return;
      if (state_ == RendezvousState::kRegistering) {
        state_ = RendezvousState::kWaiting;
        registered_at_ = now;
        observed_ = ack.observed;
        Event e;
        e.type = EventType::kRegistered;
        e.at = now;
        e.elapsed = now - started_;
        e.endpoint = ack.observed;
        e.count = ack.lease_seconds;
        Emit(std::move(e));
      }
      return;
    }
    case MessageType::kPeerInfo: {
      PeerInfo info;
      if (Decode(data, &info) != ParseError::kOk || info.nonce != options_.nonce) return;
      if (info.name != options_.peer) return;
      if (state_ == RendezvousState::kRegistering) registered_at_ = now;
      state_ = RendezvousState::kPaired;
      send_due_ = false;
      Event e;
      e.type = EventType::kPeerFound;
      e.at = now;
      e.elapsed = now - started_;
      e.text = info.name;
      e.count = static_cast<int64_t>(info.candidates.size());
      peer_info_ = std::move(info);
      Emit(std::move(e));
      return;
    }
    case MessageType::kRegisterError: {
      RegisterError err;
      if (Decode(data, &err) != ParseError::kOk || err.nonce != options_.nonce) return;
      Fail(EventType::kRegisterRejected, now, std::string(ToString(err.code)));
      return;
    }
    default:
      return;
  }
}

void RendezvousClient::Fail(EventType type, MonoTime now, std::string text) {
  state_ = RendezvousState::kFailed;
  send_due_ = false;
  Event e;
  e.type = type;
  e.at = now;
  e.elapsed = now - started_;
  e.text = std::move(text);
  e.count = sends_;
  Emit(std::move(e));
}

void RendezvousClient::Emit(Event e) {
  if (events_.size() >= kMaxQueuedEvents) events_.pop_front();
  events_.push_back(std::move(e));
}

std::optional<Event> RendezvousClient::NextEvent() {
  if (events_.empty()) return std::nullopt;
  Event e = std::move(events_.front());
  events_.pop_front();
  return e;
}

}  // namespace meshvpn::holepunch
