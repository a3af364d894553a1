// UvRunner: the libuv driver of any holepunch core (Session, RendezvousServer, Punch) - its
// sockets ("slots") and one timer; each libuv callback forwards to one core method.
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "meshvpn/base/clock.h"
#include "meshvpn/base/log.h"
#include "meshvpn/base/packet_buffer.h"
#include "meshvpn/base/uv_handle.h"
#include "meshvpn/holepunch/sans_io.h"
#include "meshvpn/udp/uv_udp_socket.h"

namespace meshvpn::holepunch {

struct UvRunnerOptions {
  // Slot 0 binds here ("0.0.0.0:0": any free port, IPv4). Extra slots (birthday probing) bind
  // the same address with port 0.
  udp::Endpoint bind = udp::Endpoint::Any(udp::AddressFamily::kIpv4, 0);
  // Receive buffers shared by all sockets; extra slots read in batches of extra_slot_batch so
  // that 256 of them do not hold the whole pool.
  size_t pool_buffers = 1024;
  size_t buffer_size = 2048;
  size_t extra_slot_batch = 2;
  const Clock* clock = nullptr;  // null: the real clock
  Logger logger;                 // socket setup and errors only
};

// Threading: the loop's thread only. Create() binds slot 0 (so local_endpoint(0) is known before
// the core is built); Start() hands it a core. After every callback the runner opens the sockets
// the core asks for (slot_count()), sends what the core has queued, re-arms the timer for
// NextExpiry(), then calls the listener (the embedder drains events there, and may call Stop()).
class UvRunner final {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    virtual void OnProgress() = 0;
  };

  static absl::StatusOr<std::unique_ptr<UvRunner>> Create(uv_loop_t* loop,
                                                          UvRunnerOptions options = {});
  ~UvRunner();
  UvRunner(const UvRunner&) = delete;
  UvRunner& operator=(const UvRunner&) = delete;

  // Starts reading and pumps once. `core` (and `listener`) must outlive the runner or Stop().
  absl::Status Start(Core* core, Listener* listener = nullptr);
  // Stops reading and the timer: uv_run returns once nothing else is active. Safe to call from
  // the listener.
  void Stop();
  // Sends what the core queued after the embedder called into it (e.g. SendMessage).
  void Poke() { Pump(); }

  const udp::Endpoint& local_endpoint(uint16_t slot = 0) const;
  size_t open_slots() const { return sockets_.size(); }
  // Datagrams the kernel refused, or for a slot that could not be opened.
  uint64_t send_failures() const { return send_failures_; }
  bool running() const { return core_ != nullptr; }

 private:
  struct SlotReceiver final : udp::DatagramReceiver {
    UvRunner* runner = nullptr;
    uint16_t slot = 0;
    void OnDatagrams(std::span<udp::Datagram> batch) override;
  };

  UvRunner(uv_loop_t* loop, UvRunnerOptions options);
  absl::Status OpenSlot();
  void EnsureSlots();
  void OnDatagrams(uint16_t slot, std::span<udp::Datagram> batch);
  static void OnTimer(uv_timer_t* handle);
  void HandleTimer();
  void Pump();

  uv_loop_t* loop_;
  UvRunnerOptions options_;
  const Clock* clock_;
  PacketPool pool_;
  std::vector<std::unique_ptr<udp::UdpSocket>> sockets_;
  std::vector<std::unique_ptr<SlotReceiver>> receivers_;
  UvTimer timer_;
  Core* core_ = nullptr;
  Listener* listener_ = nullptr;
  bool slot_error_logged_ = false;
  bool pumping_ = false;
  uint64_t send_failures_ = 0;
};

}  // namespace meshvpn::holepunch
