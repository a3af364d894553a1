// Device: the send path. IP packets are routed by allowed IPs, sealed in place into transport
// messages, or staged while a handshake runs; initiations and keepalives are made here too.
#include <cstring>

#include "meshvpn/wg/device.h"
#include "meshvpn/wg/inner_packet.h"

namespace meshvpn::wg {

void Device::Drop(PacketBuffer* buffer, DropReason reason) {
  ++stats_.drops[static_cast<size_t>(reason)];
  pool_->Release(buffer);
}

void Device::SendToPeer(Peer& peer, PacketBuffer* buffer) {
  peer.tx_bytes += buffer->size();
  output_->SendDatagram(buffer, *peer.endpoint);
}

bool Device::HasRoomToSeal(const PacketBuffer& buffer) const {
  const size_t padded = PaddedSize(buffer.size(), options_.mtu);
  return buffer.headroom() >= transport::kHeaderSize &&
         buffer.tailroom() >= padded - buffer.size() + kAeadTagSize;
}

CryptoJob Device::PrepareSeal(Keypair& keypair, PacketBuffer& buffer) const {
  const size_t plain = buffer.size();
  const size_t padded = PaddedSize(plain, options_.mtu);  // room checked by the caller
  MutableByteSpan padding = buffer.Append(padded - plain);
  std::memset(padding.data(), 0, padding.size());
  (void)buffer.Append(kAeadTagSize);
  CryptoJob job;
  job.kind = CryptoJob::Kind::kSeal;
  job.buffer = &buffer;
  job.aead = &keypair.send;
  job.keypair = &keypair;
  job.counter = keypair.next_send_counter++;
  MutableByteSpan header = buffer.Prepend(transport::kHeaderSize);
  Encode(TransportHeader{keypair.remote_index, job.counter},
         std::span<uint8_t, transport::kHeaderSize>(header.data(), transport::kHeaderSize));
  return job;
}

void Device::FinishSeal(const CryptoJob& job) {
  if (!job.ok) return Drop(job.buffer, DropReason::kNoBufferRoom);
  output_->SendDatagram(job.buffer, job.endpoint);
}

void Device::HandleTunPacket(PacketBuffer* buffer, MonoTime now) {
  const std::optional<ByteSpan> destination = InnerDestination(buffer->span());
  if (!destination) return Drop(buffer, DropReason::kBadInnerPacket);
  const std::optional<AllowedIps::PeerId> id = allowed_ips_.Lookup(*destination);
  if (!id) return Drop(buffer, DropReason::kNoRoute);
  Peer& peer = *PeerById(*id);
  SendOnSession(peer, buffer, now);
}

void Device::SendOnSession(Peer& peer, PacketBuffer* buffer, MonoTime now) {
  if (!private_key_) return Drop(buffer, DropReason::kNoPrivateKey);
  if (!peer.endpoint) return Drop(buffer, DropReason::kNoEndpoint);
  Keypair* keypair = peer.keypairs.current();
  if (keypair == nullptr || !MayEncrypt(keypair->usage(), now)) {
    return StagePacket(peer, buffer, now);
  }
  if (!peer.staged.empty()) SendStaged(peer, now);  // older packets first
  SealAndSend(peer, *keypair, buffer, now);
}

void Device::SealAndSend(Peer& peer, Keypair& keypair, PacketBuffer* buffer, MonoTime now) {
  const bool keepalive = buffer->empty();
  if (!HasRoomToSeal(*buffer)) return Drop(buffer, DropReason::kNoBufferRoom);
  if (tracer_ != nullptr) {  // before sealing: the tracer shows the plaintext
    tracer_->OnSealed(peer.public_key, buffer->span(), keypair.next_send_counter,
                      TransportSize(PaddedSize(buffer->size(), options_.mtu)), *peer.endpoint);
  }
  CryptoJob job = PrepareSeal(keypair, *buffer);
  job.keepalive = keepalive;
  job.endpoint = *peer.endpoint;
  peer.tx_bytes += buffer->size();
  peer.timers.OnAuthenticatedPacketTraversal(now);
  peer.timers.OnAnyAuthenticatedPacketSent(now);
  if (keepalive) {
    ++stats_.keepalives_sent;
  } else {
    ++stats_.packets_sent;
    peer.timers.OnDataSent(now);
  }
  if (crypto_ == nullptr || crypto_->RunInline()) {
    RunCryptoJob(job);
    FinishSeal(job);
  } else {
    crypto_->Submit(job);
  }
  if (RekeyOnSendDue(keypair.usage(), now) && !peer.handshake &&
      peer.timers.InitiationAllowed(now)) {
    SendInitiation(peer, now, InitiationKind::kNew);
  }
}

void Device::StagePacket(Peer& peer, PacketBuffer* buffer, MonoTime now) {
  if (peer.staged.size() >= kMaxStagedPackets) {
    Drop(peer.staged.front(), DropReason::kStagedQueueFull);
    peer.staged.pop_front();
  }
  peer.staged.push_back(buffer);
  if (peer.timers.InitiationAllowed(now)) SendInitiation(peer, now, InitiationKind::kNew);
}

void Device::SendStaged(Peer& peer, MonoTime now) {
  Keypair* keypair = peer.keypairs.current();
  if (keypair == nullptr || !peer.endpoint || !private_key_) return;
  while (!peer.staged.empty() && MayEncrypt(keypair->usage(), now)) {
    PacketBuffer* buffer = peer.staged.front();
    peer.staged.pop_front();
    SealAndSend(peer, *keypair, buffer, now);
  }
}

void Device::SendKeepalive(Peer& peer, MonoTime now) {
  if (!peer.staged.empty()) {  // queued packets do a keepalive's job
    Keypair* keypair = peer.keypairs.current();
    if (keypair != nullptr && MayEncrypt(keypair->usage(), now)) {
      SendStaged(peer, now);
    } else if (peer.timers.InitiationAllowed(now)) {
      SendInitiation(peer, now, InitiationKind::kNew);
    }
    return;
  }
  PacketBuffer* buffer = pool_->Acquire();
  if (buffer == nullptr) {
    ++stats_.drops[static_cast<size_t>(DropReason::kPoolExhausted)];
    return;
  }
  buffer->Reset();
  SendOnSession(peer, buffer, now);
}

void Device::SendInitiation(Peer& peer, MonoTime now, InitiationKind kind) {
  if (!private_key_ || !peer.endpoint) return;
  PacketBuffer* buffer = pool_->Acquire();
  if (buffer == nullptr) {
    ++stats_.drops[static_cast<size_t>(DropReason::kPoolExhausted)];
    return;
  }
  buffer->Reset();
  if (!buffer->SetSize(initiation::kSize)) return Drop(buffer, DropReason::kNoBufferRoom);
  ClearHandshake(peer);
  const uint32_t index = indices_.Register({peer.id, nullptr});
  std::span<uint8_t, initiation::kSize> message(buffer->data(), initiation::kSize);
  absl::StatusOr<InitiatorHandshake> handshake =
      InitiatorHandshake::Start(*private_key_, peer.public_key, peer.preshared_key, index,
                                Tai64n::Now(*clock_), message, options_.backend);
  if (!handshake.ok()) {
    indices_.Unregister(index);
    options_.logger.Warning("peer %s: cannot start a handshake: %s", peer.public_key.ToBase64(),
                            handshake.status().message());
    pool_->Release(buffer);
    return;
  }
  peer.handshake.emplace(*std::move(handshake));
  peer.cookies.AddMacs(buffer->span(), now);
  peer.timers.OnAuthenticatedPacketTraversal(now);
  peer.timers.OnAnyAuthenticatedPacketSent(now);
  peer.timers.OnHandshakeInitiated(now, kind);
  ++stats_.initiations_sent;
  if (tracer_ != nullptr) {
    tracer_->OnHandshake(peer.public_key, HandshakeEvent::kInitiationSent, *peer.endpoint);
  }
  options_.logger.Debug("peer %s: handshake initiation sent to %s", peer.public_key.ToBase64(),
                        peer.endpoint->ToString());
  SendToPeer(peer, buffer);
}

}  // namespace meshvpn::wg
