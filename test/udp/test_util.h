// Helpers for the udp tests: running a loop until a condition holds, and a receiver that
// records what arrived.
#pragma once

#include <uv.h>

#include <chrono>
#include <string>
#include <vector>

#include "meshvpn/udp/datagram.h"
#include "meshvpn/udp/uv_udp_socket.h"

namespace meshvpn::udp::testing {

// Runs `loop` without blocking until pred() holds or `timeout` passes; returns pred().
// Loopback datagrams are queued by the time the sender's system call returns, so spinning with
// UV_RUN_NOWAIT finds them without any timer (and without allocating).
template <typename Pred>
bool RunUntil(uv_loop_t* loop, Pred pred,
              std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    uv_run(loop, UV_RUN_NOWAIT);
  }
  return true;
}

// Copies every datagram it is given (allocates: not for the allocation test).
class Recorder final : public DatagramReceiver {
 public:
  struct Entry {
    std::string payload;
    Endpoint from;
    bool new_peer;
    size_t headroom;
  };
  void OnDatagrams(std::span<Datagram> batch) override {
    batch_sizes.push_back(batch.size());
    for (const Datagram& d : batch) {
      entries.push_back({meshvpn::ToString(ByteSpan(d.buffer->span())), d.from, d.new_peer,
                         d.buffer->headroom()});
    }
  }
  std::vector<Entry> entries;
  std::vector<size_t> batch_sizes;
};

inline UdpSocketOptions BindTo(const char* endpoint) {
  UdpSocketOptions o;
  o.bind = *Endpoint::Parse(endpoint);
  return o;
}

}  // namespace meshvpn::udp::testing
