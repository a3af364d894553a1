// A WireGuard device as a sans-I/O core: IP packets in from the TUN side, datagrams in from the
// UDP side, the current time in; sealed datagrams and decrypted packets out through DeviceOutput;
// NextExpiry()/HandleExpiry() for the timers. The libuv driver (uv_device.h) or an embedding app
// does the I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "meshvpn/base/clock.h"
#include "meshvpn/base/crypto_backend.h"
#include "meshvpn/base/log.h"
#include "meshvpn/base/packet_buffer.h"
#include "meshvpn/udp/endpoint.h"
#include "meshvpn/wg/allowedips.h"
#include "meshvpn/wg/cookie.h"
#include "meshvpn/wg/crypto_job.h"
#include "meshvpn/wg/device_config.h"
#include "meshvpn/wg/device_stats.h"
#include "meshvpn/wg/device_tracer.h"
#include "meshvpn/wg/index_table.h"
#include "meshvpn/wg/peer.h"
#include "meshvpn/wg/ratelimiter.h"
#include "meshvpn/wg/timers.h"
#include "meshvpn/x25519/keys.h"

namespace meshvpn::wg {

// Where the device's output goes. Ownership of each buffer passes to the callee, which returns
// it to the device's PacketPool when done. Called synchronously from the Handle* methods, so a
// driver can collect a batch and flush it after the call returns.
class DeviceOutput {
 public:
  virtual ~DeviceOutput() = default;
  // A datagram (transport, handshake or cookie message) for the UDP side.
  virtual void SendDatagram(PacketBuffer* buffer, const udp::Endpoint& to) = 0;
  // A decrypted IP packet for the TUN side.
  virtual void DeliverPacket(PacketBuffer* buffer) = 0;
};

struct DeviceOptions {
  // The TUN side's MTU: transport plaintext is padded to 16 bytes but never beyond it.
  size_t mtu = 1420;
  CryptoBackend backend = CryptoBackend::kOpenSsl;
  // Handshake messages in one second above which the device is "under load": it then demands
  // mac2 (answering with cookie replies) and rate-limits handshakes per source address.
  uint32_t under_load_threshold = 512;
  // The per-source handshake rate limit applied under load. Its tables (about 1 MiB with the
  // defaults) are allocated the first time the device is under load, not before.
  RateLimiter::Options rate_limit;
  // Under load with a receive backlog (set_receive_backlogged): cookie replies each source
  // address may still get (one every REKEY_TIMEOUT is all a real initiator needs; a flooder that
  // uses up its share is dropped before any crypto). Its tables are made when first needed.
  RateLimiter::Options cookie_reply_share;
  Logger logger;  // handshake events at info/debug; never per data packet
};

// Packets in:
//   HandleTunPacket(buffer)   an IP packet to send: routed by allowed IPs, sealed in place with
//                             the peer's current session (or staged while a handshake runs).
//   HandleDatagram(buffer)    a UDP payload received: handshake messages are answered, transport
//                             messages opened in place, checked (replay, allowed source) and
//                             delivered.
// Both take ownership of the buffer (it comes from `pool`) and never allocate on an established
// session's path. Bad input is a counted drop (stats()), never an error or a crash.
//
// Threading: not thread-safe; one thread (the loop thread) makes every call.
class Device {
 public:
  // `pool` provides buffers for handshake messages and keepalives and takes back dropped ones;
  // `clock` gives wall time (TAI64N timestamps, last-handshake times). Both must outlive it.
  Device(PacketPool* pool, DeviceOutput* output, const Clock* clock, DeviceOptions options = {});
  ~Device();
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  // Applies a configuration change (UAPI set=1, wg-quick file). InvalidArgument names what is
  // wrong (never key material); what came before the error stays applied, as in wireguard-go.
  absl::Status Apply(const DeviceConfigUpdate& update, MonoTime now);
  DeviceStatus Status() const;

  void HandleTunPacket(PacketBuffer* buffer, MonoTime now);
  void HandleDatagram(PacketBuffer* buffer, const udp::Endpoint& from, MonoTime now);

  std::optional<MonoTime> NextExpiry() const;
  void HandleExpiry(MonoTime now);

  // The port the driver should listen on (set by Apply), and what it really bound.
  uint16_t listen_port() const { return listen_port_; }
  void set_bound_port(uint16_t port) { bound_port_ = port; }
  uint32_t fwmark() const { return fwmark_; }
  bool has_private_key() const { return private_key_.has_value(); }
  const std::optional<x25519::PublicKey>& public_key() const { return public_key_; }
  void set_mtu(size_t mtu) { options_.mtu = mtu; }
  // Optional (nullptr: none); must outlive the device. Called on the packet path when set.
  void set_tracer(DeviceTracer* tracer) { tracer_ = tracer; }
  // Where transport crypto runs (see crypto_job.h). nullptr (the default): inline, in the
  // Handle* call. Set it before traffic flows; it must outlive the device (keypairs the device
  // drops are Retire()d to it, also from the destructor).
  void set_crypto_executor(CryptoExecutor* executor) { crypto_ = executor; }
  // A job the executor ran elsewhere comes back, in submission order, on the device's thread:
  // a sealed datagram is sent; an opened packet is checked (replay, session still alive,
  // allowed source) and delivered, or dropped with a reason.
  void CompleteCryptoJob(const CryptoJob& job, MonoTime now);

  // The driver says whether its receive queue is filling up (it reads more slowly than datagrams
  // arrive). Under load and backlogged, the device sheds the handshake work of sources that had
  // their share before spending any crypto on it (device_load.cc), so the queue drains and a
  // legitimate peer's messages are not lost in the kernel.
  void set_receive_backlogged(bool backlogged) { receive_backlogged_ = backlogged; }
  bool receive_backlogged() const { return receive_backlogged_; }

  const DeviceStats& stats() const { return stats_; }
  size_t peer_count() const { return peers_.size(); }
  const Peer* FindPeer(const x25519::PublicKey& key) const;
  bool under_load() const { return under_load_; }

 private:
  Peer* PeerById(PeerId id) const;
  Peer* PeerByKey(const x25519::PublicKey& key) const;
  absl::StatusOr<Peer*> AddPeer(const x25519::PublicKey& key, MonoTime now);
  void RemovePeer(Peer& peer);
  absl::Status ApplyPeer(const PeerConfigUpdate& update, MonoTime now);
  void SetPrivateKey(const x25519::PrivateKey& key);
  void ClearSessions(Peer& peer);
  void ClearHandshake(Peer& peer);
  void UnregisterKeypair(std::unique_ptr<Keypair>& keypair);
  void DropStaged(Peer& peer, DropReason reason);

  // Sending (device_send.cc).
  void Drop(PacketBuffer* buffer, DropReason reason);
  bool HasRoomToSeal(const PacketBuffer& buffer) const;
  // Pads, makes room for the tag and prepends the header with the next counter: the job that
  // seals it. The caller checked HasRoomToSeal first.
  CryptoJob PrepareSeal(Keypair& keypair, PacketBuffer& buffer) const;
  void FinishSeal(const CryptoJob& job);
  void SendOnSession(Peer& peer, PacketBuffer* buffer, MonoTime now);
  void SealAndSend(Peer& peer, Keypair& keypair, PacketBuffer* buffer, MonoTime now);
  void StagePacket(Peer& peer, PacketBuffer* buffer, MonoTime now);
  void SendStaged(Peer& peer, MonoTime now);
  void SendKeepalive(Peer& peer, MonoTime now);
  void SendInitiation(Peer& peer, MonoTime now, InitiationKind kind);
  void SendToPeer(Peer& peer, PacketBuffer* buffer);

  // Load (device_load.cc).
  void UpdateLoad(MonoTime now);
  void HandleHandshakeMessage(PacketBuffer* buffer, MessageType type, const udp::Endpoint& from,
                              MonoTime now);
  void SendCookieReply(PacketBuffer* buffer, const udp::Endpoint& from, MonoTime now);
  RateLimiter& HandshakeLimiter();
  RateLimiter& CookieReplyLimiter();

  // Receiving (device_receive.cc).
  void HandleInitiation(PacketBuffer* buffer, const udp::Endpoint& from, MonoTime now);
  void HandleResponse(PacketBuffer* buffer, const udp::Endpoint& from, MonoTime now);
  void HandleCookieReply(PacketBuffer* buffer, MonoTime now);
  void HandleTransport(PacketBuffer* buffer, const udp::Endpoint& from, MonoTime now);
  // After the AEAD: replay window, session confirmation, timers, allowed source, delivery.
  void FinishOpen(const CryptoJob& job, MonoTime now);
  void LearnEndpoint(Peer& peer, const udp::Endpoint& from);
  void CompleteHandshake(Peer& peer, MonoTime now);

  PacketPool* pool_;
  DeviceOutput* output_;
  CryptoExecutor* crypto_ = nullptr;
  const Clock* clock_;
  DeviceOptions options_;

  std::optional<x25519::PrivateKey> private_key_;
  std::optional<x25519::PublicKey> public_key_;
  std::optional<CookieChecker> cookie_checker_;
  uint16_t listen_port_ = 0;
  uint16_t bound_port_ = 0;
  uint32_t fwmark_ = 0;

  SplitMixJitter jitter_;
  PeerId next_peer_id_ = 1;
  std::vector<PeerId> peer_order_;  // insertion order, for Status()
  absl::flat_hash_map<PeerId, std::unique_ptr<Peer>> peers_;
  absl::flat_hash_map<x25519::PublicKey, PeerId> peers_by_key_;
  AllowedIps allowed_ips_;
  IndexTable indices_;
  std::optional<RateLimiter> rate_limiter_;    // made when first under load
  std::optional<RateLimiter> cookie_limiter_;  // made when first under load with a backlog

  // Load: handshake messages seen in the current one-second window.
  MonoTime load_window_start_{};
  uint32_t handshakes_in_window_ = 0;
  bool under_load_ = false;
  MonoTime under_load_until_{};
  bool receive_backlogged_ = false;  // the driver's last word on its receive queue

  DeviceStats stats_;
  DeviceTracer* tracer_ = nullptr;
};

}  // namespace meshvpn::wg
