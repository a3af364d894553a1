#include "meshvpn/wg/timers.h"

#include <algorithm>

namespace meshvpn::wg {
namespace {

// Age of something born at `created`; 0 if `now` is earlier (monotonic time does not go back,
// but a caller may hand in a stale `now`).
Duration Age(MonoTime created, MonoTime now) {
  return now > created ? now - created : Duration::zero();
}

constexpr Duration kJitterMax = kRekeyTimeoutJitterMax;

}  // namespace

std::string_view ToString(Timer timer) {
  switch (timer) {
    case Timer::kRetransmitHandshake:
      return "retransmit-handshake";
    case Timer::kNewHandshake:
      return "new-handshake";
    case Timer::kSendKeepalive:
      return "send-keepalive";
    case Timer::kPersistentKeepalive:
      return "persistent-keepalive";
    case Timer::kZeroKeyMaterial:
      return "zero-key-material";
  }
  return "unknown";
}

std::string_view ToString(TimerAction action) {
  switch (action) {
    case TimerAction::kRetransmitHandshake:
      return "retransmit-handshake";
    case TimerAction::kGiveUpHandshake:
      return "give-up-handshake";
    case TimerAction::kNewHandshake:
      return "new-handshake";
    case TimerAction::kSendKeepalive:
      return "send-keepalive";
    case TimerAction::kSendPersistentKeepalive:
      return "send-persistent-keepalive";
    case TimerAction::kZeroKeyMaterial:
      return "zero-key-material";
  }
  return "unknown";
}

std::string ToString(TimerActions actions) {
  if (actions.empty()) return "none";
  std::string out;
  for (unsigned bit = 0; bit < 8; ++bit) {
    const auto a = static_cast<TimerAction>(1u << bit);
    if (!actions.Has(a)) continue;
    if (!out.empty()) out.push_back('|');
    out.append(ToString(a));
  }
  return out;
}

std::string_view ToString(InitiationKind kind) {
  switch (kind) {
    case InitiationKind::kNew:
      return "new";
    case InitiationKind::kRetry:
      return "retry";
  }
  return "unknown";
}

Duration SplitMixJitter::NextJitter() {
  // SplitMix64 (Steele, Lea, Flood 2014): a Weyl sequence through a 64-bit finaliser.
  state_ += 0x9e3779b97f4a7c15ull;
  uint64_t z = state_;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  // Uniform over [0, max] nanoseconds; the modulo bias over 2^64 is negligible.
  const auto span = static_cast<uint64_t>(Duration(kJitterMax).count()) + 1;
  return Duration(static_cast<Duration::rep>(z % span));
}

// ---- Key freshness ------------------------------------------------------------------------------

bool RekeyOnSendDue(const KeypairUsage& keypair, MonoTime now) {
  if (keypair.messages_sent > kRekeyAfterMessages) return true;
  return keypair.we_initiated && Age(keypair.created, now) >= kRekeyAfterTime;
}

bool RekeyOnReceiveDue(const KeypairUsage& keypair, MonoTime now) {
  return keypair.we_initiated && Age(keypair.created, now) >= kRekeyOnReceiveAge;
}

bool KeypairExpired(MonoTime created, MonoTime now) {
  return Age(created, now) >= kRejectAfterTime;
}

bool MayEncrypt(const KeypairUsage& keypair, MonoTime now) {
  return !KeypairExpired(keypair.created, now) && keypair.messages_sent < kRejectAfterMessages;
}

bool MayDecrypt(MonoTime created, uint64_t counter, MonoTime now) {
  return !KeypairExpired(created, now) && counter < kRejectAfterMessages;
}

// ---- PeerTimers ---------------------------------------------------------------------------------

Duration PeerTimers::Jitter() {
  return std::clamp(jitter_->NextJitter(), Duration::zero(), Duration(kJitterMax));
}

void PeerTimers::OnDataSent(MonoTime now) {
  if (!Armed(Timer::kNewHandshake))
    Arm(Timer::kNewHandshake, now + kNewHandshakeTimeout + Jitter());
}

void PeerTimers::OnDataReceived(MonoTime now) {
  ArmIfIdle(Timer::kSendKeepalive, now + kKeepaliveTimeout);
}

void PeerTimers::OnAnyAuthenticatedPacketSent(MonoTime /*now*/) { Cancel(Timer::kSendKeepalive); }

void PeerTimers::OnAuthenticatedPacketReceived(MonoTime /*now*/) { Cancel(Timer::kNewHandshake); }

void PeerTimers::OnAuthenticatedPacketTraversal(MonoTime now) {
  if (persistent_interval_.count() > 0)
    Arm(Timer::kPersistentKeepalive, now + persistent_interval_);
}

void PeerTimers::OnHandshakeInitiated(MonoTime now, InitiationKind kind) {
  attempts_ = kind == InitiationKind::kNew ? 1 : attempts_ + 1;
  last_initiation_ = now;
  Arm(Timer::kRetransmitHandshake, now + kRekeyTimeout + Jitter());
}

void PeerTimers::OnHandshakeComplete(MonoTime now) {
  Cancel(Timer::kRetransmitHandshake);
  attempts_ = 0;
  sent_last_minute_handshake_ = false;
  last_handshake_ = now;
}

void PeerTimers::OnSessionDerived(MonoTime now) {
  Arm(Timer::kZeroKeyMaterial, now + kZeroKeyMaterialTimeout);
}

void PeerTimers::SetPersistentKeepalive(std::chrono::seconds interval, MonoTime now) {
  if (interval.count() < 0) interval = std::chrono::seconds(0);
  if (interval == persistent_interval_) return;
  persistent_interval_ = interval;
  if (interval.count() == 0) {
    Cancel(Timer::kPersistentKeepalive);
  } else {
    Arm(Timer::kPersistentKeepalive, now);
  }
}

void PeerTimers::Stop() {
  for (auto& d : deadlines_) d.reset();
  attempts_ = 0;
  sent_last_minute_handshake_ = false;
}

std::optional<MonoTime> PeerTimers::NextExpiry() const {
  std::optional<MonoTime> next;
  for (const auto& d : deadlines_) {
    if (d && (!next || *d < *next)) next = d;
  }
  return next;
}

TimerActions PeerTimers::HandleExpiry(MonoTime now) {
  TimerActions actions;
  auto due = [&](Timer t) {
    const auto& d = deadlines_[Index(t)];
    if (!d || *d > now) return false;
    Cancel(t);
    return true;
  };

  if (due(Timer::kRetransmitHandshake)) {
    if (attempts_ >= kMaxTimerHandshakes) {
      actions.Add(TimerAction::kGiveUpHandshake);
      attempts_ = 0;
      Cancel(Timer::kSendKeepalive);
      ArmIfIdle(Timer::kZeroKeyMaterial, now + kZeroKeyMaterialTimeout);
    } else {
      actions.Add(TimerAction::kRetransmitHandshake);
    }
  }
  if (due(Timer::kNewHandshake)) actions.Add(TimerAction::kNewHandshake);
  if (due(Timer::kSendKeepalive)) actions.Add(TimerAction::kSendKeepalive);
  if (due(Timer::kPersistentKeepalive) && persistent_interval_.count() > 0) {
    actions.Add(TimerAction::kSendPersistentKeepalive);
  }
  if (due(Timer::kZeroKeyMaterial)) actions.Add(TimerAction::kZeroKeyMaterial);
  return actions;
}

bool PeerTimers::InitiationAllowed(MonoTime now) const {
  return !last_initiation_ || Age(*last_initiation_, now) >= kRekeyTimeout;
}

bool PeerTimers::ShouldRekeyOnReceive(const KeypairUsage& current, MonoTime now) {
  if (sent_last_minute_handshake_ || !RekeyOnReceiveDue(current, now)) return false;
  sent_last_minute_handshake_ = true;
  return true;
}

}  // namespace meshvpn::wg
