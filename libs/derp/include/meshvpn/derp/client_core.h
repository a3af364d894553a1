// ClientCore: the sans-I/O DERP client of one connection (derp_client.go): the handshake, the
// frames it sends and receives, pings, the server's rate limit and the receive timeout.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "meshvpn/base/bytes.h"
#include "meshvpn/base/clock.h"
#include "meshvpn/derp/codec.h"
#include "meshvpn/derp/frame.h"
#include "meshvpn/derp/handshake.h"
#include "meshvpn/derp/keys.h"
#include "meshvpn/derp/messages.h"

namespace meshvpn::derp {

struct ClientCoreOptions {
  MeshKey mesh_key;  // zero: not a mesh peer
  bool can_ack_pings = true;
  bool is_prober = false;
  std::string app_name;
  // After the ClientInfo: NotePreferred(true) (this is the client's home region) and WatchConns
  // (mesh peers only: the server refuses it without the mesh key).
  bool preferred = false;
  bool watch_conns = false;
  // Pinning: a greeting with another server key fails the connection.
  std::optional<PublicKey> expected_server_key;
  // The connection must be ready (ServerInfo opened) this long after the core was made.
  Duration handshake_timeout = kHandshakeTimeout;
  // Nothing at all from the server for this long fails the connection (the server sends a
  // keepalive every 60 s plus up to 5 s of jitter).
  Duration recv_timeout = kClientRecvTimeout;
  Duration ping_timeout = kPingTimeout;
  size_t max_outstanding_pings = 16;
  // Output not yet taken by the driver beyond which packets are dropped (kOutputFull); small
  // control frames get kControlSlack more room.
  size_t max_pending_output = 1 << 20;
};

// Why a packet was not sent (each counted in ClientStats).
enum class SendResult : uint8_t {
  kSent,
  kTooLarge,      // more than kMaxPacketSize
  kRateLimited,   // the server's token bucket (ServerInfo) is empty
  kNotConnected,  // the connection failed or was closed
  kOutputFull,    // the driver has not taken max_pending_output bytes yet
};
std::string_view ToString(SendResult result);

struct ClientStats {
  uint64_t bytes_received = 0;  // stream bytes fed
  uint64_t bytes_sent = 0;      // stream bytes produced
  uint64_t frames_received = 0;
  uint64_t frames_sent = 0;
  uint64_t frames_skipped = 0;  // unknown types, server-only types, too short to parse
  uint64_t packets_received = 0;
  uint64_t packet_bytes_received = 0;
  uint64_t packets_sent = 0;  // Send and ForwardPacket
  uint64_t packet_bytes_sent = 0;
  uint64_t packets_forwarded = 0;  // of packets_sent, by ForwardPacket
  uint64_t dropped_too_large = 0;
  uint64_t dropped_rate_limited = 0;
  uint64_t dropped_not_connected = 0;
  uint64_t dropped_output_full = 0;
  uint64_t pings_sent = 0;
  uint64_t pongs_received = 0;
  uint64_t pongs_unmatched = 0;  // answering no ping of ours (or one that timed out)
  uint64_t ping_timeouts = 0;
  uint64_t pings_received = 0;  // from the server
  uint64_t pongs_sent = 0;
  uint64_t keepalives_received = 0;
  uint64_t peer_gone_received = 0;
  uint64_t peer_present_received = 0;
  uint64_t health_received = 0;
  uint64_t restarting_received = 0;
  uint64_t server_infos_received = 0;
};
// Field by field: the totals over several connections.
ClientStats& operator+=(ClientStats& total, const ClientStats& more);

// What the core tells its user; every call comes from inside Feed or HandleExpiry. A handler may
// call the core's send methods, but must not destroy the core or call Feed/HandleExpiry.
class ClientEvents {
 public:
  virtual ~ClientEvents() = default;
  // The server's info opened with its key: the handshake is complete.
  virtual void OnReady(const PublicKey& server_key, const ServerInfo& info) = 0;
  // A packet from `source`; `data` is valid only during the call.
  virtual void OnPacket(const PublicKey& source, ByteSpan data) = 0;
  virtual void OnPeerGone(const PublicKey& /*peer*/, PeerGoneReason /*reason*/) {}
  virtual void OnPeerPresent(const PeerPresentMessage& /*message*/) {}
  // A pong; `rtt` is set when it answers an outstanding ping of ours.
  virtual void OnPong(const PingData& /*data*/, std::optional<Duration> /*rtt*/) {}
  // A ping of ours saw no pong within ping_timeout (it is forgotten).
  virtual void OnPingTimeout(const PingData& /*data*/) {}
  virtual void OnKeepAlive() {}
  // Empty: the earlier problem is over.
  virtual void OnHealth(std::string_view /*problem*/) {}
  virtual void OnRestarting(std::chrono::milliseconds /*reconnect_in*/,
                            std::chrono::milliseconds /*try_for*/) {}
  // The connection failed (protocol error or timeout) and is dead: close it. Called once.
  virtual void OnError(const absl::Status& error) = 0;
};

// One connection's client side. Feed it the bytes the stream delivers; write what
// PendingOutput() holds and ConsumeOutput() what was written; arm a timer for NextExpiry() and
// call HandleExpiry(now) when it fires. Sends made before the server's greeting are held and go
// out right after the ClientInfo; nothing waits for the ServerInfo (as Tailscale's client).
//
// Threading: one thread. Per packet: no allocation beyond the output buffer's growth, no logging.
class ClientCore {
 public:
  // A pong for a control frame is dropped only past max_pending_output plus this.
  static constexpr size_t kControlSlack = 64 << 10;

  ClientCore(PrivateKey private_key, PublicKey public_key, ClientCoreOptions options,
             const Clock* clock, ClientEvents* events);
  ~ClientCore();
  ClientCore(const ClientCore&) = delete;
  ClientCore& operator=(const ClientCore&) = delete;

  // Stream bytes from the server. Ignored once the core failed.
  void Feed(ByteSpan data);

  // ---- Sends: each appends one frame to the output ------------------------------------------
  SendResult Send(const PublicKey& dst, ByteSpan packet);
  // Mesh: a packet from `src` (a client of this server's region peer) to `dst`. Not rate limited.
  SendResult ForwardPacket(const PublicKey& src, const PublicKey& dst, ByteSpan packet);
  // Sends a ping with `data` and remembers when, so its pong reports the RTT (OnPong) or
  // OnPingTimeout follows. False if not connected, the output is full, or max_outstanding_pings
  // are already waiting (or one with the same data is).
  bool SendPing(const PingData& data);
  // SendPing with 8 random bytes; nullopt if it was not sent.
  std::optional<PingData> Ping();
  bool NotePreferred(bool preferred);
  bool WatchConns();
  bool ClosePeer(const PublicKey& peer);

  // ---- Output ---------------------------------------------------------------------------------
  std::string_view PendingOutput() const;
  void ConsumeOutput(size_t n);
  // All pending output at once (tests, and drivers that write whole buffers).
  std::string TakeOutput();

  // ---- Time -----------------------------------------------------------------------------------
  std::optional<MonoTime> NextExpiry() const;
  void HandleExpiry(MonoTime now);

  // ---- State ----------------------------------------------------------------------------------
  // The greeting arrived (the server key is known and the ClientInfo is out).
  bool greeted() const { return state_ != State::kAwaitingServerKey && !failed(); }
  // The ServerInfo opened.
  bool ready() const { return ready_ && !failed(); }
  bool failed() const { return state_ == State::kFailed; }
  const absl::Status& error() const { return error_; }
  // Zero until the greeting arrived.
  const PublicKey& server_key() const { return server_key_; }
  const PublicKey& public_key() const { return public_key_; }
  const std::optional<ServerInfo>& server_info() const { return server_info_; }
  const ClientStats& stats() const { return stats_; }
  size_t outstanding_pings() const { return pings_.size(); }

  // Marks the core dead (the driver closed the stream): later sends count as not connected.
  // No OnError.
  void Close();

 private:
  enum class State : uint8_t { kAwaitingServerKey, kConnected, kFailed };
  struct OutstandingPing {
    PingData data;
    MonoTime sent_at;
  };
  // derp_client.go's send limiter (golang.org/x/time/rate): starts full, refills at `rate`
  // bytes a second up to `burst`; a frame bigger than the burst never passes.
  struct TokenBucket {
    double rate = 0;
    double burst = 0;
    double tokens = 0;
    MonoTime last;
    bool Allow(MonoTime now, size_t bytes);
  };

  void HandleGreeting(const FrameView& frame);
  void HandleServerInfo(const FrameView& frame);
  void HandleMessage(ServerMessage& message);
  void HandlePong(const PingData& data);
  void Fail(absl::Status error);
  // Whether `frame_len` more bytes fit in the output; `control` frames get kControlSlack more.
  bool OutputHasRoom(size_t frame_len, bool control) const;
  // Counts one frame appended to *out (of `before` bytes before).
  void CountFrame(const std::string& out, size_t before);
  std::string* Out() { return state_ == State::kConnected ? &output_ : &early_output_; }
  size_t PendingBytes() const;
  bool CanSend() const { return state_ != State::kFailed && !closed_; }

  PrivateKey private_key_;
  PublicKey public_key_;
  ClientCoreOptions options_;
  const Clock* clock_;
  ClientEvents* events_;
  State state_ = State::kAwaitingServerKey;
  bool ready_ = false;
  bool closed_ = false;
  absl::Status error_;
  FrameReader reader_;
  PublicKey server_key_;
  std::optional<ServerInfo> server_info_;
  std::optional<TokenBucket> send_limit_;
  std::string output_;
  size_t output_pos_ = 0;
  std::string early_output_;            // sends before the greeting; appended after the ClientInfo
  std::vector<OutstandingPing> pings_;  // few: a linear scan
  MonoTime created_at_;
  MonoTime last_recv_;
  ClientStats stats_;
};

}  // namespace meshvpn::derp
