#include "meshvpn/wg/handshake.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

#include "meshvpn/base/status.h"

namespace meshvpn::wg {
namespace {

// The 108 Noise bytes of an initiation (e, s, timestamp) and the 48 of a response (e, empty).
constexpr size_t kInitiationNoiseSize = initiation::kMac1Offset - initiation::kEphemeralOffset;
constexpr size_t kResponseNoiseSize = response::kMac1Offset - response::kEphemeralOffset;
static_assert(kInitiationNoiseSize == 108 && kResponseNoiseSize == 48);

noise::HandshakeConfig BaseConfig(noise::Role role, const x25519::PrivateKey& local_static,
                                  CryptoBackend backend) {
  noise::HandshakeConfig config;
  config.pattern = noise::HandshakePattern::kIKpsk2;
  config.role = role;
  config.prologue = Bytes(kIdentifier.begin(), kIdentifier.end());
  config.local_static = local_static;
  config.backend = backend;
  return config;
}

absl::StatusOr<SessionKeys> Finish(noise::HandshakeState& state, uint32_t local_index,
                                   uint32_t remote_index, bool we_initiated) {
  MESHVPN_ASSIGN_OR_RETURN(noise::TransportState transport, state.Split());
  SessionKeys keys;
  MESHVPN_ASSIGN_OR_RETURN(keys.send, transport.send.TakeAead());
  MESHVPN_ASSIGN_OR_RETURN(keys.receive, transport.receive.TakeAead());
  keys.local_index = local_index;
  keys.remote_index = remote_index;
  keys.we_initiated = we_initiated;
  return keys;
}

void WriteHeader(MessageType type, MutableByteSpan out) {
  out[0] = static_cast<uint8_t>(type);
  out[1] = out[2] = out[3] = 0;
}

}  // namespace

absl::StatusOr<InitiatorHandshake> InitiatorHandshake::Start(
    const x25519::PrivateKey& local_static, const x25519::PublicKey& peer_static,
    const x25519::PresharedKey& psk, uint32_t sender_index, const Tai64n& timestamp,
    std::span<uint8_t, initiation::kSize> out, CryptoBackend backend) {
  noise::HandshakeConfig config = BaseConfig(noise::Role::kInitiator, local_static, backend);
  config.remote_static = peer_static;
  config.psk = psk;
  MESHVPN_ASSIGN_OR_RETURN(noise::HandshakeState state,
                           noise::HandshakeState::Create(std::move(config)));
  std::fill(out.begin(), out.end(), uint8_t{0});
  WriteHeader(MessageType::kHandshakeInitiation, out);
  WriteLe32(out, initiation::kSenderIndexOffset, sender_index);
  const Tai64n::Bytes12 stamp = timestamp.ToBytes();
  MESHVPN_ASSIGN_OR_RETURN(
      size_t written,
      state.WriteMessage(
          stamp, MutableByteSpan(out).subspan(initiation::kEphemeralOffset, kInitiationNoiseSize)));
  if (written != kInitiationNoiseSize) {
    return absl::InternalError("wg: the initiation came out the wrong size");
  }
  return InitiatorHandshake(std::move(state), sender_index);
}

absl::StatusOr<SessionKeys> InitiatorHandshake::ConsumeResponse(ByteSpan message) {
  HandshakeResponse parsed;
  if (Decode(message, &parsed) != MessageError::kOk) {
    return absl::InvalidArgumentError("wg: not a handshake response");
  }
  if (parsed.receiver_index != sender_index_) {
    return absl::InvalidArgumentError("wg: the response is for another handshake");
  }
  // Read on a copy: a forged response (its index is public, mac1 needs only our public key) must
  // not spend the handshake that the real response will complete.
  MESHVPN_ASSIGN_OR_RETURN(noise::HandshakeState attempt, state_.Clone());
  std::array<uint8_t, kResponseNoiseSize> payload{};
  MESHVPN_ASSIGN_OR_RETURN(
      size_t payload_size,
      attempt.ReadMessage(message.subspan(response::kEphemeralOffset, kResponseNoiseSize),
                          payload));
  if (payload_size != 0) return absl::InvalidArgumentError("wg: the response carries a payload");
  return Finish(attempt, sender_index_, parsed.sender_index, /*we_initiated=*/true);
}

absl::StatusOr<ResponderHandshake> ResponderHandshake::Consume(
    const x25519::PrivateKey& local_static, ByteSpan message, CryptoBackend backend) {
  HandshakeInitiation parsed;
  if (Decode(message, &parsed) != MessageError::kOk) {
    return absl::InvalidArgumentError("wg: not a handshake initiation");
  }
  noise::HandshakeConfig config = BaseConfig(noise::Role::kResponder, local_static, backend);
  config.psk = x25519::PresharedKey();  // the initiator's psk is set once we know who it is
  MESHVPN_ASSIGN_OR_RETURN(noise::HandshakeState state,
                           noise::HandshakeState::Create(std::move(config)));
  std::array<uint8_t, kInitiationNoiseSize> payload{};
  MESHVPN_ASSIGN_OR_RETURN(
      size_t payload_size,
      state.ReadMessage(message.subspan(initiation::kEphemeralOffset, kInitiationNoiseSize),
                        payload));
  if (payload_size != kTimestampSize || !state.remote_static().has_value()) {
    return absl::InvalidArgumentError("wg: the initiation carries no timestamp");
  }
  const Tai64n timestamp =
      Tai64n::FromBytes(std::span<const uint8_t, kTimestampSize>(payload.data(), kTimestampSize));
  const x25519::PublicKey initiator = *state.remote_static();
  return ResponderHandshake(std::move(state), initiator, timestamp, parsed.sender_index);
}

absl::StatusOr<SessionKeys> ResponderHandshake::Respond(const x25519::PresharedKey& psk,
                                                        uint32_t sender_index,
                                                        std::span<uint8_t, response::kSize> out) {
  MESHVPN_RETURN_IF_ERROR(state_.SetPresharedKey(psk));
  std::fill(out.begin(), out.end(), uint8_t{0});
  WriteHeader(MessageType::kHandshakeResponse, out);
  WriteLe32(out, response::kSenderIndexOffset, sender_index);
  WriteLe32(out, response::kReceiverIndexOffset, initiator_index_);
  MESHVPN_ASSIGN_OR_RETURN(
      size_t written, state_.WriteMessage({}, MutableByteSpan(out).subspan(
                                                  response::kEphemeralOffset, kResponseNoiseSize)));
  if (written != kResponseNoiseSize) {
    return absl::InternalError("wg: the response came out the wrong size");
  }
  return Finish(state_, sender_index, initiator_index_, /*we_initiated=*/false);
}

}  // namespace meshvpn::wg
