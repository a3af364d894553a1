// Device: the receive path. Handshake messages pass the load checks (device_load.cc) and are
// answered; transport messages are opened in place, checked against the replay window and the
// peer's allowed IPs, and delivered.
#include <cstring>

#include "meshvpn/wg/device.h"
#include "meshvpn/wg/inner_packet.h"

namespace meshvpn::wg {

void Device::HandleDatagram(PacketBuffer* buffer, const udp::Endpoint& from, MonoTime now) {
  ++stats_.datagrams_received;
  const ParsedMessage message = ParseMessage(buffer->span());
  if (!message.ok()) return Drop(buffer, DropReason::kMalformedMessage);
  if (!private_key_) return Drop(buffer, DropReason::kNoPrivateKey);
  switch (message.type) {
    case MessageType::kTransportData:
      return HandleTransport(buffer, from, now);
    case MessageType::kCookieReply:
      return HandleCookieReply(buffer, now);
    case MessageType::kHandshakeInitiation:
    case MessageType::kHandshakeResponse:
      return HandleHandshakeMessage(buffer, message.type, from, now);
  }
  Drop(buffer, DropReason::kMalformedMessage);
}

void Device::LearnEndpoint(Peer& peer, const udp::Endpoint& from) {
  if (peer.endpoint && *peer.endpoint == from) return;
  if (peer.endpoint) {
    options_.logger.Info("peer %s roamed: %s -> %s", peer.public_key.ToBase64(),
                         peer.endpoint->ToString(), from.ToString());
  }
  peer.endpoint = from;
  ++stats_.endpoint_changes;
}

void Device::HandleInitiation(PacketBuffer* buffer, const udp::Endpoint& from, MonoTime now) {
  absl::StatusOr<ResponderHandshake> handshake =
      ResponderHandshake::Consume(*private_key_, buffer->span(), options_.backend);
  if (!handshake.ok()) return Drop(buffer, DropReason::kHandshakeFailed);
  Peer* peer = PeerByKey(handshake->initiator_static());
  if (peer == nullptr) return Drop(buffer, DropReason::kUnknownPeer);
  if (!peer->timestamps.WouldAccept(handshake->timestamp())) {
    return Drop(buffer, DropReason::kReplayedInitiation);
  }
  if (peer->last_initiation_consumed &&
      now - *peer->last_initiation_consumed < kMinInitiationInterval) {
    return Drop(buffer, DropReason::kInitiationFlood);
  }
  (void)peer->timestamps.Accept(handshake->timestamp());
  peer->last_initiation_consumed = now;
  ++stats_.initiations_received;
  if (tracer_ != nullptr) {
    tracer_->OnHandshake(peer->public_key, HandshakeEvent::kInitiationReceived, from);
  }
  peer->rx_bytes += buffer->size();
  LearnEndpoint(*peer, from);
  peer->timers.OnAuthenticatedPacketTraversal(now);
  peer->timers.OnAuthenticatedPacketReceived(now);

  // Answer in the same buffer: the response (92 bytes) is smaller than the initiation.
  buffer->Reset();
  if (!buffer->SetSize(response::kSize)) return Drop(buffer, DropReason::kNoBufferRoom);
  const uint32_t index = indices_.Register({peer->id, nullptr});
  std::span<uint8_t, response::kSize> out(buffer->data(), response::kSize);
  absl::StatusOr<SessionKeys> keys = handshake->Respond(peer->preshared_key, index, out);
  if (!keys.ok()) {
    indices_.Unregister(index);
    return Drop(buffer, DropReason::kHandshakeFailed);
  }
  peer->cookies.AddMacs(buffer->span(), now);
  auto keypair = std::make_unique<Keypair>(*std::move(keys), now);
  indices_.Update(index, {peer->id, keypair.get()});
  KeypairSlots::Dropped dropped = peer->keypairs.Install(std::move(keypair));
  UnregisterKeypair(dropped.a);
  UnregisterKeypair(dropped.b);
  peer->timers.OnSessionDerived(now);
  peer->timers.OnAuthenticatedPacketTraversal(now);
  peer->timers.OnAnyAuthenticatedPacketSent(now);
  ++stats_.responses_sent;
  if (tracer_ != nullptr)
    tracer_->OnHandshake(peer->public_key, HandshakeEvent::kResponseSent, from);
  options_.logger.Debug("peer %s: initiation received from %s, response sent",
                        peer->public_key.ToBase64(), from.ToString());
  SendToPeer(*peer, buffer);
}

void Device::HandleResponse(PacketBuffer* buffer, const udp::Endpoint& from, MonoTime now) {
  const uint32_t receiver = ReadLe32(buffer->span(), response::kReceiverIndexOffset);
  const std::optional<IndexEntry> entry = indices_.Lookup(receiver);
  Peer* peer = entry ? PeerById(entry->peer) : nullptr;
  if (peer == nullptr || entry->keypair != nullptr || !peer->handshake ||
      peer->handshake->sender_index() != receiver) {
    return Drop(buffer, DropReason::kUnexpectedResponse);
  }
  absl::StatusOr<SessionKeys> keys = peer->handshake->ConsumeResponse(buffer->span());
  if (!keys.ok()) return Drop(buffer, DropReason::kHandshakeFailed);
  peer->handshake.reset();  // its index now names the session
  ++stats_.responses_received;
  if (tracer_ != nullptr) {
    tracer_->OnHandshake(peer->public_key, HandshakeEvent::kResponseReceived, from);
  }
  peer->rx_bytes += buffer->size();
  pool_->Release(buffer);
  LearnEndpoint(*peer, from);

  auto keypair = std::make_unique<Keypair>(*std::move(keys), now);
  indices_.Update(receiver, {peer->id, keypair.get()});
  KeypairSlots::Dropped dropped = peer->keypairs.Install(std::move(keypair));
  UnregisterKeypair(dropped.a);
  UnregisterKeypair(dropped.b);
  peer->timers.OnAuthenticatedPacketTraversal(now);
  peer->timers.OnAuthenticatedPacketReceived(now);
  peer->timers.OnSessionDerived(now);
  CompleteHandshake(*peer, now);
  // Confirm the session to the responder at once: queued packets, or a keepalive.
  SendKeepalive(*peer, now);
}

void Device::CompleteHandshake(Peer& peer, MonoTime now) {
  peer.timers.OnHandshakeComplete(now);
  peer.last_handshake = clock_->WallNow();
  ++stats_.handshakes_completed;
  options_.logger.Info("peer %s: handshake complete (%s)", peer.public_key.ToBase64(),
                       peer.endpoint ? peer.endpoint->ToString() : std::string("no endpoint"));
}

void Device::HandleCookieReply(PacketBuffer* buffer, MonoTime now) {
  const uint32_t receiver = ReadLe32(buffer->span(), cookie_reply::kReceiverIndexOffset);
  const std::optional<IndexEntry> entry = indices_.Lookup(receiver);
  Peer* peer = entry ? PeerById(entry->peer) : nullptr;
  if (peer == nullptr) return Drop(buffer, DropReason::kUnknownIndex);
  if (peer->cookies.ConsumeCookieReply(buffer->span(), now) != CookieGenerator::ReplyResult::kOk) {
    return Drop(buffer, DropReason::kBadCookieReply);
  }
  ++stats_.cookie_replies_received;
  if (tracer_ != nullptr && peer->endpoint) {
    tracer_->OnHandshake(peer->public_key, HandshakeEvent::kCookieReplyReceived, *peer->endpoint);
  }
  pool_->Release(buffer);
}

void Device::HandleTransport(PacketBuffer* buffer, const udp::Endpoint& from, MonoTime now) {
  const size_t datagram_size = buffer->size();
  const uint32_t receiver = ReadLe32(buffer->span(), transport::kReceiverIndexOffset);
  const uint64_t counter = ReadLe64(buffer->span(), transport::kCounterOffset);
  const std::optional<IndexEntry> entry = indices_.Lookup(receiver);
  if (!entry || entry->keypair == nullptr) return Drop(buffer, DropReason::kUnknownIndex);
  Keypair& keypair = *entry->keypair;
  if (!MayDecrypt(keypair.created, counter, now)) {
    return Drop(buffer, DropReason::kExpiredKeypair);
  }
  if (!keypair.replay.IsPlausible(counter)) return Drop(buffer, DropReason::kReplayedPacket);
  if (!buffer->TrimFront(transport::kHeaderSize)) {
    return Drop(buffer, DropReason::kMalformedMessage);
  }
  CryptoJob job;
  job.kind = CryptoJob::Kind::kOpen;
  job.buffer = buffer;
  job.aead = &keypair.receive;
  job.keypair = &keypair;
  job.counter = counter;
  job.receiver_index = receiver;
  job.datagram_size = static_cast<uint32_t>(datagram_size);
  job.endpoint = from;
  if (crypto_ == nullptr || crypto_->RunInline()) {
    RunCryptoJob(job);
    FinishOpen(job, now);
  } else {
    crypto_->Submit(job);
  }
}

void Device::FinishOpen(const CryptoJob& job, MonoTime now) {
  PacketBuffer* buffer = job.buffer;
  if (!job.ok) return Drop(buffer, DropReason::kDecryptFailed);
  const udp::Endpoint& from = job.endpoint;
  const uint64_t counter = job.counter;
  const size_t datagram_size = job.datagram_size;
  // When the job ran elsewhere, the session may have ended (its index gone or reused) since.
  const std::optional<IndexEntry> entry = indices_.Lookup(job.receiver_index);
  if (!entry || entry->keypair == nullptr || entry->keypair != job.keypair) {
    return Drop(buffer, DropReason::kUnknownIndex);
  }
  Keypair& keypair = *entry->keypair;
  if (!keypair.replay.CheckAndUpdate(counter)) return Drop(buffer, DropReason::kReplayedPacket);
  (void)buffer->TrimBack(kAeadTagSize);

  Peer& peer = *PeerById(entry->peer);
  peer.rx_bytes += datagram_size;
  LearnEndpoint(peer, from);
  if (&keypair == peer.keypairs.next()) {
    std::unique_ptr<Keypair> dropped;
    if (peer.keypairs.ConfirmNext(&keypair, &dropped)) {
      UnregisterKeypair(dropped);
      CompleteHandshake(peer, now);
      if (tracer_ != nullptr) {
        tracer_->OnHandshake(peer.public_key, HandshakeEvent::kSessionConfirmed, from);
      }
      SendStaged(peer, now);
    }
  }
  peer.timers.OnAuthenticatedPacketTraversal(now);
  peer.timers.OnAuthenticatedPacketReceived(now);
  if (Keypair* current = peer.keypairs.current();
      current == &keypair && peer.timers.ShouldRekeyOnReceive(current->usage(), now) &&
      !peer.handshake && peer.timers.InitiationAllowed(now)) {
    SendInitiation(peer, now, InitiationKind::kNew);
  }
  if (buffer->empty()) {
    if (tracer_ != nullptr) tracer_->OnOpened(peer.public_key, {}, counter, datagram_size, from);
    ++stats_.keepalives_received;
    pool_->Release(buffer);
    return;
  }
  const std::optional<InnerHeader> inner = ParseInnerHeader(buffer->span());
  if (!inner) return Drop(buffer, DropReason::kBadInnerPacket);
  const std::optional<AllowedIps::PeerId> owner = allowed_ips_.Lookup(inner->source);
  if (!owner || *owner != peer.id) return Drop(buffer, DropReason::kWrongSourceAddress);
  (void)buffer->TrimBack(buffer->size() - inner->total_length);  // the padding
  if (tracer_ != nullptr) {
    tracer_->OnOpened(peer.public_key, buffer->span(), counter, datagram_size, from);
  }
  peer.timers.OnDataReceived(now);
  ++stats_.packets_received;
  output_->DeliverPacket(buffer);
}

}  // namespace meshvpn::wg
