// UvMapStreamer: full maps on open, the turn's deltas after each loop turn, keepalives.
#include "meshvpn/control/uv_map_streamer.h"

namespace meshvpn::control {
namespace {

int64_t UnixMs(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock.WallNow().time_since_epoch())
      .count();
}

}  // namespace

absl::StatusOr<std::unique_ptr<UvMapStreamer>> UvMapStreamer::Create(
    uv_loop_t* loop, MapBuilder* builder, const Clock* clock, std::chrono::milliseconds keepalive,
    size_t max_queued_output) {
  if (builder == nullptr) return absl::InvalidArgumentError("UvMapStreamer needs a builder");
  std::unique_ptr<UvMapStreamer> s(new UvMapStreamer(
      builder, clock != nullptr ? clock : &RealClock::Instance(), keepalive, max_queued_output));
  auto check = UvCheck::Create(loop, uv_check_init);
  if (!check.ok()) return check.status();
  s->check_ = std::move(*check);
  s->check_.set_owner(s.get());
  uv_check_start(s->check_.get(), &UvMapStreamer::OnCheck);
  uv_unref(s->check_.base());
  auto timer = UvTimer::Create(loop, uv_timer_init);
  if (!timer.ok()) return timer.status();
  s->keepalive_timer_ = std::move(*timer);
  s->keepalive_timer_.set_owner(s.get());
  const auto period = static_cast<uint64_t>(std::max<int64_t>(keepalive.count() / 4, 10));
  uv_timer_start(s->keepalive_timer_.get(), &UvMapStreamer::OnTimer, period, period);
  uv_unref(s->keepalive_timer_.base());
  return s;
}

UvMapStreamer::UvMapStreamer(MapBuilder* builder, const Clock* clock,
                             std::chrono::milliseconds keepalive, size_t max_queued_output)
    : builder_(builder),
      clock_(clock),
      keepalive_(keepalive),
      max_queued_output_(max_queued_output) {}

UvMapStreamer::~UvMapStreamer() = default;

void UvMapStreamer::Send(uint64_t node_id, Stream& stream, const std::string& envelope) {
  stream.last_sent = clock_->Now();
  stats_.bytes_sent += envelope.size();
  queued_estimate_ += envelope.size();
  if (!stream.session->SendEncoded(envelope)) {
    // Over its bound: the channel closed itself, and its close will come through Closed().
    (void)node_id;
  }
}

bool UvMapStreamer::Open(uint64_t node_id, ChannelSession* session) {
  if (!builder_->HasNode(node_id)) return false;
  // Online first, so that the node's own full map shows it so and its peers hear it.
  v1::PeerChange online;
  online.set_node_id(node_id);
  online.set_online(true);
  online.set_last_seen_ms(UnixMs(*clock_));
  (void)builder_->PatchNode(online);
  absl::StatusOr<std::string> full = builder_->OpenSession(node_id);
  if (!full.ok()) return false;
  Stream& stream = streams_[node_id];
  stream.session = session;
  ++stats_.streams_opened;
  ++stats_.full_maps_sent;
  Send(node_id, stream, *full);
  return true;
}

void UvMapStreamer::Closed(uint64_t node_id) {
  if (streams_.erase(node_id) == 0) return;
  builder_->CloseSession(node_id);  // a no-op for a deleted node (RemoveNode closed it)
  if (!builder_->HasNode(node_id)) return;
  v1::PeerChange offline;
  offline.set_node_id(node_id);
  offline.set_online(false);
  offline.set_last_seen_ms(UnixMs(*clock_));
  (void)builder_->PatchNode(offline);
}

size_t UvMapStreamer::QueuedOutput() const {
  size_t total = 0;
  for (const auto& [id, stream] : streams_) total += stream.session->pending_output();
  return total;
}

void UvMapStreamer::Flush() {
  for (const uint64_t id : builder_->TakeDirtySessions()) {
    if (in_backlog_.insert(id).second) backlog_.push_back(id);
  }
  while (!backlog_.empty()) {
    if (queued_estimate_ > max_queued_output_) {
      queued_estimate_ = QueuedOutput();
      if (queued_estimate_ > max_queued_output_) {
        // The channels' writes will bring more loop turns, each ending in a flush.
        ++stats_.flushes_deferred;
        return;
      }
    }
    const uint64_t id = backlog_.front();
    backlog_.pop_front();
    in_backlog_.erase(id);
    auto it = streams_.find(id);
    const std::string update = builder_->TakeUpdate(id);  // "" for a session closed since
    if (it == streams_.end() || update.empty()) continue;
    ++stats_.deltas_sent;
    Send(id, it->second, update);
  }
}

void UvMapStreamer::SendKeepalives() {
  const MonoTime now = clock_->Now();
  for (auto& [id, stream] : streams_) {
    if (now - stream.last_sent < keepalive_) continue;
    ++stats_.keepalives_sent;
    Send(id, stream, builder_->KeepAlive(id));
  }
}

void UvMapStreamer::OnCheck(uv_check_t* handle) {
  auto* self = static_cast<UvMapStreamer*>(handle->data);
  if (self != nullptr) self->Flush();
}

void UvMapStreamer::OnTimer(uv_timer_t* handle) {
  auto* self = static_cast<UvMapStreamer*>(handle->data);
  if (self != nullptr) self->SendKeepalives();
}

}  // namespace meshvpn::control
