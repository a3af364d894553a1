// ServerCore: the sans-I/O DERP relay. Connections come in as ids with bytes; the core does the
// handshake, keeps the client registry keyed by public key, routes SendPacket to RecvPacket into
// bounded per-client queues, tells senders about absent peers, handles duplicate keys, pings,
// keepalives, rate limits and NotePreferred, and shares its clients with the other servers of a
// region (watch conns, forward packet). The driver moves bytes and calls HandleExpiry.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "meshvpn/base/bytes.h"
#include "meshvpn/base/clock.h"
#include "meshvpn/derp/codec.h"
#include "meshvpn/derp/handshake.h"
#include "meshvpn/derp/keys.h"
#include "meshvpn/derp/server_stats.h"

namespace meshvpn::derp {

using ConnId = uint64_t;

struct ServerOptions {
  PrivateKey private_key;
  MeshKey mesh_key;  // zero: no mesh; clients presenting it may watch and forward
  // Packets queued per client and kind (disco, other) before the oldest are dropped.
  size_t send_queue_depth = kPerClientSendQueueDepth;
  // Per-client limit on what a client sends, as Tailscale's PerClientRateLimitBytesPerSec and
  // PerClientRateBurstBytes (0: none). Mesh peers are not limited. The burst is raised to at
  // least one full packet frame (kMinRateLimitBurst).
  uint64_t rate_limit_bytes_per_second = 0;
  uint64_t rate_limit_burst_bytes = 0;
  // Control frames (pongs, peer gone, peer present, keepalives) a regular client may leave
  // unread before it is closed as a slow reader. Mesh watchers are not bounded.
  size_t max_control_bytes = 256 << 10;
  // The handshake's time limit, from the upgrade to a valid ClientInfo.
  Duration handshake_timeout = kHandshakeTimeout;
  Duration keepalive = kKeepAlive;
  Duration keepalive_jitter = kKeepAliveJitterMax;
};

// What the core needs from its driver. Calls come from inside the core's methods.
class ServerTransport {
 public:
  virtual ~ServerTransport() = default;
  // `conn` has output: call TakeOutput soon (once per loop turn batches well).
  virtual void WantWrite(ConnId conn) = 0;
  // Close `conn`'s transport. The core has already forgotten it: no OnConnectionClosed needed,
  // and output not yet taken is discarded.
  virtual void CloseConnection(ConnId conn) = 0;
};

// A path to the other servers of the region: a mesh link that carries ForwardPacket frames.
class PacketForwarder {
 public:
  virtual ~PacketForwarder() = default;
  // False if the link cannot take it now (counted as a write error drop).
  virtual bool ForwardPacket(const PublicKey& src, const PublicKey& dst, ByteSpan packet) = 0;
  virtual std::string Describe() const = 0;  // for logs: the peer server's address
};

// Optional: what a tool prints or logs. Nothing secret is passed.
class ServerObserver {
 public:
  virtual ~ServerObserver() = default;
  virtual void OnClientConnected(ConnId, const PublicKey&, const PeerEndpoint&, const ClientInfo&,
                                 bool /*can_mesh*/) {}
  virtual void OnClientDisconnected(ConnId, const PublicKey&, std::string_view /*why*/) {}
  // A connection closed by the server before or after its handshake.
  virtual void OnConnectionRejected(ConnId, const PeerEndpoint&, CloseReason,
                                    std::string_view /*detail*/) {}
  // A packet was queued for a local client (or forwarded to a mesh peer, `forwarded`).
  virtual void OnPacketRelayed(const PublicKey& /*src*/, const PublicKey& /*dst*/, size_t /*bytes*/,
                               bool /*forwarded*/) {}
};

class ServerCore {
 public:
  ServerCore(ServerOptions options, ServerTransport* transport, const Clock* clock);
  ~ServerCore();
  ServerCore(const ServerCore&) = delete;
  ServerCore& operator=(const ServerCore&) = delete;

  const PublicKey& public_key() const { return public_key_; }
  void set_observer(ServerObserver* observer) { observer_ = observer; }

  // ---- The driver's calls ------------------------------------------------------------------
  // An upgraded connection from `remote`: the greeting (ServerKey) is queued at once.
  // `not_ideal`: the request said its ideal node is another (the Ideal-Node header).
  void OnConnectionOpened(ConnId conn, const PeerEndpoint& remote, bool not_ideal = false);
  void OnData(ConnId conn, ByteSpan data);
  // The transport closed (peer, error). Unknown ids are ignored.
  void OnConnectionClosed(ConnId conn);
  // Appends up to about `budget` bytes of `conn`'s pending output (whole frames; control
  // frames first, then disco packets, then the others). True if more remains.
  bool TakeOutput(ConnId conn, std::string* out, size_t budget);
  // The earliest deadline (keepalives, handshake timeouts); MonoTime::max() if none.
  MonoTime NextExpiry() const;
  void HandleExpiry(MonoTime now);

  // ---- Mesh: what mesh links report ----------------------------------------------------------
  // `dst` is reachable through `forwarder` (a PeerPresent from that server). Several
  // forwarders for one key are kept in the order added; the first is used.
  void AddPacketForwarder(const PublicKey& dst, PacketForwarder* forwarder);
  void RemovePacketForwarder(const PublicKey& dst, PacketForwarder* forwarder);
  // The link broke or is going away: forget every key it carried.
  void RemoveForwarder(PacketForwarder* forwarder);

  // ---- Server-wide ----------------------------------------------------------------------------
  // Sends every client a Restarting frame (graceful shutdown: reconnect in, try for).
  void AnnounceRestart(std::chrono::milliseconds reconnect_in, std::chrono::milliseconds try_for);
  // Sends every client a Health frame (empty clears the problem).
  void AnnounceHealth(std::string_view problem);

  const ServerStats& stats() const { return stats_; }
  // Distinct keys connected here.
  size_t client_keys() const { return clients_.size(); }
  bool IsConnected(const PublicKey& key) const { return clients_.contains(key); }
  size_t connections() const { return conns_.size(); }

 private:
  struct Conn;
  struct ClientSet {
    absl::InlinedVector<Conn*, 1> conns;  // back() is the active one (the last to send)
  };
  struct Timer {
    MonoTime when;
    ConnId conn;
    uint32_t generation;
    bool operator>(const Timer& o) const { return when > o.when; }
  };

  // Lifecycle (server_core.cc).
  bool HandleOneFrame(Conn* c, const FrameView& frame);  // false: stop reading
  bool HandleClientInfo(Conn* c, ByteSpan payload);
  void HandleFrame(Conn* c, uint8_t type, ByteSpan payload);
  void Register(Conn* c);
  void Unregister(Conn* c);
  void Close(Conn* c, CloseReason reason, std::string_view detail);
  void Forget(Conn* c);
  void Arm(Conn* c, MonoTime when);
  void QueueControl(Conn* c, const std::string& frame);
  Conn* Find(ConnId conn) const;

  // Routing (server_routing.cc).
  void HandleSendPacket(Conn* c, ByteSpan payload);
  void HandleForwardPacket(Conn* c, ByteSpan payload);
  void HandleClosePeer(Conn* c, ByteSpan payload);
  void HandleWatchConns(Conn* c);
  Conn* ActiveFor(const PublicKey& key) const;
  void Deliver(const PublicKey& src, Conn* dst, ByteSpan packet);
  void Drop(ByteSpan packet, DropReason reason);
  void MaybeSendPeerNotHere(Conn* sender, const PublicKey& dst, ByteSpan packet);
  void NoteSentFrom(Conn* dst, const PublicKey& src);
  void PeerGoneFromRegion(const PublicKey& key);
  void BroadcastPresence(const PublicKey& key, const PeerEndpoint& endpoint, uint8_t flags,
                         bool present);
  void NoteActivity(Conn* c);
  bool RateLimitAllows(Conn* c, size_t frame_bytes);
  void SetPreferred(Conn* c, bool preferred);
  void DiscardQueues(Conn* c);
  static uint8_t PresentFlags(const Conn& c);

  ServerOptions options_;
  PublicKey public_key_;
  ServerTransport* transport_;
  const Clock* clock_;
  ServerObserver* observer_ = nullptr;
  std::minstd_rand jitter_rng_;
  std::string server_key_frame_;

  absl::flat_hash_map<ConnId, std::unique_ptr<Conn>> conns_;
  absl::flat_hash_map<PublicKey, ClientSet> clients_;
  // Keys reachable through mesh links, with the links (the first is used).
  absl::flat_hash_map<PublicKey, absl::InlinedVector<PacketForwarder*, 1>> forwarders_;
  // For each key, the connections that received packets from it: they hear PeerGone when it
  // leaves the region (derpserver.go peerGoneWatchers).
  absl::flat_hash_map<PublicKey, absl::flat_hash_set<ConnId>> peer_gone_watchers_;
  absl::flat_hash_set<ConnId> watchers_;  // mesh peers that sent WatchConns
  std::vector<Timer> timers_;             // a min-heap, stale entries skipped by generation
  Conn* processing_ = nullptr;            // the connection OnData is working on
  bool processing_closed_ = false;        // it was closed meanwhile: free it afterwards
  std::unique_ptr<Conn> closed_while_processing_;
  ServerStats stats_;
};

// A payload that starts with disco's magic and is long enough to be a disco message.
bool LooksLikeDisco(ByteSpan packet);

}  // namespace meshvpn::derp
