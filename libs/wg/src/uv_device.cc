#include "meshvpn/wg/uv_device.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_format.h"
#include "meshvpn/base/status.h"

namespace meshvpn::wg {
namespace {

// Headroom for the transport header, then an MTU-sized packet, its padding and the tag.
constexpr size_t kBufferCapacity = 2048;
constexpr size_t kMaxMtu = kBufferCapacity - PacketBuffer::kDefaultHeadroom - 64;
constexpr size_t kSocketBufferBytes = 4 << 20;
// Decrypted packets collected before a TUN write batch / the sink. Larger than one UDP read batch
// (128), so a sink is only called after the core handled a whole batch.
constexpr size_t kDeliverBatch = 2 * udp::kMaxBatch;

}  // namespace

UvDevice::UvDevice(uv_loop_t* loop, UvDeviceOptions options)
    : loop_(loop),
      options_(std::move(options)),
      logger_(options_.log_sink, "wg", options_.log_level),
      pool_(options_.pool_buffers, kBufferCapacity) {
  to_udp_.reserve(udp::kMaxBatch);
  to_tun_.reserve(kDeliverBatch);
}

absl::StatusOr<std::unique_ptr<UvDevice>> UvDevice::Create(uv_loop_t* loop,
                                                           UvDeviceOptions options) {
  if (options.mtu < 576 || options.mtu > kMaxMtu) {
    return absl::InvalidArgumentError(
        absl::StrFormat("MTU %d is out of range 576..%d", options.mtu, kMaxMtu));
  }
  if (options.tun_fd < 0 && options.packet_sink == nullptr) {
    return absl::InvalidArgumentError("a device needs a TUN descriptor or a packet sink");
  }
  std::unique_ptr<UvDevice> self(new UvDevice(loop, std::move(options)));
  DeviceOptions core;
  core.mtu = self->options_.mtu;
  core.backend = self->options_.backend;
  core.logger = self->logger_;
  self->device_ = std::make_unique<Device>(&self->pool_, self.get(), &self->clock_, core);
  if (self->options_.tun_fd >= 0) {
    tun::UvTunOptions tun_options;
    tun_options.vnet_header = self->options_.tun_vnet_header;
    tun_options.coalesce_writes = self->options_.tun_coalesce;
    MESHVPN_ASSIGN_OR_RETURN(
        self->tun_, tun::UvTunDriver::Create(loop, self->options_.tun_fd, &self->pool_, self.get(),
                                             tun_options));
  }
  MESHVPN_ASSIGN_OR_RETURN(self->timer_, UvTimer::Create(loop, uv_timer_init));
  self->timer_.set_owner(self.get());
  if (self->options_.crypto_thread) {
    MESHVPN_ASSIGN_OR_RETURN(self->crypto_ready_,
                             UvAsync::Create(loop, uv_async_init, &UvDevice::OnCryptoReady));
    self->crypto_ready_.set_owner(self.get());
    // The wake-up alone must not keep the loop running (after Stop() the loop may end).
    uv_unref(self->crypto_ready_.base());
    auto ready = [](void* async) { uv_async_send(static_cast<uv_async_t*>(async)); };
    MESHVPN_ASSIGN_OR_RETURN(self->crypto_, CryptoWorker::Start(self->device_.get(), &self->pool_,
                                                                self->pool_.capacity(), ready,
                                                                self->crypto_ready_.get()));
    self->device_->set_crypto_executor(self->crypto_.get());
  }
  return self;
}

UvDevice::~UvDevice() {
  Stop();
  if (crypto_) {
    // The worker first (it joins its thread and returns the buffers of unfinished jobs), while
    // the device, the pool and the async handle are still there.
    device_->set_crypto_executor(nullptr);
    crypto_.reset();
  }
}

absl::Status UvDevice::Bind(uint16_t port) {
  socket_.reset();
  bound_port_ = 0;
  udp::UdpSocketOptions socket_options;
  socket_options.bind = udp::Endpoint::Any(udp::AddressFamily::kIpv6, port);
  socket_options.receive_buffer_bytes = kSocketBufferBytes;
  socket_options.send_buffer_bytes = kSocketBufferBytes;
  socket_options.gso = options_.udp_offload;
  socket_options.gro = options_.udp_offload;
  socket_options.measure_receive_queue = true;  // the device sheds handshake work when behind
  socket_options.logger = Logger(options_.log_sink, "udp", options_.log_level);
  MESHVPN_ASSIGN_OR_RETURN(socket_, udp::UdpSocket::Open(loop_, &pool_, socket_options));
  MESHVPN_RETURN_IF_ERROR(socket_->Start(this));
  bound_port_ = socket_->local_endpoint().port();
  applied_fwmark_ = 0;
  ApplyFwmark();
  device_->set_bound_port(bound_port_);
  logger_.Info("listening on UDP port %d", bound_port_);
  return absl::OkStatus();
}

void UvDevice::ApplyFwmark() {
  const uint32_t mark = device_->fwmark();
  if (!socket_ || mark == applied_fwmark_) return;
  // SO_MARK routes our UDP packets by policy (wg-quick uses it to keep them off the tunnel).
  if (setsockopt(socket_->fd(), SOL_SOCKET, SO_MARK, &mark, sizeof mark) != 0) {
    logger_.Warning("fwmark 0x%x: setsockopt(SO_MARK): %s", mark, std::strerror(errno));
    return;
  }
  applied_fwmark_ = mark;
  logger_.Info("fwmark 0x%x set on the UDP socket", mark);
}

absl::Status UvDevice::Start() {
  MESHVPN_RETURN_IF_ERROR(Bind(device_->listen_port()));
  if (tun_) MESHVPN_RETURN_IF_ERROR(tun_->Start());
  started_ = true;
  ArmTimer();
  return absl::OkStatus();
}

void UvDevice::Stop() {
  started_ = false;
  if (tun_) tun_->Stop();
  if (timer_) uv_timer_stop(timer_.get());
  if (socket_) closed_udp_stats_ = socket_->stats();
  socket_.reset();
}

absl::Status UvDevice::Apply(const DeviceConfigUpdate& update) {
  absl::Status status = device_->Apply(update, clock_.Now());
  if (started_ && device_->listen_port() != 0 && device_->listen_port() != bound_port_) {
    absl::Status bound = Bind(device_->listen_port());
    if (!bound.ok() && status.ok()) status = bound;
  }
  ApplyFwmark();
  Flush();  // a new persistent keepalive may be due at once
  ArmTimer();
  return status;
}

bool UvDevice::InjectPacket(ByteSpan packet) {
  if (!started_) return false;
  PacketBuffer* buffer = pool_.Acquire();
  if (buffer == nullptr) return false;
  buffer->Reset();
  if (packet.size() > options_.mtu || !buffer->SetSize(packet.size())) {
    pool_.Release(buffer);
    return false;
  }
  std::memcpy(buffer->data(), packet.data(), packet.size());
  device_->HandleTunPacket(buffer, clock_.Now());
  Flush();
  ArmTimer();
  return true;
}

void UvDevice::SendDatagram(PacketBuffer* buffer, const udp::Endpoint& to) {
  if (!socket_) {
    pool_.Release(buffer);
    return;
  }
  to_udp_.push_back({buffer, to});
  if (to_udp_.size() == udp::kMaxBatch) {
    socket_->Send(to_udp_);
    to_udp_.clear();
  }
}

void UvDevice::DeliverPacket(PacketBuffer* buffer) {
  to_tun_.push_back(buffer);  // a TUN write or the sink's OnPacket, after the core call returns
  if (to_tun_.size() == kDeliverBatch) Flush();
}

void UvDevice::Flush() {
  if (!to_udp_.empty()) {
    if (socket_) {
      socket_->Send(to_udp_);
    } else {
      for (const udp::OutgoingPacket& p : to_udp_) pool_.Release(p.buffer);
    }
    to_udp_.clear();
  }
  // A sink may inject packets from OnPacket; that flushes their datagrams, not these again.
  if (to_tun_.empty() || delivering_) return;
  delivering_ = true;
  if (tun_) {
    tun_->WriteBatch(to_tun_);
  } else {
    for (PacketBuffer* buffer : to_tun_) options_.packet_sink->OnPacket(buffer->span());
  }
  for (PacketBuffer* buffer : to_tun_) pool_.Release(buffer);
  to_tun_.clear();
  delivering_ = false;
}

void UvDevice::OnTunPackets(std::span<PacketBuffer*> batch) {
  const MonoTime now = clock_.Now();
  if (crypto_) crypto_->BeginBatch(batch.size());
  for (PacketBuffer*& buffer : batch) {
    PacketBuffer* taken = buffer;
    buffer = nullptr;  // the device owns it now
    device_->HandleTunPacket(taken, now);
  }
  if (crypto_) crypto_->EndBatch();
  DrainCrypto();
  Flush();
  ArmTimer();
}

void UvDevice::OnTunError(const absl::Status& error) {
  logger_.Error("TUN device stopped: %s", error.message());
}

void UvDevice::OnDatagrams(std::span<udp::Datagram> batch) {
  const MonoTime now = clock_.Now();
  // Behind when more than an eighth of the receive buffer still waits after this read (the
  // kernel module calls itself under load at an eighth of its handshake queue).
  device_->set_receive_backlogged(socket_ && socket_->receive_queue().FullerThan(8));
  if (crypto_) crypto_->BeginBatch(batch.size());
  for (udp::Datagram& datagram : batch) {
    PacketBuffer* taken = datagram.buffer;
    datagram.buffer = nullptr;
    device_->HandleDatagram(taken, datagram.from, now);
  }
  if (crypto_) crypto_->EndBatch();
  DrainCrypto();
  Flush();
  ArmTimer();
}

void UvDevice::DrainCrypto() {
  if (crypto_) crypto_->Drain(clock_.Now());
}

void UvDevice::OnCryptoReady(uv_async_t* async) {
  auto* self = static_cast<UvDevice*>(async->data);
  if (self == nullptr) return;
  self->DrainCrypto();
  self->Flush();
  self->ArmTimer();
}

void UvDevice::ArmTimer() {
  if (!timer_ || !started_) return;
  const std::optional<MonoTime> next = device_->NextExpiry();
  if (!next) {
    uv_timer_stop(timer_.get());
    return;
  }
  const auto wait = std::chrono::ceil<std::chrono::milliseconds>(*next - clock_.Now());
  const uint64_t ms = wait.count() > 0 ? static_cast<uint64_t>(wait.count()) : 0;
  uv_timer_start(timer_.get(), &UvDevice::OnTimer, ms, 0);
}

void UvDevice::OnTimer(uv_timer_t* timer) {
  if (auto* self = static_cast<UvDevice*>(timer->data)) self->HandleTimer();
}

void UvDevice::HandleTimer() {
  device_->HandleExpiry(clock_.Now());
  Flush();
  ArmTimer();
}

std::string UvDevice::HandleUapiGet() { return FormatUapiGet(device_->Status()); }

absl::Status UvDevice::HandleUapiSet(std::string_view body) {
  MESHVPN_ASSIGN_OR_RETURN(DeviceConfigUpdate update, ParseUapiSet(body));
  return Apply(update);
}

}  // namespace meshvpn::wg
