// A point-to-point tunnel on a libuv loop: TUN device <-> PacketProtector <-> one UDP peer.
// The shared engine of udp_tunnel (C project 2) and psk_tunnel (C project 3).
#pragma once

#include <uv.h>

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "meshvpn/base/clock.h"
#include "meshvpn/base/log.h"
#include "meshvpn/base/packet_buffer.h"
#include "meshvpn/base/uv_handle.h"
#include "meshvpn/tun/tun_device.h"
#include "meshvpn/tun/uv_tun.h"
#include "meshvpn/udp/endpoint.h"
#include "meshvpn/udp/uv_udp_socket.h"
#include "packet_protector.h"
#include "tunnel_stats.h"

namespace meshvpn::tunnel {

struct TunnelConfig {
  enum class Mode { kServer, kClient };
  Mode mode = Mode::kServer;
  // Where the UDP socket binds. A server binds its well-known port; a client may leave port 0.
  udp::Endpoint bind = udp::Endpoint::Any(udp::AddressFamily::kIpv6, 0);
  // The client's server. A server learns its peer from the first datagram that passes Unprotect.
  std::optional<udp::Endpoint> peer;
  tun::TunConfig tun;
  // Sent while a peer is known, so the server learns the client and NAT mappings stay open.
  std::chrono::milliseconds keepalive_interval{10'000};
};

// Told about the events a tool reports. Called on the loop thread.
class TunnelObserver {
 public:
  virtual ~TunnelObserver() = default;
  // The tunnel stopped itself (its nonce counter ran out): the tool should exit.
  virtual void OnFatal(const absl::Status& error) = 0;
};

//  TUN read ─▶ Protect (in place) ─▶ UdpSocket::Send ─▶ peer
//  peer ─▶ UdpSocket receive ─▶ Unprotect (in place) ─▶ TUN write
// Both directions share one PacketPool; buffers travel without copies. Single-threaded.
class PointToPointTunnel final : public tun::TunPacketHandler, public udp::DatagramReceiver {
 public:
  static absl::StatusOr<std::unique_ptr<PointToPointTunnel>> Create(
      uv_loop_t* loop, TunnelConfig config, std::unique_ptr<PacketProtector> protector,
      TunnelObserver* observer, LogSink* log_sink);
  ~PointToPointTunnel() override;

  absl::Status Start();
  void Stop();

  const TunnelStats& stats() const { return stats_; }
  const std::optional<udp::Endpoint>& peer() const { return peer_; }
  const tun::TunDevice& device() const { return device_; }
  const udp::UdpSocket& socket() const { return *socket_; }
  const tun::TunStats& tun_stats() const { return tun_driver_->stats(); }

  // TunPacketHandler / DatagramReceiver: the two data paths.
  void OnTunPackets(std::span<PacketBuffer*> batch) override;
  void OnTunError(const absl::Status& error) override;
  void OnDatagrams(std::span<udp::Datagram> batch) override;

 private:
  PointToPointTunnel(TunnelConfig config, std::unique_ptr<PacketProtector> protector,
                     TunnelObserver* observer, LogSink* log_sink, tun::TunDevice device);
  static void OnKeepaliveTimer(uv_timer_t* timer);
  void SendKeepalive();
  void LearnPeer(const udp::Endpoint& from);
  void Fail(const absl::Status& error);

  TunnelConfig config_;
  std::unique_ptr<PacketProtector> protector_;
  TunnelObserver* observer_;
  Logger log_;
  tun::TunDevice device_;
  PacketPool pool_;
  std::unique_ptr<tun::UvTunDriver> tun_driver_;
  std::unique_ptr<udp::UdpSocket> socket_;
  UvTimer keepalive_timer_;
  std::optional<udp::Endpoint> peer_;
  TunnelStats stats_;
  bool failed_ = false;
  // Per-batch scratch, sized once.
  std::vector<udp::OutgoingPacket> outgoing_;
  std::vector<PacketBuffer*> to_tun_;
};

}  // namespace meshvpn::tunnel
