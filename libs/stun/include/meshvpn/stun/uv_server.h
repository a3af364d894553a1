// UvStunServer: the STUN server core on libuv: one UDP socket per slot (1, or 4 for RFC 5780),
// each datagram answered at once from the socket the core picks.
#pragma once

#include <uv.h>

#include <array>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "meshvpn/base/log.h"
#include "meshvpn/base/packet_buffer.h"
#include "meshvpn/stun/messages.h"
#include "meshvpn/stun/server.h"
#include "meshvpn/udp/uv_udp_socket.h"

namespace meshvpn::stun {

// Threading: loop thread only. Per datagram nothing is allocated or logged; drops are counted
// in the core's stats by reason.
class UvStunServer {
 public:
  // Opens and binds the sockets (slot i at server.SlotEndpoint(i)) and starts answering.
  static absl::StatusOr<std::unique_ptr<UvStunServer>> Start(uv_loop_t* loop, Server server,
                                                             Logger logger = {});
  ~UvStunServer();

  const Server& core() const { return server_; }
  // Where slot i is bound (the port the kernel chose when the config said 0).
  udp::Endpoint local_endpoint(int slot) const { return sockets_[slot]->local_endpoint(); }
  uint64_t send_failures() const { return send_failures_; }

 private:
  // Forwards one socket's datagrams to the core with its slot number.
  struct SlotReceiver final : public udp::DatagramReceiver {
    UvStunServer* owner = nullptr;
    int slot = 0;
    void OnDatagrams(std::span<udp::Datagram> batch) override;
  };
  explicit UvStunServer(Server server) : server_(std::move(server)), pool_(256, 2048) {}
  void Handle(int slot, std::span<udp::Datagram> batch);

  Server server_;
  PacketPool pool_;
  std::vector<std::unique_ptr<udp::UdpSocket>> sockets_;
  std::array<SlotReceiver, 4> receivers_{};
  std::array<uint8_t, kMaxUdpMessageSize> reply_{};
  uint64_t send_failures_ = 0;
};

}  // namespace meshvpn::stun
