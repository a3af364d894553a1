#include "meshvpn/udp/uv_peer_expiry.h"

#include <chrono>

namespace meshvpn::udp {

absl::StatusOr<std::unique_ptr<UvPeerExpiry>> UvPeerExpiry::Create(uv_loop_t* loop,
                                                                   PeerTable* table,
                                                                   const Clock* clock,
                                                                   PeerExpiryListener* listener) {
  std::unique_ptr<UvPeerExpiry> expiry(new UvPeerExpiry(table, clock, listener));
  absl::StatusOr<UvTimer> timer = UvTimer::Create(loop, uv_timer_init);
  if (!timer.ok()) return timer.status();
  expiry->timer_ = std::move(*timer);
  expiry->timer_.set_owner(expiry.get());
  expiry->Update();
  return expiry;
}

void UvPeerExpiry::Update() {
  const std::optional<MonoTime> next = table_->NextExpiry();
  if (!next) return;
  if (armed_ && *armed_ <= *next) return;
  Arm(*next);
}

void UvPeerExpiry::Reschedule() {
  armed_.reset();
  uv_timer_stop(timer_.get());
  Update();
}

void UvPeerExpiry::Arm(MonoTime deadline) {
  const Duration wait = deadline - clock_->Now();
  uint64_t ms = 0;
  if (wait > Duration::zero()) {
    // Round up: firing a little late is harmless, firing early costs a wasted wake-up.
    ms = static_cast<uint64_t>(std::chrono::ceil<std::chrono::milliseconds>(wait).count());
  }
  armed_ = deadline;
  uv_timer_start(timer_.get(), &UvPeerExpiry::OnTimer, ms, 0);
}

void UvPeerExpiry::OnTimer(uv_timer_t* timer) {
  static_cast<UvPeerExpiry*>(timer->data)->HandleTimer();
}

void UvPeerExpiry::HandleTimer() {
  armed_.reset();
  table_->HandleExpiry(clock_->Now(), [this](const PeerInfo& peer) {
    if (listener_ != nullptr) listener_->OnPeerExpired(peer);
  });
  Update();
}

}  // namespace meshvpn::udp
