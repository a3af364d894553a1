// The libuv driver of the DERP client: the HTTP upgrade, one ClientCore per connection, writes,
// the core's timer, and reconnecting with backoff.
#include "meshvpn/derp/uv_client.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "meshvpn/base/secure.h"
#include "meshvpn/http/request.h"
#include "meshvpn/x25519/x25519.h"

namespace meshvpn::derp {
namespace {

// What one UpgradedStream::Write hands over at most (it takes all or nothing).
constexpr size_t kWriteChunk = 64 << 10;
// How much of a refusing server's body an error quotes.
constexpr size_t kMaxQuotedBody = 128;

uint64_t CeilMillis(Duration d) {
  if (d <= Duration::zero()) return 0;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(d).count();
  return static_cast<uint64_t>(ms);
}

std::string Printable(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  return out;
}

}  // namespace

// The core's events: most go to the user's handler; pongs and timeouts end Ping()s.
class UvClient::CoreEvents final : public ClientEvents {
 public:
  explicit CoreEvents(UvClient* owner) : owner_(owner) {}

  void OnReady(const PublicKey& server_key, const ServerInfo& info) override {
    ++owner_->stats_.connections_ready;
    owner_->server_key_ = server_key;
    owner_->next_backoff_ = owner_->options_.backoff_initial;
    owner_->events_->OnReady(server_key, info);
  }
  void OnPacket(const PublicKey& source, ByteSpan data) override {
    owner_->events_->OnPacket(source, data);
  }
  void OnPeerGone(const PublicKey& peer, PeerGoneReason reason) override {
    owner_->events_->OnPeerGone(peer, reason);
  }
  void OnPeerPresent(const PeerPresentMessage& message) override {
    owner_->events_->OnPeerPresent(message);
  }
  void OnPong(const PingData& data, std::optional<Duration> rtt) override {
    if (!rtt) return;  // not one of ours
    if (PingDone done = owner_->TakePing(data)) done(*rtt);
  }
  void OnPingTimeout(const PingData& data) override {
    if (PingDone done = owner_->TakePing(data)) {
      done(absl::DeadlineExceededError(
          "no pong within " +
          std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                             owner_->options_.core.ping_timeout)
                             .count()) +
          " ms"));
    }
  }
  void OnKeepAlive() override { owner_->events_->OnKeepAlive(); }
  void OnHealth(std::string_view problem) override { owner_->events_->OnHealth(problem); }
  void OnRestarting(std::chrono::milliseconds reconnect_in,
                    std::chrono::milliseconds try_for) override {
    owner_->server_suggested_delay_ = reconnect_in;
    owner_->events_->OnRestarting(reconnect_in, try_for);
  }
  // The driver sees core->failed() after the call and disconnects then.
  void OnError(const absl::Status&) override {}

 private:
  UvClient* owner_;
};

// One attempt: the handler of the upgrade request's response, then of the upgraded stream.
// Detached (owner null) once the attempt or its connection is over; it stays allocated until
// the HTTP client is done with it, since the HTTP client holds a pointer to it until then.
class UvClient::Upgrader final : public http::ResponseHandler, public http::StreamHandler {
 public:
  Upgrader(UvClient* owner, std::string path) : owner_(owner), path_(std::move(path)) {}

  void Detach() { owner_ = nullptr; }
  bool finished() const { return owner_ == nullptr && response_ended_; }

  void OnResponseHead(const http::ResponseHead& head) override { status_ = head.status; }
  void OnResponseBody(std::string_view data) override {
    if (body_.size() < kMaxQuotedBody) body_.append(data.substr(0, kMaxQuotedBody - body_.size()));
  }
  void OnResponseComplete() override {
    response_ended_ = true;
    if (owner_ == nullptr) return;
    std::string why =
        "GET " + path_ + ": HTTP " + std::to_string(status_) + ", not 101 Switching Protocols";
    if (!body_.empty()) why += ": " + Printable(body_);
    owner_->OnAttemptFailed(absl::UnavailableError(why));
  }
  void OnResponseError(const absl::Status& error) override {
    response_ended_ = true;
    if (owner_ != nullptr) owner_->OnAttemptFailed(error);
  }
  void OnUpgrade(const http::ResponseHead& head, http::UpgradedStream stream,
                 std::string buffered) override {
    response_ended_ = true;
    if (owner_ == nullptr) return;  // a cancelled attempt: `stream` closes as it goes
    if (head.status != 101) {
      owner_->OnAttemptFailed(
          absl::UnavailableError("GET " + path_ + ": HTTP " + std::to_string(head.status)));
      return;
    }
    owner_->OnUpgraded(std::move(stream), std::move(buffered));
  }

  void OnStreamData(ByteSpan data) override {
    if (owner_ != nullptr) owner_->OnStreamData(data);
  }
  void OnStreamClosed() override {
    if (owner_ != nullptr) owner_->OnStreamClosed();
  }
  void OnStreamWritable() override {
    if (owner_ != nullptr) owner_->Flush();
  }

 private:
  UvClient* owner_;
  std::string path_;
  int status_ = 0;
  std::string body_;
  bool response_ended_ = false;
};

absl::StatusOr<std::unique_ptr<UvClient>> UvClient::Create(uv_loop_t* loop, PrivateKey private_key,
                                                           UvClientOptions options,
                                                           UvClientEvents* events) {
  if (options.host.empty()) return absl::InvalidArgumentError("DERP client: no server host");
  if (events == nullptr) return absl::InvalidArgumentError("DERP client: no event handler");
  if (options.backoff_initial <= Duration::zero() ||
      options.backoff_max < options.backoff_initial || options.backoff_jitter < 0 ||
      options.backoff_jitter >= 1) {
    return absl::InvalidArgumentError("DERP client: invalid reconnect backoff");
  }
  absl::StatusOr<PublicKey> public_key = x25519::DerivePublicKey(private_key);
  if (!public_key.ok()) return absl::InvalidArgumentError("DERP client: unusable private key");
  auto core_timer = UvTimer::Create(loop, uv_timer_init);
  if (!core_timer.ok()) return core_timer.status();
  auto reconnect_timer = UvTimer::Create(loop, uv_timer_init);
  if (!reconnect_timer.ok()) return reconnect_timer.status();
  std::unique_ptr<UvClient> client(
      new UvClient(loop, std::move(private_key), *public_key, std::move(options), events));
  client->core_timer_ = std::move(*core_timer);
  client->core_timer_.set_owner(client.get());
  client->reconnect_timer_ = std::move(*reconnect_timer);
  client->reconnect_timer_.set_owner(client.get());
  return client;
}

UvClient::UvClient(uv_loop_t* loop, PrivateKey private_key, PublicKey public_key,
                   UvClientOptions options, UvClientEvents* events)
    : loop_(loop),
      private_key_(std::move(private_key)),
      public_key_(public_key),
      options_(std::move(options)),
      events_(events),
      clock_(options_.clock != nullptr ? options_.clock : &RealClock::Instance()),
      core_events_(std::make_unique<CoreEvents>(this)),
      next_backoff_(options_.backoff_initial),
      preferred_(options_.core.preferred),
      watch_conns_(options_.core.watch_conns) {
  uint32_t seed = 0;
  FillRandom(MutableByteSpan(reinterpret_cast<uint8_t*>(&seed), sizeof seed)).IgnoreError();
  random_.seed(seed);
  http::UvClientOptions http_options;
  http_options.host = options_.host;
  http_options.port = options_.port;
  http_options.tls = options_.tls;
  http_options.server_name = options_.server_name;
  http_options.limits = options_.http_limits;
  http_options.clock = clock_;
  http_ = std::make_unique<http::UvClient>(loop_, std::move(http_options));
}

UvClient::~UvClient() {
  running_ = false;
  for (auto& upgrader : upgraders_) upgrader->Detach();
  attempt_ = nullptr;
  stream_.Close();
  http_.reset();  // may tell detached upgraders that their responses failed
  upgraders_.clear();
  FailPings(absl::CancelledError("the DERP client was destroyed"));
}

void UvClient::Start() {
  if (running_) return;
  running_ = true;
  next_backoff_ = options_.backoff_initial;
  if (core_ == nullptr && attempt_ == nullptr) Connect();
}

void UvClient::Close() {
  running_ = false;
  uv_timer_stop(reconnect_timer_.get());
  if (core_ != nullptr || attempt_ != nullptr) {
    Disconnect(absl::CancelledError("the DERP client was closed"));
  }
}

void UvClient::Connect() {
  CollectUpgraders();
  ++attempts_;
  ++stats_.connect_attempts;
  events_->OnConnecting(attempts_);
  if (!running_) return;  // closed from OnConnecting
  upgraders_.push_back(std::make_unique<Upgrader>(this, options_.path));
  attempt_ = upgraders_.back().get();
  http::Request request;
  request.method = "GET";
  request.target = options_.path;
  request.path = options_.path;
  request.headers.Add("Upgrade", "DERP");
  request.headers.Add("Connection", "Upgrade");
  http_->Send(std::move(request), attempt_);  // may fail at once (OnAttemptFailed)
}

void UvClient::CollectUpgraders() {
  std::erase_if(upgraders_, [](const std::unique_ptr<Upgrader>& u) { return u->finished(); });
  retired_core_.reset();
}

void UvClient::OnAttemptFailed(absl::Status why) { Disconnect(std::move(why)); }

void UvClient::OnUpgraded(http::UpgradedStream stream, std::string buffered) {
  stream_ = std::move(stream);
  stream_.set_handler(attempt_);
  ClientCoreOptions core_options = options_.core;
  core_options.preferred = preferred_;
  core_options.watch_conns = watch_conns_;
  core_ = std::make_unique<ClientCore>(private_key_, public_key_, std::move(core_options), clock_,
                                       core_events_.get());
  // Bytes that came with the 101 (the greeting, often) would otherwise be lost.
  if (!buffered.empty()) core_->Feed(AsBytes(buffered));
  AfterCoreCall();
}

void UvClient::OnStreamData(ByteSpan data) {
  if (core_ == nullptr) return;
  core_->Feed(data);
  AfterCoreCall();
}

void UvClient::OnStreamClosed() {
  absl::Status why = absl::UnavailableError("the server closed the connection");
  if (core_ != nullptr && !core_->greeted()) {
    why = absl::UnavailableError("the server closed the connection before its greeting");
  }
  Disconnect(std::move(why));
}

void UvClient::AfterCoreCall() {
  if (core_ == nullptr) return;
  if (core_->failed()) {
    Disconnect(core_->error());
    return;
  }
  Flush();
  ArmCoreTimer();
}

void UvClient::Flush() {
  if (core_ == nullptr || !stream_.alive()) return;
  const size_t chunk_limit =
      std::max<size_t>(1, std::min(kWriteChunk, options_.http_limits.max_buffered_output / 2));
  for (;;) {
    std::string_view pending = core_->PendingOutput();
    if (pending.empty()) return;
    const size_t n = std::min(pending.size(), chunk_limit);
    if (!stream_.Write(AsBytes(pending.substr(0, n)))) return;  // OnStreamWritable resumes
    core_->ConsumeOutput(n);
  }
}

void UvClient::ArmCoreTimer() {
  std::optional<MonoTime> next = core_ != nullptr ? core_->NextExpiry() : std::nullopt;
  if (!next) {
    uv_timer_stop(core_timer_.get());
    return;
  }
  uv_timer_start(core_timer_.get(), &UvClient::OnCoreTimer, CeilMillis(*next - clock_->Now()), 0);
}

void UvClient::OnCoreTimer(uv_timer_t* timer) {
  auto* self = static_cast<UvClient*>(timer->data);
  if (self == nullptr || self->core_ == nullptr) return;
  self->core_->HandleExpiry(self->clock_->Now());
  self->AfterCoreCall();
}

void UvClient::Disconnect(absl::Status why) {
  if (core_ != nullptr) {
    finished_core_stats_ += core_->stats();
    core_->Close();
    retired_core_ = std::move(core_);  // its Feed may be on the stack
  }
  stream_.Close();  // sends what is buffered; no OnStreamClosed follows
  if (attempt_ != nullptr) {
    attempt_->Detach();
    attempt_ = nullptr;
  }
  uv_timer_stop(core_timer_.get());
  if (!running_) {
    FailPings(why);
    return;
  }
  ++stats_.disconnects;
  FailPings(absl::UnavailableError("the DERP connection ended: " + std::string(why.message())));
  ScheduleReconnect(why);
}

void UvClient::ScheduleReconnect(const absl::Status& why) {
  Duration delay = next_backoff_;
  if (server_suggested_delay_) {
    delay = std::min<Duration>(*server_suggested_delay_, options_.backoff_max);
    server_suggested_delay_.reset();
  }
  if (options_.backoff_jitter > 0) {
    const double u = std::uniform_real_distribution<double>(0, 1)(random_);
    delay = std::chrono::duration_cast<Duration>(delay * (1 - options_.backoff_jitter * u));
  }
  next_backoff_ = std::min<Duration>(next_backoff_ * 2, options_.backoff_max);
  events_->OnDisconnected(why, delay);
  if (!running_) return;  // closed from OnDisconnected
  uv_timer_start(reconnect_timer_.get(), &UvClient::OnReconnectTimer, CeilMillis(delay), 0);
}

void UvClient::OnReconnectTimer(uv_timer_t* timer) {
  auto* self = static_cast<UvClient*>(timer->data);
  if (self == nullptr || !self->running_ || self->core_ != nullptr || self->attempt_ != nullptr) {
    return;
  }
  self->Connect();
}

UvClient::PingDone UvClient::TakePing(const PingData& data) {
  auto it = std::find_if(pings_.begin(), pings_.end(),
                         [&](const PendingPing& p) { return p.data == data; });
  if (it == pings_.end()) return nullptr;
  PingDone done = std::move(it->done);
  pings_.erase(it);
  return done;
}

void UvClient::FailPings(const absl::Status& why) {
  std::vector<PendingPing> pings = std::move(pings_);
  pings_.clear();
  for (PendingPing& p : pings) p.done(why);
}

bool UvClient::Send(const PublicKey& dst, ByteSpan packet) {
  if (core_ == nullptr) {
    ++stats_.dropped_not_connected;
    return false;
  }
  const bool sent = core_->Send(dst, packet) == SendResult::kSent;
  Flush();
  return sent;
}

bool UvClient::ForwardPacket(const PublicKey& src, const PublicKey& dst, ByteSpan packet) {
  if (core_ == nullptr) {
    ++stats_.dropped_not_connected;
    return false;
  }
  const bool sent = core_->ForwardPacket(src, dst, packet) == SendResult::kSent;
  Flush();
  return sent;
}

void UvClient::Ping(PingDone done) {
  if (core_ == nullptr) {
    done(absl::UnavailableError("not connected to the DERP server"));
    return;
  }
  std::optional<PingData> data = core_->Ping();
  if (!data) {
    done(absl::ResourceExhaustedError("ping not sent: too many in flight or output full"));
    return;
  }
  pings_.push_back({*data, std::move(done)});
  Flush();
  ArmCoreTimer();
}

void UvClient::NotePreferred(bool preferred) {
  preferred_ = preferred;
  if (core_ == nullptr) return;
  core_->NotePreferred(preferred);
  Flush();
}

void UvClient::WatchConns() {
  watch_conns_ = true;
  if (core_ == nullptr) return;
  core_->WatchConns();
  Flush();
}

bool UvClient::ClosePeer(const PublicKey& peer) {
  if (core_ == nullptr) return false;
  const bool sent = core_->ClosePeer(peer);
  Flush();
  return sent;
}

bool UvClient::connected() const { return core_ != nullptr && core_->ready(); }

UvClientStats UvClient::stats() const {
  UvClientStats s = stats_;
  s.core = finished_core_stats_;
  if (core_ != nullptr) s.core += core_->stats();
  return s;
}

}  // namespace meshvpn::derp
