// The udp_messenger program's logic: one UDP socket, a peer table, line messages, statistics.
#pragma once

#include <uv.h>

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "meshvpn/base/clock.h"
#include "meshvpn/base/log.h"
#include "meshvpn/base/packet_buffer.h"
#include "meshvpn/base/uv_handle.h"
#include "meshvpn/udp/peer_table.h"
#include "meshvpn/udp/uv_peer_expiry.h"
#include "meshvpn/udp/uv_udp_socket.h"

namespace meshvpn::tools {

struct MessengerConfig {
  std::string listen;              // "" = any free port on every address
  std::vector<std::string> peers;  // host:port, added at start and never timed out
  Duration peer_timeout = std::chrono::seconds(30);
  Duration keepalive{};       // 0 = off
  Duration stats_interval{};  // 0 = off
  size_t max_peers = 1024;
  int receive_buffer_bytes = 0;
  int send_buffer_bytes = 0;
};

// Prints to `out` (line by line, flushed): peers connecting and timing out, messages, and the
// statistics block. Lives on the loop thread.
class Messenger final : public udp::DatagramReceiver, public udp::PeerExpiryListener {
 public:
  // The longest line sent as one datagram: well under a 1500-byte MTU after IPv6 + UDP headers,
  // so it is never fragmented.
  static constexpr size_t kMaxMessage = 1400;

  Messenger(uv_loop_t* loop, MessengerConfig config, LogSink* log, std::FILE* out);
  Messenger(const Messenger&) = delete;
  Messenger& operator=(const Messenger&) = delete;

  // Resolves the peers, binds, and starts listening. Errors are ready to print.
  absl::Status Start();
  // A line typed on stdin: a command (/stats, /peers, /quit, /help) or a message to broadcast.
  // Returns false for /quit.
  bool HandleLine(std::string_view line);
  void PrintStatistics();
  void PrintPeers();

  void OnDatagrams(std::span<udp::Datagram> batch) override;
  void OnPeerExpired(const udp::PeerInfo& peer) override;

 private:
  void Broadcast(std::string_view message);
  void SendKeepalives();
  void Print(const std::string& line);
  static void OnKeepaliveTimer(uv_timer_t* timer);
  static void OnStatsTimer(uv_timer_t* timer);

  uv_loop_t* loop_;
  MessengerConfig config_;
  LogSink* log_sink_;
  std::FILE* out_;
  const Clock& clock_;
  PacketPool pool_;
  udp::PeerTable peers_;
  std::unique_ptr<udp::UdpSocket> socket_;
  std::unique_ptr<udp::UvPeerExpiry> expiry_;
  UvTimer keepalive_timer_;
  UvTimer stats_timer_;
  uint64_t messages_received_ = 0;
  uint64_t keepalives_received_ = 0;
  uint64_t messages_sent_ = 0;
};

// "1,247": the thousands separators of the statistics block.
std::string WithCommas(uint64_t n);

}  // namespace meshvpn::tools
