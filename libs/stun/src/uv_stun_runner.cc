#include "meshvpn/stun/uv_stun_runner.h"

#include <algorithm>
#include <chrono>

#include "meshvpn/base/status.h"

namespace meshvpn::stun {

absl::StatusOr<std::unique_ptr<UvStunRunner>> UvStunRunner::Create(uv_loop_t* loop,
                                                                   udp::UdpSocket* socket,
                                                                   DatagramCore* core,
                                                                   const Clock* clock) {
  std::unique_ptr<UvStunRunner> r(
      new UvStunRunner(socket, core, clock != nullptr ? clock : &RealClock::Instance()));
  auto timer = UvTimer::Create(loop, uv_timer_init);
  if (!timer.ok()) return timer.status();
  r->timer_ = std::move(*timer);
  r->timer_.set_owner(r.get());
  return r;
}

UvStunRunner::~UvStunRunner() {
  if (socket_->receiving()) socket_->Stop();
}

absl::Status UvStunRunner::Start() {
  MESHVPN_RETURN_IF_ERROR(socket_->Start(this));
  Pump();
  return absl::OkStatus();
}

void UvStunRunner::OnDatagrams(std::span<udp::Datagram> batch) {
  const MonoTime now = clock_->Now();
  for (const udp::Datagram& d : batch) {
    core_->OnDatagram(d.buffer->span(), d.from, now);
  }
  Pump();
}

void UvStunRunner::OnTimer(uv_timer_t* handle) {
  if (handle->data != nullptr) static_cast<UvStunRunner*>(handle->data)->HandleTimer();
}

void UvStunRunner::HandleTimer() {
  core_->HandleExpiry(clock_->Now());
  Pump();
}

void UvStunRunner::Pump() {
  const MonoTime now = clock_->Now();
  while (auto d = core_->NextSend(now)) {
    (void)socket_->SendTo(d->data, d->to);  // a lost send is what retransmission is for
  }
  uv_timer_stop(timer_.get());
  if (core_->Done()) {
    socket_->Stop();
    return;
  }
  if (auto next = core_->NextExpiry()) {
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(*next - now);
    uv_timer_start(timer_.get(), &UvStunRunner::OnTimer,
                   static_cast<uint64_t>(std::max<int64_t>(wait.count(), 0)), 0);
  }
}

}  // namespace meshvpn::stun
