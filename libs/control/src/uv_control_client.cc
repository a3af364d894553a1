// UvControlClient: ControlClientCore driven by a UvChannelClient and a retry timer.
#include "meshvpn/control/uv_control_client.h"

namespace meshvpn::control {

absl::StatusOr<std::unique_ptr<UvControlClient>> UvControlClient::Create(
    uv_loop_t* loop, ChannelClientOptions channel, ControlClientConfig config,
    ControlClientEvents* events) {
  if (channel.machine_key == nullptr) {
    return absl::InvalidArgumentError("UvControlClient needs a machine key");
  }
  std::unique_ptr<UvControlClient> client(
      new UvControlClient(loop, std::move(channel), std::move(config), events));
  auto timer = UvTimer::Create(loop, uv_timer_init);
  if (!timer.ok()) return timer.status();
  client->retry_ = std::move(*timer);
  client->retry_.set_owner(client.get());
  return client;
}

UvControlClient::UvControlClient(uv_loop_t* loop, ChannelClientOptions channel,
                                 ControlClientConfig config, ControlClientEvents* events)
    : core_(std::move(config), events),
      channel_(std::make_unique<UvChannelClient>(loop, std::move(channel),
                                                 static_cast<ChannelClientEvents*>(this))) {}

UvControlClient::~UvControlClient() {
  if (retry_.get() != nullptr) uv_timer_stop(retry_.get());
  channel_.reset();
}

void UvControlClient::Start() {
  core_.Start();
  channel_->Connect();
}

void UvControlClient::Stop() {
  core_.Stop();
  uv_timer_stop(retry_.get());
  channel_->Close();
}

void UvControlClient::SendAll(const std::vector<v1::Envelope>& envelopes) {
  for (const v1::Envelope& e : envelopes) channel_->Send(e);
}

void UvControlClient::SendMaybe(const std::optional<v1::Envelope>& envelope) {
  if (envelope.has_value()) channel_->Send(*envelope);
}

void UvControlClient::SetEndpoints(std::vector<std::string> endpoints) {
  SendMaybe(core_.SetEndpoints(std::move(endpoints)));
}
void UvControlClient::SetHomeDerpRegion(int32_t region) {
  SendMaybe(core_.SetHomeDerpRegion(region));
}
void UvControlClient::SetDiscoKey(const x25519::PublicKey& key) {
  SendMaybe(core_.SetDiscoKey(key));
}

void UvControlClient::OnChannelUp(const x25519::PublicKey&) { SendAll(core_.OnChannelUp()); }

void UvControlClient::OnEnvelope(v1::Envelope envelope) {
  SendAll(core_.OnEnvelope(envelope));
  if (core_.state() == ClientState::kNeedsLogin) channel_->Close();
}

void UvControlClient::OnChannelDown(const absl::Status& why) {
  const std::optional<std::chrono::milliseconds> delay = core_.OnChannelDown(why);
  if (!delay.has_value()) return;
  uv_timer_start(retry_.get(), &UvControlClient::OnRetryTimer,
                 static_cast<uint64_t>(delay->count()), 0);
}

void UvControlClient::OnRetryTimer(uv_timer_t* timer) {
  auto* self = static_cast<UvControlClient*>(timer->data);
  if (self == nullptr) return;
  if (self->core_.state() != ClientState::kBackoff) return;
  self->core_.Start();  // kConnecting (the backoff keeps growing until a registration works)
  self->channel_->Connect();
}

}  // namespace meshvpn::control
