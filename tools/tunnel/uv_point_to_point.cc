#include "uv_point_to_point.h"

#include "absl/strings/str_format.h"
#include "meshvpn/base/status.h"

namespace meshvpn::tunnel {
namespace {

// Buffers for both directions: enough for a full TUN batch plus a full UDP batch in flight and a
// send queue behind them. Each holds headroom + an MTU-sized packet + the protector's trailer.
constexpr size_t kPoolBuffers = 1024;
constexpr size_t kBufferCapacity = 2048;
constexpr int kMaxMtu = static_cast<int>(kBufferCapacity - PacketBuffer::kDefaultHeadroom - 64);

}  // namespace

absl::StatusOr<std::unique_ptr<PointToPointTunnel>> PointToPointTunnel::Create(
    uv_loop_t* loop, TunnelConfig config, std::unique_ptr<PacketProtector> protector,
    TunnelObserver* observer, LogSink* log_sink) {
  if (config.tun.mtu <= 0 || config.tun.mtu > kMaxMtu) {
    return absl::InvalidArgumentError(
        absl::StrFormat("tunnel MTU %d is out of range 1..%d", config.tun.mtu, kMaxMtu));
  }
  if (config.mode == TunnelConfig::Mode::kClient && !config.peer) {
    return absl::InvalidArgumentError("a client needs the server's address (--peer host:port)");
  }
  MESHVPN_ASSIGN_OR_RETURN(tun::TunDevice device, tun::TunDevice::Create(config.tun, log_sink));
  auto tunnel = std::unique_ptr<PointToPointTunnel>(new PointToPointTunnel(
      std::move(config), std::move(protector), observer, log_sink, std::move(device)));

  MESHVPN_ASSIGN_OR_RETURN(
      tunnel->tun_driver_,
      tun::UvTunDriver::Create(loop, tunnel->device_.fd(), &tunnel->pool_, tunnel.get()));
  udp::UdpSocketOptions socket_options;
  socket_options.bind = tunnel->config_.bind;
  socket_options.receive_buffer_bytes = 4 << 20;
  socket_options.send_buffer_bytes = 4 << 20;
  socket_options.logger = Logger(log_sink, "udp");
  MESHVPN_ASSIGN_OR_RETURN(tunnel->socket_,
                           udp::UdpSocket::Open(loop, &tunnel->pool_, socket_options));
  MESHVPN_ASSIGN_OR_RETURN(tunnel->keepalive_timer_, UvTimer::Create(loop, uv_timer_init));
  tunnel->keepalive_timer_.set_owner(tunnel.get());
  return tunnel;
}

PointToPointTunnel::PointToPointTunnel(TunnelConfig config,
                                       std::unique_ptr<PacketProtector> protector,
                                       TunnelObserver* observer, LogSink* log_sink,
                                       tun::TunDevice device)
    : config_(std::move(config)),
      protector_(std::move(protector)),
      observer_(observer),
      log_(log_sink, "tunnel"),
      device_(std::move(device)),
      pool_(kPoolBuffers, kBufferCapacity),
      peer_(config_.peer) {
  outgoing_.reserve(tun::UvTunDriver::kMaxBatch);
  to_tun_.reserve(udp::kMaxBatch);
}

PointToPointTunnel::~PointToPointTunnel() {
  Stop();
  // The socket and driver return their buffers to pool_, so they go first.
  socket_.reset();
  tun_driver_.reset();
}

absl::Status PointToPointTunnel::Start() {
  MESHVPN_RETURN_IF_ERROR(socket_->Start(this));
  MESHVPN_RETURN_IF_ERROR(tun_driver_->Start());
  const uint64_t interval = static_cast<uint64_t>(config_.keepalive_interval.count());
  if (interval > 0) uv_timer_start(keepalive_timer_.get(), &OnKeepaliveTimer, 0, interval);
  log_.Info("%s on %s, device %s, MTU %d%s",
            config_.mode == TunnelConfig::Mode::kServer ? "server listening" : "client bound",
            socket_->local_endpoint().ToString(), device_.name(), config_.tun.mtu,
            peer_ ? absl::StrFormat(", peer %s", peer_->ToString()) : ", waiting for a peer");
  return absl::OkStatus();
}

void PointToPointTunnel::Stop() {
  if (keepalive_timer_) uv_timer_stop(keepalive_timer_.get());
  if (tun_driver_) tun_driver_->Stop();
  if (socket_) socket_->Stop();
}

void PointToPointTunnel::OnTunPackets(std::span<PacketBuffer*> batch) {
  if (failed_) return;
  outgoing_.clear();
  for (PacketBuffer*& buffer : batch) {
    ++stats_.packets_from_tun;
    stats_.bytes_from_tun += buffer->size();
    if (!peer_) {
      ++stats_.dropped_no_peer;
      continue;  // the driver releases it
    }
    const ProtectResult result = protector_->Protect(*buffer);
    if (result == ProtectResult::kNonceExhausted) {
      Fail(absl::ResourceExhaustedError(
          "the nonce counter is used up: sending more would repeat a nonce; restart the tunnel "
          "with a new key"));
      break;
    }
    if (result != ProtectResult::kOk) {
      ++stats_.dropped_protect;
      continue;
    }
    outgoing_.push_back({buffer, *peer_});
    buffer = nullptr;  // ours now; the socket releases it once sent
  }
  if (!outgoing_.empty()) socket_->Send(outgoing_);
}

void PointToPointTunnel::OnTunError(const absl::Status& error) {
  Fail(absl::UnavailableError(absl::StrFormat("TUN device stopped: %s", error.message())));
}

void PointToPointTunnel::OnDatagrams(std::span<udp::Datagram> batch) {
  if (failed_) return;
  to_tun_.clear();
  for (udp::Datagram& datagram : batch) {
    ++stats_.datagrams_received;
    const UnprotectResult result = protector_->Unprotect(*datagram.buffer);
    switch (result) {
      case UnprotectResult::kOk:
        LearnPeer(datagram.from);
        to_tun_.push_back(datagram.buffer);  // still the socket's; released after this call
        break;
      case UnprotectResult::kKeepalive:
        LearnPeer(datagram.from);
        ++stats_.keepalives_received;
        break;
      default:
        ++stats_.dropped_received[static_cast<size_t>(result)];
    }
  }
  if (to_tun_.empty()) return;
  const size_t written = tun_driver_->WriteBatch(to_tun_);
  for (size_t i = 0; i < written; ++i) {
    ++stats_.packets_to_tun;
    stats_.bytes_to_tun += to_tun_[i]->size();
  }
  stats_.dropped_tun_write += to_tun_.size() - written;
}

void PointToPointTunnel::LearnPeer(const udp::Endpoint& from) {
  if (peer_ && *peer_ == from) return;
  // Only reached for datagrams that passed Unprotect: with a key, only the real peer can move
  // the tunnel (roaming); without one (udp_tunnel) anyone can, which is the lesson.
  peer_ = from;
  ++stats_.peer_changes;
  log_.Info("peer is now %s", from.ToString());
}

void PointToPointTunnel::OnKeepaliveTimer(uv_timer_t* timer) {
  if (auto* self = static_cast<PointToPointTunnel*>(timer->data)) self->SendKeepalive();
}

void PointToPointTunnel::SendKeepalive() {
  if (!peer_ || failed_) return;
  PacketBuffer* buffer = pool_.Acquire();
  if (buffer == nullptr) return;  // the data path has every buffer: it keeps the peer warm anyway
  const ProtectResult result = protector_->MakeKeepalive(*buffer);
  if (result == ProtectResult::kNonceExhausted) {
    pool_.Release(buffer);
    Fail(absl::ResourceExhaustedError("the nonce counter is used up; restart with a new key"));
    return;
  }
  if (result != ProtectResult::kOk) {
    pool_.Release(buffer);
    return;
  }
  const udp::OutgoingPacket packet{buffer, *peer_};
  socket_->Send(std::span<const udp::OutgoingPacket>(&packet, 1));
  ++stats_.keepalives_sent;
}

void PointToPointTunnel::Fail(const absl::Status& error) {
  if (failed_) return;
  failed_ = true;
  Stop();
  log_.Error("%s", error.message());
  if (observer_) observer_->OnFatal(error);
}

}  // namespace meshvpn::tunnel
