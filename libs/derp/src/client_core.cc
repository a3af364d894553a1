// The sans-I/O DERP client of one connection: handshake, frames, pings, rate limit, timeouts.
#include "meshvpn/derp/client_core.h"

#include <algorithm>
#include <utility>
#include <variant>

#include "meshvpn/base/secure.h"

namespace meshvpn::derp {
namespace {

std::string FrameLimitText(size_t bytes) { return std::to_string(bytes) + " bytes"; }

}  // namespace

std::string_view ToString(SendResult result) {
  switch (result) {
    case SendResult::kSent:
      return "sent";
    case SendResult::kTooLarge:
      return "packet too large";
    case SendResult::kRateLimited:
      return "rate limited";
    case SendResult::kNotConnected:
      return "not connected";
    case SendResult::kOutputFull:
      return "output full";
  }
  return "unknown";
}

ClientStats& operator+=(ClientStats& total, const ClientStats& more) {
  total.bytes_received += more.bytes_received;
  total.bytes_sent += more.bytes_sent;
  total.frames_received += more.frames_received;
  total.frames_sent += more.frames_sent;
  total.frames_skipped += more.frames_skipped;
  total.packets_received += more.packets_received;
  total.packet_bytes_received += more.packet_bytes_received;
  total.packets_sent += more.packets_sent;
  total.packet_bytes_sent += more.packet_bytes_sent;
  total.packets_forwarded += more.packets_forwarded;
  total.dropped_too_large += more.dropped_too_large;
  total.dropped_rate_limited += more.dropped_rate_limited;
  total.dropped_not_connected += more.dropped_not_connected;
  total.dropped_output_full += more.dropped_output_full;
  total.pings_sent += more.pings_sent;
  total.pongs_received += more.pongs_received;
  total.pongs_unmatched += more.pongs_unmatched;
  total.ping_timeouts += more.ping_timeouts;
  total.pings_received += more.pings_received;
  total.pongs_sent += more.pongs_sent;
  total.keepalives_received += more.keepalives_received;
  total.peer_gone_received += more.peer_gone_received;
  total.peer_present_received += more.peer_present_received;
  total.health_received += more.health_received;
  total.restarting_received += more.restarting_received;
  total.server_infos_received += more.server_infos_received;
  return total;
}

bool ClientCore::TokenBucket::Allow(MonoTime now, size_t bytes) {
  if (now > last) {
    const double elapsed = std::chrono::duration<double>(now - last).count();
    tokens = std::min(burst, tokens + elapsed * rate);
    last = now;
  }
  const auto need = static_cast<double>(bytes);
  if (need > tokens) return false;
  tokens -= need;
  return true;
}

ClientCore::ClientCore(PrivateKey private_key, PublicKey public_key, ClientCoreOptions options,
                       const Clock* clock, ClientEvents* events)
    : private_key_(std::move(private_key)),
      public_key_(public_key),
      options_(std::move(options)),
      clock_(clock),
      events_(events),
      reader_(kMaxServerKeyFrameLen),
      created_at_(clock->Now()),
      last_recv_(created_at_) {}

ClientCore::~ClientCore() = default;

void ClientCore::Feed(ByteSpan data) {
  if (failed() || closed_ || data.empty()) return;
  stats_.bytes_received += data.size();
  last_recv_ = clock_->Now();
  reader_.Feed(data);
  while (!failed() && !closed_) {
    std::optional<FrameView> frame = reader_.Next();
    if (!frame) {
      if (reader_.failed()) {
        Fail(absl::InvalidArgumentError(state_ == State::kAwaitingServerKey
                                            ? "invalid server greeting: a frame of more than " +
                                                  FrameLimitText(kMaxServerKeyFrameLen)
                                            : "unexpectedly large frame: more than " +
                                                  FrameLimitText(kMaxFrameLen)));
      }
      return;
    }
    ++stats_.frames_received;
    if (state_ == State::kAwaitingServerKey) {
      HandleGreeting(*frame);
    } else if (frame->type == static_cast<uint8_t>(FrameType::kServerInfo)) {
      HandleServerInfo(*frame);
    } else if (std::optional<ServerMessage> message = ParseServerMessage(*frame)) {
      HandleMessage(*message);
    } else {
      ++stats_.frames_skipped;
    }
  }
}

void ClientCore::HandleGreeting(const FrameView& frame) {
  if (frame.type != static_cast<uint8_t>(FrameType::kServerKey)) {
    Fail(absl::InvalidArgumentError("invalid server greeting: the first frame is " +
                                    std::string(ToString(static_cast<FrameType>(frame.type)))));
    return;
  }
  absl::StatusOr<PublicKey> key = ParseServerKey(frame.payload);
  if (!key.ok()) {
    Fail(key.status());
    return;
  }
  if (options_.expected_server_key && *key != *options_.expected_server_key) {
    Fail(absl::PermissionDeniedError("server key " + ShortKey(*key) + " is not the expected " +
                                     ShortKey(*options_.expected_server_key)));
    return;
  }
  ClientInfo info;
  info.mesh_key = options_.mesh_key;
  info.version = kProtocolVersion;
  info.can_ack_pings = options_.can_ack_pings;
  info.is_prober = options_.is_prober;
  info.app_name = options_.app_name;
  std::string client_info = MakeClientInfoFrame(private_key_, public_key_, *key, info);
  if (client_info.size() < kFrameHeaderLen + kKeyLen + kSealOverhead) {
    Fail(absl::InvalidArgumentError("invalid server greeting: degenerate server key " +
                                    ShortKey(*key)));
    return;
  }
  server_key_ = *key;
  state_ = State::kConnected;
  reader_.set_max_frame_len(kMaxFrameLen);
  const size_t before = output_.size();
  output_ += client_info;
  // The ClientInfo may carry the mesh key (inside the box); wipe our copy.
  SecureWipe(MutableByteSpan(reinterpret_cast<uint8_t*>(client_info.data()), client_info.size()));
  CountFrame(output_, before);
  if (options_.preferred) NotePreferred(true);
  if (options_.watch_conns) WatchConns();
  output_ += early_output_;  // already counted
  early_output_.clear();
}

void ClientCore::HandleServerInfo(const FrameView& frame) {
  absl::StatusOr<ServerInfo> info = OpenServerInfo(private_key_, server_key_, frame.payload);
  if (!info.ok()) {
    Fail(absl::Status(info.status().code(),
                      "invalid server info frame: " + std::string(info.status().message())));
    return;
  }
  ++stats_.server_infos_received;
  if (info->token_bucket_bytes_per_second > 0) {
    TokenBucket bucket;
    bucket.rate = static_cast<double>(info->token_bucket_bytes_per_second);
    bucket.burst = static_cast<double>(std::max<int64_t>(0, info->token_bucket_bytes_burst));
    bucket.tokens = bucket.burst;
    bucket.last = clock_->Now();
    send_limit_ = bucket;
  } else {
    send_limit_.reset();
  }
  const bool first = !ready_;
  server_info_ = *info;
  ready_ = true;
  if (first) events_->OnReady(server_key_, *server_info_);
}

void ClientCore::HandleMessage(ServerMessage& message) {
  if (auto* packet = std::get_if<RecvPacketMessage>(&message)) {
    ++stats_.packets_received;
    stats_.packet_bytes_received += packet->data.size();
    events_->OnPacket(packet->source, packet->data);
  } else if (std::holds_alternative<KeepAliveMessage>(message)) {
    ++stats_.keepalives_received;
    events_->OnKeepAlive();
  } else if (auto* gone = std::get_if<PeerGoneMessage>(&message)) {
    ++stats_.peer_gone_received;
    events_->OnPeerGone(gone->peer, gone->reason);
  } else if (auto* present = std::get_if<PeerPresentMessage>(&message)) {
    ++stats_.peer_present_received;
    events_->OnPeerPresent(*present);
  } else if (auto* ping = std::get_if<PingMessage>(&message)) {
    ++stats_.pings_received;
    if (options_.can_ack_pings && CanSend() && OutputHasRoom(kFrameHeaderLen + kPingLen, true)) {
      std::string* out = Out();
      const size_t before = out->size();
      AppendPong(ping->data, out);
      CountFrame(*out, before);
      ++stats_.pongs_sent;
    }
  } else if (auto* pong = std::get_if<PongMessage>(&message)) {
    HandlePong(pong->data);
  } else if (auto* health = std::get_if<HealthMessage>(&message)) {
    ++stats_.health_received;
    events_->OnHealth(health->problem);
  } else if (auto* restarting = std::get_if<RestartingMessage>(&message)) {
    ++stats_.restarting_received;
    events_->OnRestarting(restarting->reconnect_in, restarting->try_for);
  }
}

void ClientCore::HandlePong(const PingData& data) {
  ++stats_.pongs_received;
  auto it = std::find_if(pings_.begin(), pings_.end(),
                         [&](const OutstandingPing& p) { return p.data == data; });
  if (it == pings_.end()) {
    ++stats_.pongs_unmatched;
    events_->OnPong(data, std::nullopt);
    return;
  }
  const Duration rtt = clock_->Now() - it->sent_at;
  pings_.erase(it);
  events_->OnPong(data, rtt);
}

void ClientCore::Fail(absl::Status error) {
  if (failed()) return;
  state_ = State::kFailed;
  error_ = std::move(error);
  pings_.clear();
  early_output_.clear();
  events_->OnError(error_);
}

void ClientCore::Close() {
  closed_ = true;
  pings_.clear();
}

size_t ClientCore::PendingBytes() const {
  return output_.size() - output_pos_ + early_output_.size();
}

bool ClientCore::OutputHasRoom(size_t frame_len, bool control) const {
  const size_t limit = options_.max_pending_output + (control ? kControlSlack : 0);
  return PendingBytes() + frame_len <= limit;
}

void ClientCore::CountFrame(const std::string& out, size_t before) {
  ++stats_.frames_sent;
  stats_.bytes_sent += out.size() - before;
}

SendResult ClientCore::Send(const PublicKey& dst, ByteSpan packet) {
  if (packet.size() > kMaxPacketSize) {
    ++stats_.dropped_too_large;
    return SendResult::kTooLarge;
  }
  if (!CanSend()) {
    ++stats_.dropped_not_connected;
    return SendResult::kNotConnected;
  }
  const size_t frame_len = kFrameHeaderLen + kKeyLen + packet.size();
  if (!OutputHasRoom(frame_len, false)) {
    ++stats_.dropped_output_full;
    return SendResult::kOutputFull;
  }
  if (send_limit_ && !send_limit_->Allow(clock_->Now(), frame_len)) {
    ++stats_.dropped_rate_limited;
    return SendResult::kRateLimited;
  }
  std::string* out = Out();
  const size_t before = out->size();
  AppendSendPacket(dst, packet, out);
  CountFrame(*out, before);
  ++stats_.packets_sent;
  stats_.packet_bytes_sent += packet.size();
  return SendResult::kSent;
}

SendResult ClientCore::ForwardPacket(const PublicKey& src, const PublicKey& dst, ByteSpan packet) {
  if (packet.size() > kMaxPacketSize) {
    ++stats_.dropped_too_large;
    return SendResult::kTooLarge;
  }
  if (!CanSend()) {
    ++stats_.dropped_not_connected;
    return SendResult::kNotConnected;
  }
  const size_t frame_len = kFrameHeaderLen + 2 * kKeyLen + packet.size();
  if (!OutputHasRoom(frame_len, false)) {
    ++stats_.dropped_output_full;
    return SendResult::kOutputFull;
  }
  std::string* out = Out();
  const size_t before = out->size();
  AppendForwardPacket(src, dst, packet, out);
  CountFrame(*out, before);
  ++stats_.packets_sent;
  ++stats_.packets_forwarded;
  stats_.packet_bytes_sent += packet.size();
  return SendResult::kSent;
}

bool ClientCore::SendPing(const PingData& data) {
  if (!CanSend() || pings_.size() >= options_.max_outstanding_pings ||
      !OutputHasRoom(kFrameHeaderLen + kPingLen, true)) {
    return false;
  }
  for (const OutstandingPing& p : pings_) {
    if (p.data == data) return false;
  }
  std::string* out = Out();
  const size_t before = out->size();
  AppendPing(data, out);
  CountFrame(*out, before);
  pings_.push_back({data, clock_->Now()});
  ++stats_.pings_sent;
  return true;
}

std::optional<PingData> ClientCore::Ping() {
  PingData data{};
  if (!FillRandom(MutableByteSpan(data)).ok()) return std::nullopt;
  if (!SendPing(data)) return std::nullopt;
  return data;
}

bool ClientCore::NotePreferred(bool preferred) {
  if (!CanSend() || !OutputHasRoom(kFrameHeaderLen + kNotePreferredFrameLen, true)) return false;
  std::string* out = Out();
  const size_t before = out->size();
  AppendNotePreferred(preferred, out);
  CountFrame(*out, before);
  return true;
}

bool ClientCore::WatchConns() {
  if (!CanSend() || !OutputHasRoom(kFrameHeaderLen, true)) return false;
  std::string* out = Out();
  const size_t before = out->size();
  AppendWatchConns(out);
  CountFrame(*out, before);
  return true;
}

bool ClientCore::ClosePeer(const PublicKey& peer) {
  if (!CanSend() || !OutputHasRoom(kFrameHeaderLen + kClosePeerFrameLen, true)) return false;
  std::string* out = Out();
  const size_t before = out->size();
  AppendClosePeer(peer, out);
  CountFrame(*out, before);
  return true;
}

std::string_view ClientCore::PendingOutput() const {
  return std::string_view(output_).substr(output_pos_);
}

void ClientCore::ConsumeOutput(size_t n) {
  output_pos_ = std::min(output_.size(), output_pos_ + n);
  if (output_pos_ == output_.size()) {
    output_.clear();
    output_pos_ = 0;
  } else if (output_pos_ >= (64 << 10) && output_pos_ >= output_.size() / 2) {
    output_.erase(0, output_pos_);
    output_pos_ = 0;
  }
}

std::string ClientCore::TakeOutput() {
  std::string out;
  if (output_pos_ == 0) {
    out.swap(output_);
  } else {
    out = output_.substr(output_pos_);
    output_.clear();
  }
  output_pos_ = 0;
  return out;
}

std::optional<MonoTime> ClientCore::NextExpiry() const {
  if (failed() || closed_) return std::nullopt;
  MonoTime next = last_recv_ + options_.recv_timeout;
  if (!ready_) next = std::min(next, created_at_ + options_.handshake_timeout);
  for (const OutstandingPing& p : pings_) next = std::min(next, p.sent_at + options_.ping_timeout);
  return next;
}

void ClientCore::HandleExpiry(MonoTime now) {
  if (failed() || closed_) return;
  // Pings first: their handlers may send, which is fine while the connection lives.
  std::vector<PingData> expired;
  for (auto it = pings_.begin(); it != pings_.end();) {
    if (now >= it->sent_at + options_.ping_timeout) {
      expired.push_back(it->data);
      it = pings_.erase(it);
    } else {
      ++it;
    }
  }
  for (const PingData& data : expired) {
    ++stats_.ping_timeouts;
    events_->OnPingTimeout(data);
  }
  if (failed() || closed_) return;
  if (now >= last_recv_ + options_.recv_timeout) {
    Fail(absl::DeadlineExceededError(
        "no frame from the server for " +
        std::to_string(
            std::chrono::duration_cast<std::chrono::seconds>(options_.recv_timeout).count()) +
        " s"));
    return;
  }
  if (!ready_ && now >= created_at_ + options_.handshake_timeout) {
    Fail(absl::DeadlineExceededError(
        std::string(greeted() ? "no server info" : "no server greeting") + " within " +
        std::to_string(
            std::chrono::duration_cast<std::chrono::seconds>(options_.handshake_timeout).count()) +
        " s"));
  }
}

}  // namespace meshvpn::derp
