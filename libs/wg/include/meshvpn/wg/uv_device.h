// The libuv driver of a WireGuard device: owns the UDP socket, the TUN side (a TUN descriptor or
// an app's PacketSink), the timer and the buffer pool, and forwards each event to wg::Device.
#pragma once

#include <uv.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "meshvpn/base/clock.h"
#include "meshvpn/base/log.h"
#include "meshvpn/base/packet_buffer.h"
#include "meshvpn/base/uv_handle.h"
#include "meshvpn/tun/uv_tun.h"
#include "meshvpn/udp/uv_udp_socket.h"
#include "meshvpn/wg/crypto_worker.h"
#include "meshvpn/wg/device.h"
#include "meshvpn/wg/uv_uapi_server.h"

namespace meshvpn::wg {

// Where decrypted packets go when the device has no TUN descriptor: an app that links libwg and
// handles IP packets itself (a userspace TCP/IP stack, a test). Called on the loop thread.
class PacketSink {
 public:
  virtual ~PacketSink() = default;
  // A decrypted packet, valid during the call. Called after the device finished handling the
  // datagrams that carried it, so the sink may call UvDevice::InjectPacket (to answer it).
  virtual void OnPacket(ByteSpan packet) = 0;
};

struct UvDeviceOptions {
  // A TUN device's descriptor (not owned; one read() = one packet), or -1 to use packet_sink
  // and InjectPacket() instead.
  int tun_fd = -1;
  PacketSink* packet_sink = nullptr;
  // The TUN descriptor carries virtio-net headers (tun::TunDevice::vnet_header(), made with
  // TunConfig::offload): TSO super-packets are cut into MTU-sized packets before sealing.
  bool tun_vnet_header = false;
  // With tun_vnet_header: coalesce each flow's TCP segments into super-packets on TUN writes
  // (tun::UvTunOptions::coalesce_writes).
  bool tun_coalesce = true;
  // UDP segmentation offload on send and receive coalescing (udp::UdpSocketOptions::gso/gro).
  bool udp_offload = true;
  // Seal and open on a second thread (CryptoWorker): the loop thread does the I/O and the
  // device's bookkeeping, the worker the AEAD, so a busy tunnel uses two cores. Small batches
  // with nothing in flight still run inline (latency).
  bool crypto_thread = false;
  size_t mtu = 1420;
  size_t pool_buffers = 4096;
  CryptoBackend backend = CryptoBackend::kOpenSsl;
  LogSink* log_sink = nullptr;  // nullptr: silent
  LogLevel log_level = LogLevel::kInfo;
};

// Lifecycle: Create, Apply the configuration (or let the UAPI server do it), Start. The UDP port
// is (re)bound whenever the configured listen port changes; port 0 picks a free one.
// Threading: everything on the loop thread; not thread-safe.
class UvDevice final : public DeviceOutput,
                       public tun::TunPacketHandler,
                       public udp::DatagramReceiver,
                       public UapiHandler {
 public:
  static absl::StatusOr<std::unique_ptr<UvDevice>> Create(uv_loop_t* loop, UvDeviceOptions options);
  ~UvDevice() override;
  UvDevice(const UvDevice&) = delete;
  UvDevice& operator=(const UvDevice&) = delete;

  // Binds the UDP socket and starts reading from it and from the TUN side.
  absl::Status Start();
  // Stops reading, cancels the timer and closes the socket (safe outside the callbacks).
  void Stop();

  // A configuration change: applied to the core, then the socket is rebound if the port moved.
  absl::Status Apply(const DeviceConfigUpdate& update);
  // An IP packet from the app (no-TUN mode): routed, sealed and sent before this returns (or
  // staged while a handshake runs). False before Start(), when no buffer is free, or when it is
  // larger than the MTU. May be called from PacketSink::OnPacket.
  bool InjectPacket(ByteSpan packet);

  const Device& device() const { return *device_; }
  // See device_tracer.h; nullptr removes it. Must outlive the device.
  void set_tracer(DeviceTracer* tracer) { device_->set_tracer(tracer); }
  uint16_t bound_port() const { return bound_port_; }
  // The UDP socket's counters; after Stop(), those it had when it closed (so a tool can print
  // them at exit). Null before the first Start().
  const udp::UdpStats* udp_stats() const {
    return socket_ ? &socket_->stats() : closed_udp_stats_ ? &*closed_udp_stats_ : nullptr;
  }
  const tun::TunStats* tun_stats() const { return tun_ ? &tun_->stats() : nullptr; }
  const CryptoWorkerStats* crypto_stats() const { return crypto_ ? &crypto_->stats() : nullptr; }

  // DeviceOutput.
  void SendDatagram(PacketBuffer* buffer, const udp::Endpoint& to) override;
  void DeliverPacket(PacketBuffer* buffer) override;
  // TunPacketHandler / DatagramReceiver: the two data paths.
  void OnTunPackets(std::span<PacketBuffer*> batch) override;
  void OnTunError(const absl::Status& error) override;
  void OnDatagrams(std::span<udp::Datagram> batch) override;
  // UapiHandler.
  std::string HandleUapiGet() override;
  absl::Status HandleUapiSet(std::string_view body) override;

 private:
  UvDevice(uv_loop_t* loop, UvDeviceOptions options);
  absl::Status Bind(uint16_t port);
  void Flush();
  void ApplyFwmark();
  void ArmTimer();
  static void OnTimer(uv_timer_t* timer);
  void HandleTimer();
  static void OnCryptoReady(uv_async_t* async);
  // Completes what the crypto worker finished (if there is one); then Flush() sends it.
  void DrainCrypto();

  uv_loop_t* loop_;
  UvDeviceOptions options_;
  Logger logger_;
  RealClock clock_;
  PacketPool pool_;
  std::unique_ptr<Device> device_;
  std::unique_ptr<udp::UdpSocket> socket_;
  std::optional<udp::UdpStats> closed_udp_stats_;  // the last socket's, once it closed
  std::unique_ptr<tun::UvTunDriver> tun_;
  UvTimer timer_;
  UvAsync crypto_ready_;                  // the worker's "jobs done" wake-up
  std::unique_ptr<CryptoWorker> crypto_;  // with options_.crypto_thread
  uint16_t bound_port_ = 0;
  uint32_t applied_fwmark_ = 0;
  bool started_ = false;
  bool delivering_ = false;  // Flush is handing packets to the TUN side or the sink
  // Output collected during one callback and flushed at its end (batched sendmmsg / TUN writes).
  std::vector<udp::OutgoingPacket> to_udp_;
  std::vector<PacketBuffer*> to_tun_;
};

}  // namespace meshvpn::wg
