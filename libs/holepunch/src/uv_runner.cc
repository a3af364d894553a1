#include "meshvpn/holepunch/uv_runner.h"

#include <algorithm>
#include <chrono>

#include "meshvpn/base/status.h"

namespace meshvpn::holepunch {

UvRunner::UvRunner(uv_loop_t* loop, UvRunnerOptions options)
    : loop_(loop),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : &RealClock::Instance()),
      pool_(options_.pool_buffers, options_.buffer_size) {}

absl::StatusOr<std::unique_ptr<UvRunner>> UvRunner::Create(uv_loop_t* loop,
                                                           UvRunnerOptions options) {
  std::unique_ptr<UvRunner> r(new UvRunner(loop, std::move(options)));
  MESHVPN_ASSIGN_OR_RETURN(r->timer_, UvTimer::Create(loop, uv_timer_init));
  r->timer_.set_owner(r.get());
  MESHVPN_RETURN_IF_ERROR(r->OpenSlot());
  return r;
}

UvRunner::~UvRunner() {
  Stop();
  sockets_.clear();  // before the pool and the receivers
}

absl::Status UvRunner::OpenSlot() {
  udp::UdpSocketOptions so;
  so.bind = sockets_.empty() ? options_.bind : options_.bind.WithPort(0);
  so.dual_stack = so.bind.is_v6();
  so.logger = options_.logger;
  so.clock = clock_;
  if (!sockets_.empty()) {
    // Extra slots (birthday probing: up to hundreds) carry a few small probes each: small
    // batches, and no UDP_GRO read area (64 KiB per batch slot, zeroed: 255 sockets would spend
    // a second and a quarter of a gigabyte setting them up).
    so.batch_size = std::max<size_t>(1, options_.extra_slot_batch);
    so.gro = false;
    so.gso = false;
  }
  MESHVPN_ASSIGN_OR_RETURN(std::unique_ptr<udp::UdpSocket> socket,
                           udp::UdpSocket::Open(loop_, &pool_, so));
  auto receiver = std::make_unique<SlotReceiver>();
  receiver->runner = this;
  receiver->slot = static_cast<uint16_t>(sockets_.size());
  if (core_ != nullptr) MESHVPN_RETURN_IF_ERROR(socket->Start(receiver.get()));
  sockets_.push_back(std::move(socket));
  receivers_.push_back(std::move(receiver));
  return absl::OkStatus();
}

void UvRunner::EnsureSlots() {
  const size_t want = std::max<uint16_t>(1, core_->slot_count());
  while (sockets_.size() < want && !slot_error_logged_) {
    if (absl::Status st = OpenSlot(); !st.ok()) {
      options_.logger.Warning("could not open socket %d of %d: %s", sockets_.size(), want,
                              st.ToString());
      slot_error_logged_ = true;  // do not retry on every pump
    }
  }
}

absl::Status UvRunner::Start(Core* core, Listener* listener) {
  core_ = core;
  listener_ = listener;
  for (size_t i = 0; i < sockets_.size(); ++i) {
    MESHVPN_RETURN_IF_ERROR(sockets_[i]->Start(receivers_[i].get()));
  }
  Pump();
  return absl::OkStatus();
}

void UvRunner::Stop() {
  if (timer_) uv_timer_stop(timer_.get());
  for (auto& s : sockets_) {
    if (s->receiving()) s->Stop();
  }
  core_ = nullptr;
  listener_ = nullptr;
}

const udp::Endpoint& UvRunner::local_endpoint(uint16_t slot) const {
  return sockets_[std::min<size_t>(slot, sockets_.size() - 1)]->local_endpoint();
}

void UvRunner::SlotReceiver::OnDatagrams(std::span<udp::Datagram> batch) {
  runner->OnDatagrams(slot, batch);
}

void UvRunner::OnDatagrams(uint16_t slot, std::span<udp::Datagram> batch) {
  if (core_ == nullptr) return;
  const MonoTime now = clock_->Now();
  for (const udp::Datagram& d : batch) core_->OnDatagram(d.buffer->span(), d.from, slot, now);
  Pump();
}

void UvRunner::OnTimer(uv_timer_t* handle) {
  if (handle->data != nullptr) static_cast<UvRunner*>(handle->data)->HandleTimer();
}

void UvRunner::HandleTimer() {
  if (core_ == nullptr) return;
  core_->HandleExpiry(clock_->Now());
  Pump();
}

void UvRunner::Pump() {
  if (core_ == nullptr || pumping_) return;
  pumping_ = true;
  EnsureSlots();
  const MonoTime now = clock_->Now();
  while (auto d = core_->NextSend(now)) {
    if (d->slot >= sockets_.size() || !sockets_[d->slot]->SendTo(d->data, d->to)) {
      ++send_failures_;  // a lost probe is what the next attempt is for
    }
  }
  uv_timer_stop(timer_.get());
  if (auto next = core_->NextExpiry()) {
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(*next - now);
    uv_timer_start(timer_.get(), &UvRunner::OnTimer,
                   static_cast<uint64_t>(std::max<int64_t>(wait.count(), 0)), 0);
  }
  pumping_ = false;
  if (listener_ != nullptr) listener_->OnProgress();
}

}  // namespace meshvpn::holepunch
