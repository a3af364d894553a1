// UvStunRunner: drives one sans-I/O STUN core (Client, NatDiscovery) over a udp::UdpSocket and a
// libuv timer until the core is done.
#pragma once

#include <uv.h>

#include <memory>

#include "absl/status/status.h"
#include "meshvpn/base/clock.h"
#include "meshvpn/base/uv_handle.h"
#include "meshvpn/stun/sans_io.h"
#include "meshvpn/udp/uv_udp_socket.h"

namespace meshvpn::stun {

// Threading: loop thread only. The socket, core and clock must outlive the runner. While
// running, the runner is the socket's receiver. When the core says Done() the runner stops
// reading and disarms its timer, so uv_run returns once nothing else is active.
class UvStunRunner final : public udp::DatagramReceiver {
 public:
  static absl::StatusOr<std::unique_ptr<UvStunRunner>> Create(uv_loop_t* loop,
                                                              udp::UdpSocket* socket,
                                                              DatagramCore* core,
                                                              const Clock* clock = nullptr);
  ~UvStunRunner() override;

  // Sends what is due, starts reading and arms the timer.
  absl::Status Start();
  bool done() const { return core_->Done(); }

  void OnDatagrams(std::span<udp::Datagram> batch) override;

 private:
  UvStunRunner(udp::UdpSocket* socket, DatagramCore* core, const Clock* clock)
      : socket_(socket), core_(core), clock_(clock) {}
  static void OnTimer(uv_timer_t* handle);
  void HandleTimer();
  // Sends everything due, then re-arms the timer or, when done, stops.
  void Pump();

  udp::UdpSocket* socket_;
  DatagramCore* core_;
  const Clock* clock_;
  UvTimer timer_;
};

}  // namespace meshvpn::stun
