// Device: configuration, status and timers. Sending is in device_send.cc, receiving in
// device_receive.cc.
#include "meshvpn/wg/device.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_format.h"
#include "meshvpn/base/secure.h"
#include "meshvpn/x25519/x25519.h"

namespace meshvpn::wg {
namespace {

uint64_t RandomSeed() {
  uint8_t bytes[8] = {};
  uint64_t seed = 0x9e3779b97f4a7c15ull;
  if (FillRandom(bytes).ok()) std::memcpy(&seed, bytes, sizeof seed);
  return seed;
}

}  // namespace

Device::Device(PacketPool* pool, DeviceOutput* output, const Clock* clock, DeviceOptions options)
    : pool_(pool),
      output_(output),
      clock_(clock),
      options_(std::move(options)),
      jitter_(RandomSeed()) {}

Device::~Device() {
  for (PeerId id : std::vector<PeerId>(peer_order_)) RemovePeer(*PeerById(id));
}

Peer* Device::PeerById(PeerId id) const {
  auto it = peers_.find(id);
  return it == peers_.end() ? nullptr : it->second.get();
}

Peer* Device::PeerByKey(const x25519::PublicKey& key) const {
  auto it = peers_by_key_.find(key);
  return it == peers_by_key_.end() ? nullptr : PeerById(it->second);
}

const Peer* Device::FindPeer(const x25519::PublicKey& key) const { return PeerByKey(key); }

absl::StatusOr<Peer*> Device::AddPeer(const x25519::PublicKey& key, MonoTime now) {
  (void)now;
  absl::StatusOr<CookieGenerator> cookies = CookieGenerator::Create(key.bytes(), options_.backend);
  if (!cookies.ok()) return cookies.status();
  const PeerId id = next_peer_id_++;
  auto peer = std::make_unique<Peer>(id, key, *std::move(cookies), jitter_);
  Peer* raw = peer.get();
  peers_.emplace(id, std::move(peer));
  peers_by_key_.emplace(key, id);
  peer_order_.push_back(id);
  options_.logger.Info("peer %s added", key.ToBase64());
  return raw;
}

void Device::RemovePeer(Peer& peer) {
  const PeerId id = peer.id;
  peer.timers.Stop();
  ClearSessions(peer);
  DropStaged(peer, DropReason::kHandshakeGaveUp);
  allowed_ips_.RemoveByPeer(id);
  peers_by_key_.erase(peer.public_key);
  peer_order_.erase(std::remove(peer_order_.begin(), peer_order_.end(), id), peer_order_.end());
  options_.logger.Info("peer %s removed", peer.public_key.ToBase64());
  peers_.erase(id);
}

void Device::UnregisterKeypair(std::unique_ptr<Keypair>& keypair) {
  if (!keypair) return;
  indices_.Unregister(keypair->local_index);
  // A job in flight elsewhere may still use its contexts: the executor frees it after.
  if (crypto_ != nullptr) crypto_->Retire(std::move(keypair));
  keypair.reset();
}

void Device::CompleteCryptoJob(const CryptoJob& job, MonoTime now) {
  if (job.kind == CryptoJob::Kind::kSeal) {
    FinishSeal(job);
  } else {
    FinishOpen(job, now);
  }
}

void Device::ClearHandshake(Peer& peer) {
  if (peer.handshake) indices_.Unregister(peer.handshake->sender_index());
  peer.handshake.reset();
}

void Device::ClearSessions(Peer& peer) {
  ClearHandshake(peer);
  std::unique_ptr<Keypair> third;
  KeypairSlots::Dropped dropped = peer.keypairs.ClearAll(&third);
  UnregisterKeypair(dropped.a);
  UnregisterKeypair(dropped.b);
  UnregisterKeypair(third);
}

void Device::DropStaged(Peer& peer, DropReason reason) {
  while (!peer.staged.empty()) {
    Drop(peer.staged.front(), reason);
    peer.staged.pop_front();
  }
}

void Device::SetPrivateKey(const x25519::PrivateKey& key) {
  if (key.IsZero()) {
    if (private_key_) options_.logger.Info("private key removed");
    private_key_.reset();
    public_key_.reset();
    cookie_checker_.reset();
    for (auto& [id, peer] : peers_) ClearSessions(*peer);
    return;
  }
  if (private_key_ && private_key_->ConstantTimeEquals(key)) return;  // unchanged
  absl::StatusOr<x25519::PublicKey> pub = x25519::DerivePublicKey(key, options_.backend);
  absl::StatusOr<CookieChecker> checker =
      pub.ok() ? CookieChecker::Create(pub->bytes(), options_.backend)
               : absl::StatusOr<CookieChecker>(pub.status());
  if (!pub.ok() || !checker.ok()) {
    options_.logger.Error("cannot use the private key: %s",
                          (pub.ok() ? checker.status() : pub.status()).message());
    return;
  }
  private_key_ = key;
  public_key_ = *pub;
  cookie_checker_.emplace(*std::move(checker));
  options_.logger.Info("interface public key %s", pub->ToBase64());
  // A peer with our own public key makes no sense (wireguard-go removes it).
  if (Peer* self = PeerByKey(*pub)) RemovePeer(*self);
  for (auto& [id, peer] : peers_) ClearSessions(*peer);
}

absl::Status Device::Apply(const DeviceConfigUpdate& update, MonoTime now) {
  if (update.private_key) SetPrivateKey(*update.private_key);
  if (update.listen_port) listen_port_ = *update.listen_port;
  if (update.fwmark) fwmark_ = *update.fwmark;
  if (update.replace_peers) {
    for (PeerId id : std::vector<PeerId>(peer_order_)) RemovePeer(*PeerById(id));
  }
  for (const PeerConfigUpdate& peer : update.peers) {
    absl::Status status = ApplyPeer(peer, now);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status Device::ApplyPeer(const PeerConfigUpdate& update, MonoTime now) {
  Peer* peer = PeerByKey(update.public_key);
  if (update.remove) {
    if (peer) RemovePeer(*peer);
    return absl::OkStatus();
  }
  if (public_key_ && update.public_key == *public_key_) return absl::OkStatus();  // ourselves
  if (!peer) {
    if (update.update_only) return absl::OkStatus();
    if (update.public_key.IsZero()) {
      return absl::InvalidArgumentError("peer public key is all zeros");
    }
    absl::StatusOr<Peer*> added = AddPeer(update.public_key, now);
    if (!added.ok()) return added.status();
    peer = *added;
  }
  if (update.preshared_key) peer->preshared_key = *update.preshared_key;
  if (update.endpoint) {
    if (!peer->endpoint || !(*peer->endpoint == *update.endpoint)) ++stats_.endpoint_changes;
    peer->endpoint = *update.endpoint;
  }
  if (update.replace_allowed_ips) allowed_ips_.RemoveByPeer(peer->id);
  for (const tun::IpPrefix& prefix : update.allowed_ips) {
    absl::Status status = allowed_ips_.Insert(prefix, peer->id);
    if (!status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("allowed IP %s: %s", prefix.ToString(), status.message()));
    }
  }
  if (update.persistent_keepalive) {
    peer->timers.SetPersistentKeepalive(*update.persistent_keepalive, now);
  }
  return absl::OkStatus();
}

DeviceStatus Device::Status() const {
  DeviceStatus status;
  status.private_key = private_key_;
  status.listen_port = bound_port_ != 0 ? bound_port_ : listen_port_;
  status.fwmark = fwmark_;
  for (PeerId id : peer_order_) {
    const Peer& peer = *PeerById(id);
    PeerStatus& out = status.peers.emplace_back();
    out.public_key = peer.public_key;
    out.preshared_key = peer.preshared_key;
    out.endpoint = peer.endpoint;
    out.persistent_keepalive = peer.timers.persistent_keepalive();
    out.allowed_ips = allowed_ips_.PrefixesOf(id);
    out.last_handshake = peer.last_handshake;
    out.rx_bytes = peer.rx_bytes;
    out.tx_bytes = peer.tx_bytes;
  }
  return status;
}

std::optional<MonoTime> Device::NextExpiry() const {
  std::optional<MonoTime> next;
  for (const auto& [id, peer] : peers_) {
    std::optional<MonoTime> t = peer->timers.NextExpiry();
    if (t && (!next || *t < *next)) next = t;
  }
  return next;
}

void Device::HandleExpiry(MonoTime now) {
  for (PeerId id : peer_order_) {
    Peer& peer = *PeerById(id);
    std::optional<MonoTime> due = peer.timers.NextExpiry();
    if (!due || *due > now) continue;
    const TimerActions actions = peer.timers.HandleExpiry(now);
    if (actions.Has(TimerAction::kGiveUpHandshake)) {
      options_.logger.Info("peer %s: handshake did not complete after %d attempts, giving up",
                           peer.public_key.ToBase64(), kMaxTimerHandshakes);
      ClearHandshake(peer);
      DropStaged(peer, DropReason::kHandshakeGaveUp);
    }
    if (actions.Has(TimerAction::kZeroKeyMaterial)) {
      options_.logger.Info("peer %s: zeroing key material", peer.public_key.ToBase64());
      ClearSessions(peer);
    }
    if (actions.Has(TimerAction::kRetransmitHandshake)) {
      options_.logger.Debug("peer %s: no response, retrying the handshake",
                            peer.public_key.ToBase64());
      SendInitiation(peer, now, InitiationKind::kRetry);
    }
    if (actions.Has(TimerAction::kNewHandshake)) {
      options_.logger.Debug("peer %s: sent data and heard nothing back, new handshake",
                            peer.public_key.ToBase64());
      SendInitiation(peer, now, InitiationKind::kNew);
    }
    if (actions.Has(TimerAction::kSendKeepalive) ||
        actions.Has(TimerAction::kSendPersistentKeepalive)) {
      SendKeepalive(peer, now);
    }
  }
}

}  // namespace meshvpn::wg
