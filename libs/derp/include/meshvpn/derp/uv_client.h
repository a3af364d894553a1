// UvClient: the libuv driver of the DERP client: HTTP(S) upgrade to DERP, a ClientCore per
// connection, and reconnecting with backoff for as long as it lives (derphttp_client.go).
#pragma once

#include <uv.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "meshvpn/base/clock.h"
#include "meshvpn/base/uv_handle.h"
#include "meshvpn/derp/client_core.h"
#include "meshvpn/http/limits.h"
#include "meshvpn/http/tls_context.h"
#include "meshvpn/http/upgraded_stream.h"
#include "meshvpn/http/uv_client.h"

namespace meshvpn::derp {

struct UvClientOptions {
  // The server: https://host:port/derp with `tls`, http:// without.
  std::string host;
  uint16_t port = 0;                            // 0: 443 with TLS, 80 without
  std::shared_ptr<const http::TlsContext> tls;  // null: plain HTTP (labs, tests)
  std::string server_name;                      // SNI and certificate name; default: host
  std::string path = "/derp";
  http::ClientLimits http_limits;
  ClientCoreOptions core;
  // Reconnecting: the first retry after `backoff_initial`, each failed attempt doubles it up to
  // `backoff_max`; each delay is shortened by a random fraction of up to `backoff_jitter`. A
  // connection that became ready resets it; a server's Restarting frame sets the next delay.
  Duration backoff_initial = std::chrono::milliseconds(100);
  Duration backoff_max = std::chrono::seconds(10);
  double backoff_jitter = 0.25;
  const Clock* clock = nullptr;  // null: the real clock
};

// The driver's events (on the loop thread). A handler may call any UvClient method except its
// destructor.
class UvClientEvents {
 public:
  virtual ~UvClientEvents() = default;
  // An attempt starts (1, 2, ... over the client's life).
  virtual void OnConnecting(uint64_t /*attempt*/) {}
  // The handshake completed: sends now go through.
  virtual void OnReady(const PublicKey& /*server_key*/, const ServerInfo& /*info*/) {}
  // An attempt failed or a connection ended; the next attempt starts in `retry_in`.
  virtual void OnDisconnected(const absl::Status& /*why*/, Duration /*retry_in*/) {}
  // A packet from `source`; `data` is valid only during the call.
  virtual void OnPacket(const PublicKey& source, ByteSpan data) = 0;
  virtual void OnPeerGone(const PublicKey& /*peer*/, PeerGoneReason /*reason*/) {}
  virtual void OnPeerPresent(const PeerPresentMessage& /*message*/) {}
  virtual void OnHealth(std::string_view /*problem*/) {}
  virtual void OnRestarting(std::chrono::milliseconds /*reconnect_in*/,
                            std::chrono::milliseconds /*try_for*/) {}
  virtual void OnKeepAlive() {}
};

struct UvClientStats {
  uint64_t connect_attempts = 0;
  uint64_t connections_ready = 0;  // handshakes completed
  uint64_t disconnects = 0;        // failed attempts and ended connections
  // Sends while no connection was there (dropped: the caller retries, as with Tailscale's
  // client, whose Send fails while it reconnects).
  uint64_t dropped_not_connected = 0;
  ClientStats core;  // summed over every connection, the current one included
};

// Start() connects, and the client keeps a connection up until Close() or destruction. Sends
// while no connection is upgraded are dropped and counted, never queued across connections
// (DERP carries WireGuard and disco packets, whose senders retransmit; Tailscale's client fails
// them too while it reconnects). On a fresh connection, sends before the server's greeting are
// held by its core and follow the ClientInfo.
//
// Threading: the loop's thread only; no locks.
class UvClient {
 public:
  using PingDone = std::function<void(absl::StatusOr<Duration>)>;

  // Checks the options and the key. `events` must outlive the client.
  static absl::StatusOr<std::unique_ptr<UvClient>> Create(uv_loop_t* loop, PrivateKey private_key,
                                                          UvClientOptions options,
                                                          UvClientEvents* events);
  // Closes at once (not from inside one of its own events). Run the loop afterwards so libuv
  // can free the handles.
  ~UvClient();
  UvClient(const UvClient&) = delete;
  UvClient& operator=(const UvClient&) = delete;

  // Starts connecting; after Close(), connects again.
  void Start();
  // Closes the connection and stops reconnecting; pings in flight fail (Cancelled). No
  // OnDisconnected follows.
  void Close();

  // False if dropped (not connected, too large, rate limited, output full: see stats()).
  bool Send(const PublicKey& dst, ByteSpan packet);
  bool ForwardPacket(const PublicKey& src, const PublicKey& dst, ByteSpan packet);
  // `done` gets the round-trip time, DeadlineExceeded after kPingTimeout, Unavailable if the
  // connection ends first, or (called at once) Unavailable/ResourceExhausted if it cannot be sent.
  void Ping(PingDone done);
  // Remembered: sent now if connected and on every later connection.
  void NotePreferred(bool preferred);
  // Remembered like NotePreferred (needs the mesh key in options.core).
  void WatchConns();
  bool ClosePeer(const PublicKey& peer);

  const PublicKey& public_key() const { return public_key_; }
  // The key of the server last connected to (zero before the first greeting).
  const PublicKey& server_key() const { return server_key_; }
  // A connection whose handshake completed is up.
  bool connected() const;
  UvClientStats stats() const;

 private:
  class CoreEvents;  // the core's events, relayed to the user's
  class Upgrader;    // one attempt: the HTTP response's handler, then the stream's
  struct PendingPing {
    PingData data;
    PingDone done;
  };

  UvClient(uv_loop_t* loop, PrivateKey private_key, PublicKey public_key, UvClientOptions options,
           UvClientEvents* events);
  void Connect();
  // From the current attempt's Upgrader.
  void OnUpgraded(http::UpgradedStream stream, std::string buffered);
  void OnAttemptFailed(absl::Status why);
  void OnStreamData(ByteSpan data);
  void OnStreamClosed();
  // Frees the upgraders the HTTP client is done with (at a point none is on the stack).
  void CollectUpgraders();
  // Writes what the core has; re-arms the core's timer; handles a failed core.
  void AfterCoreCall();
  void Flush();
  void ArmCoreTimer();
  void Disconnect(absl::Status why);
  void ScheduleReconnect(const absl::Status& why);
  void FailPings(const absl::Status& why);
  // The pending Ping() waiting for `data`, removed; null if none.
  PingDone TakePing(const PingData& data);
  static void OnCoreTimer(uv_timer_t* timer);
  static void OnReconnectTimer(uv_timer_t* timer);

  uv_loop_t* loop_;
  PrivateKey private_key_;
  PublicKey public_key_;
  UvClientOptions options_;
  UvClientEvents* events_;
  const Clock* clock_;
  std::unique_ptr<CoreEvents> core_events_;
  std::unique_ptr<http::UvClient> http_;
  // Every attempt's, until the HTTP client is done with it; the last is the current one while
  // `attempt_` is set.
  std::vector<std::unique_ptr<Upgrader>> upgraders_;
  Upgrader* attempt_ = nullptr;
  http::UpgradedStream stream_;
  std::unique_ptr<ClientCore> core_;
  std::unique_ptr<ClientCore> retired_core_;  // may still be on the stack
  UvTimer core_timer_;
  UvTimer reconnect_timer_;
  std::vector<PendingPing> pings_;
  std::minstd_rand random_;
  uint64_t attempts_ = 0;
  PublicKey server_key_;
  Duration next_backoff_;
  std::optional<Duration> server_suggested_delay_;  // from a Restarting frame
  bool running_ = false;
  bool preferred_ = false;
  bool watch_conns_ = false;
  UvClientStats stats_;
  ClientStats finished_core_stats_;  // of the connections that ended
};

}  // namespace meshvpn::derp
